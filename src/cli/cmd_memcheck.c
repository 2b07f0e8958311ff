/* cmd_memcheck.c - `leaklab memcheck`: valgrind memcheck's leak summary beside leaklab's leaks. */
#include "cli.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario.h"
#include "symbolize.h"
#include "cli_valgrind.h"
#include "valgrind_run.h"

static const char *const verb = "memcheck";

/* snprintf into a fixed field, cut when too long (names in loss records can be). */
__attribute__((format(printf, 3, 4))) static void put(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* memcheck's leak kinds, in the order its LEAK SUMMARY prints them. */
enum { K_DEFINITE, K_INDIRECT, K_POSSIBLE, K_REACHABLE, K_COUNT };
static const char *const kind_xml[K_COUNT] = {"Leak_DefinitelyLost", "Leak_IndirectlyLost",
                                              "Leak_PossiblyLost", "Leak_StillReachable"};
static const char *const kind_name[K_COUNT] = {"definitely lost", "indirectly lost",
                                               "possibly lost", "still reachable"};

/* One loss record, attributed to the first frame outside the allocator and libc. */
typedef struct record {
  int kind;
  uint64_t bytes, blocks;
  char place[256];
  char file[128];
  unsigned line;
} record_t;

typedef struct memcheck {
  uint64_t bytes[K_COUNT], blocks[K_COUNT];
  uint64_t other_errors; /* errors that are not leaks: invalid reads, ... */
  record_t *records;
  size_t nrecords, cap;
} memcheck_t;

/* ---- memcheck's XML (the subset its leak records use) ----------------------------------- */

/* The text of the first <tag>...</tag> inside [s, end), entities decoded, into out; 0 if none. */
static int xml_text(const char *s, const char *end, const char *tag, char *out, size_t len) {
  char open[64], close[64];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  const char *a = memmem(s, (size_t)(end - s), open, strlen(open));
  if (a == NULL) return 0;
  a += strlen(open);
  const char *b = memmem(a, (size_t)(end - a), close, strlen(close));
  if (b == NULL) return 0;
  size_t k = 0;
  for (const char *p = a; p < b && k + 1 < len; p++) {
    static const struct {
      const char *ent;
      char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    char c = *p;
    if (c == '&')
      for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
        size_t el = strlen(ents[e].ent);
        if ((size_t)(b - p) >= el && memcmp(p, ents[e].ent, el) == 0) {
          c = ents[e].c;
          p += el - 1;
          break;
        }
      }
    out[k++] = c;
  }
  out[k] = '\0';
  return 1;
}

static int parse_u64_text(const char *s, uint64_t *out) {
  char *end;
  if (s[0] < '0' || s[0] > '9') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0') return -1;
  *out = v;
  return 0;
}

/* Not the program's own code, by leaklab's rule (the symboliser's): valgrind's replacement
 * allocator and libraries installed under the system directories (libc, libstdc++, GMP). */
static int frame_is_system(const char *fn, const char *obj, const char *file) {
  static const char *const dirs[] = {"/lib/",  "/lib64/",   "/lib32/",     "/usr/lib/",
                                     "/usr/lib64/", "/usr/lib32/", "/usr/libexec/"};
  (void)fn;
  if (strstr(obj, "vgpreload") != NULL || strcmp(file, "vg_replace_malloc.c") == 0) return 1;
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (strncmp(obj, dirs[i], strlen(dirs[i])) == 0) return 1;
  return 0;
}

static void attribute(const char *stack, const char *end, record_t *r) {
  const char *p = stack;
  put(r->place, sizeof r->place, "???");
  r->file[0] = '\0';
  r->line = 0;
  int first = 1;
  while ((p = memmem(p, (size_t)(end - p), "<frame>", 7)) != NULL) {
    const char *fe = memmem(p, (size_t)(end - p), "</frame>", 8);
    if (fe == NULL) break;
    char fn[256] = "???", obj[256] = "", file[128] = "", line[32] = "";
    xml_text(p, fe, "fn", fn, sizeof fn);
    xml_text(p, fe, "obj", obj, sizeof obj);
    xml_text(p, fe, "file", file, sizeof file);
    xml_text(p, fe, "line", line, sizeof line);
    p = fe + 8;
    /* Keep the first frame in case every frame is a system one. */
    if (!first && frame_is_system(fn, obj, file)) continue;
    if (file[0] != '\0' && line[0] != '\0')
      put(r->place, sizeof r->place, "%s:%s", file, line);
    else if (obj[0] != '\0')
      put(r->place, sizeof r->place, "%s (in %s)", fn,
               strrchr(obj, '/') != NULL ? strrchr(obj, '/') + 1 : obj);
    else
      put(r->place, sizeof r->place, "%s", fn);
    put(r->file, sizeof r->file, "%s", file);
    r->line = (unsigned)strtoul(line, NULL, 10);
    if (!frame_is_system(fn, obj, file)) break;
    first = 0;
  }
}

/* Read memcheck's XML file; 0, or an exit status after one error line. */
static int read_memcheck_xml(const char *path, memcheck_t *mc) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0;
  int status = 0;
  if (f == NULL) return ll__runtime_error(path, LL_ENOENT, NULL);
  FILE *mem = open_memstream(&buf, &len);
  char chunk[65536];
  size_t n;
  while (mem != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, mem);
  fclose(f);
  if (mem == NULL || fclose(mem) != 0) return ll__runtime_error(path, LL_ENOMEM, NULL);

  const char *end = buf + len;
  /* A file memcheck finished writing closes its root element. */
  if (memmem(buf, len, "<valgrindoutput>", 16) == NULL ||
      memmem(buf, len, "</valgrindoutput>", 17) == NULL) {
    status = ll__runtime_error(path, LL_ETRUNC, ": not a complete memcheck XML file");
    goto cleanup;
  }
  for (const char *p = buf; (p = memmem(p, (size_t)(end - p), "<error>", 7)) != NULL;) {
    const char *e = memmem(p, (size_t)(end - p), "</error>", 8);
    if (e == NULL) {
      status = ll__runtime_error(path, LL_ECORRUPT, ": an <error> element is not closed");
      goto cleanup;
    }
    char kind[64] = "", bytes[32] = "", blocks[32] = "";
    xml_text(p, e, "kind", kind, sizeof kind);
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
      if (strcmp(kind, kind_xml[i]) == 0) k = i;
    if (k < 0) {
      mc->other_errors++;
      p = e + 8;
      continue;
    }
    record_t r;
    memset(&r, 0, sizeof r);
    r.kind = k;
    if (!xml_text(p, e, "leakedbytes", bytes, sizeof bytes) ||
        !xml_text(p, e, "leakedblocks", blocks, sizeof blocks) ||
        parse_u64_text(bytes, &r.bytes) != 0 || parse_u64_text(blocks, &r.blocks) != 0) {
      status = ll__runtime_error(path, LL_ECORRUPT, ": a leak record without its sizes");
      goto cleanup;
    }
    const char *stack = memmem(p, (size_t)(e - p), "<stack>", 7);
    if (stack != NULL) attribute(stack, e, &r);
    else put(r.place, sizeof r.place, "???");
    mc->bytes[k] += r.bytes;
    mc->blocks[k] += r.blocks;
    if (mc->nrecords == mc->cap) {
      size_t ncap = mc->cap ? mc->cap * 2 : 32;
      record_t *grown = realloc(mc->records, ncap * sizeof *grown);
      if (grown == NULL) {
        status = ll__runtime_error(path, LL_ENOMEM, NULL);
        goto cleanup;
      }
      mc->records = grown;
      mc->cap = ncap;
    }
    mc->records[mc->nrecords++] = r;
    p = e + 8;
  }

cleanup:
  free(buf);
  return status;
}

static int cmp_record(const void *x, const void *y) {
  const record_t *a = x, *b = y;
  if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
  return a->kind - b->kind;
}

/* ---- leaklab's side ---------------------------------------------------------------------- */

typedef struct leaks {
  ll_snapshot_t *snap; /* the leaks view (or the end view when the capture has none) */
  ll_stats_t *stats;
  uint64_t bytes, blocks, peak;
} leaks_t;

static int read_leaks(const char *path, leaks_t *lk) {
  unsigned mask = 0;
  int status, rc;
  if ((status = ll__file_views(path, &mask)) != 0) return status;
  ll_at_t at = (mask & (1u << LL_AT_LEAKS)) ? LL_AT_LEAKS : LL_AT_END;
  if (!(mask & (1u << at))) return ll__runtime_error(path, LL_ENOVIEW, " (no leaks or end view)");
  /* Symbolised and attributed to the program's own lines, as `leaklab report` shows them. */
  if ((rc = ll_symbolize_load(path, at, 0, &lk->snap)) < 0 ||
      (rc = ll_snapshot_statistics(lk->snap, LL_GROUP_LINENO, 0, &lk->stats)) < 0)
    return ll__runtime_error(path, rc, NULL);
  for (size_t i = 0; i < lk->snap->ntraces; i++) {
    lk->bytes += lk->snap->traces[i].size;
    lk->blocks += lk->snap->traces[i].count;
  }
  lk->peak = lk->snap->peak_bytes;
  return 0;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s != NULL ? s + 1 : p;
}

static int leaklab_at(const leaks_t *lk, const record_t *r, uint64_t *size, uint64_t *count) {
  int found = 0;
  *size = *count = 0;
  if (lk->stats == NULL || r->file[0] == '\0') return 0;
  for (size_t i = 0; i < lk->stats->len; i++) {
    const ll_stat_t *st = &lk->stats->items[i];
    if (st->traceback == NULL || st->traceback->nframe == 0) continue;
    const ll_frame_t *fr = &st->traceback->frames[0];
    if (fr->lineno == r->line && strcmp(base_name(fr->filename), base_name(r->file)) == 0) {
      *size += st->size;
      *count += st->count;
      found = 1;
    }
  }
  return found;
}

/* ---- output ------------------------------------------------------------------------------ */

static void print_report(const char *label, memcheck_t *mc, const leaks_t *lk, size_t top) {
  char a[32], b[32], line[1024];
  printf("[ memcheck vs leaklab: %s ]\n", label);
  printf("  %-30s %14s %10s\n", "memcheck's LEAK SUMMARY", "bytes", "blocks");
  for (int k = 0; k < K_COUNT; k++) {
    ll_format_size(a, sizeof a, (double)mc->bytes[k], 0);
    printf("  %-30s %14s %10" PRIu64 "   (%" PRIu64 " B)\n", kind_name[k], a, mc->blocks[k],
           mc->bytes[k]);
  }
  if (mc->other_errors > 0)
    printf("  (memcheck also reported %" PRIu64 " errors that are not leaks)\n", mc->other_errors);
  if (lk->snap != NULL) {
    ll_format_size(a, sizeof a, (double)lk->bytes, 0);
    printf("  %-30s %14s %10" PRIu64 "   (%" PRIu64 " B)\n",
           lk->snap->at == LL_AT_LEAKS ? "leaklab: never freed (leaks)" : "leaklab: live at exit",
           a, lk->blocks, lk->bytes);
    uint64_t all = 0;
    for (int k = 0; k < K_COUNT; k++) all += mc->bytes[k];
    printf("  %-30s %s\n", "", all == lk->bytes ? "memcheck's four kinds add up to leaklab's leaks"
                                                : "memcheck's four kinds and leaklab's leaks differ");
  }

  qsort(mc->records, mc->nrecords, sizeof *mc->records, cmp_record);
  size_t shown = top > 0 && mc->nrecords > top ? top : mc->nrecords;
  printf("[ Top %zu of memcheck's %zu loss records ]\n", shown, mc->nrecords);
  for (size_t i = 0; i < shown; i++) {
    const record_t *r = &mc->records[i];
    ll_format_size(a, sizeof a, (double)r->bytes, 0);
    printf("%s: size=%s, count=%" PRIu64 " (%s)", r->place, a, r->blocks, kind_name[r->kind]);
    uint64_t size, count;
    if (lk->stats != NULL) {
      if (leaklab_at(lk, r, &size, &count)) {
        ll_format_size(b, sizeof b, (double)size, 0);
        printf("   | leaklab: size=%s, count=%" PRIu64, b, count);
      } else {
        fputs("   | leaklab: -", stdout);
      }
    }
    putchar('\n');
  }
  if (mc->nrecords > shown) printf("...and %zu more\n", mc->nrecords - shown);

  if (lk->stats != NULL) {
    size_t n = top > 0 && lk->stats->len > top ? top : lk->stats->len;
    printf("[ Top %zu lines leaklab reports %s ]\n", n,
           lk->snap->at == LL_AT_LEAKS ? "leaked" : "live at exit");
    for (size_t i = 0; i < n; i++) {
      ll_format_stat(line, sizeof line, &lk->stats->items[i], 0);
      printf("%s\n", line);
    }
    if (lk->stats->len > n) printf("...and %zu more\n", lk->stats->len - n);
  }

  /* The lesson: memory a program still points to at exit is no leak to memcheck. */
  uint64_t kept = mc->bytes[K_REACHABLE] + mc->bytes[K_POSSIBLE] + (lk->snap ? lk->bytes : 0);
  if (mc->bytes[K_DEFINITE] == 0 && kept > 0) {
    ll_format_size(a, sizeof a, (double)mc->bytes[K_REACHABLE], 0);
    ll_format_size(b, sizeof b, (double)(lk->snap ? lk->peak : 0), 0);
    printf("\nWhy memcheck finds no leak: memcheck calls memory \"definitely lost\" only when no "
           "pointer to it is left at exit. This program still holds %s it never freed (\"still "
           "reachable\"), e.g. a cache kept in a global table: every entry is reachable, so "
           "memcheck does not call it a leak, although the memory grew with the work done%s%s%s. "
           "Growth has to be seen another way: the peak and the lines holding memory at the peak "
           "('leaklab run', 'leaklab massif'), snapshots compared over time ('leaklab diff'), or a "
           "limit on the peak ('leaklab check --limit-memory').\n",
           a, lk->snap ? " (leaklab's peak: " : "", lk->snap ? b : "", lk->snap ? ")" : "");
  }
}


static int run_memcheck(const ll__target_t *t, const char *dir, char *xml, size_t xml_len) {
  char valgrind[PATH_MAX], log[PATH_MAX], xml_opt[PATH_MAX + 16], st[96];
  int status = 0, rc, n;
  double seconds = 0;
  struct stat sb;

  if ((rc = ll__find_program("valgrind", valgrind, sizeof valgrind)) != 0)
    return ll__runtime_error("valgrind", LL_ENOENT, LL__VALGRIND_HINT);
  n = snprintf(xml, xml_len, "%s/memcheck.xml", dir);
  if (n < 0 || (size_t)n >= xml_len || (n = snprintf(log, sizeof log, "%s/memcheck.log", dir)) < 0 ||
      (size_t)n >= sizeof log || (n = snprintf(xml_opt, sizeof xml_opt, "--xml-file=%s", xml)) < 0 ||
      (size_t)n >= sizeof xml_opt)
    return ll__runtime_error(dir, LL_EINVAL, " (path too long)");
  unlink(xml);
  char *fixed[] = {valgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=all",
                   "--xml=yes", xml_opt};
  size_t nfixed = sizeof fixed / sizeof fixed[0];
  char **argv = calloc(nfixed + (size_t)t->argc + 1, sizeof *argv);
  if (argv == NULL) return ll__runtime_error("leaklab", LL_ENOMEM, NULL);
  memcpy(argv, fixed, sizeof fixed);
  for (int i = 0; i < t->argc; i++) argv[nfixed + (size_t)i] = t->argv[i];
  fprintf(stderr, "leaklab memcheck: running %s under valgrind memcheck (10-50x slower; log: %s)\n",
          t->label, log);
  rc = ll__run_logged(argv, log, verb, "valgrind memcheck still running", 3.0, &status, &seconds);
  free(argv);
  if (rc != 0) return ll__runtime_error(valgrind, rc, NULL);
  ll__describe_status(status, st, sizeof st);
  if (stat(xml, &sb) != 0 || sb.st_size == 0) {
    fprintf(stderr, "leaklab: %s: valgrind %s and wrote no memcheck.xml (see %s)\n", t->label, st,
            log);
    return LL__EXIT_RUNTIME;
  }
  fprintf(stderr, "leaklab memcheck: valgrind done in %.1f s, program %s\n", seconds, st);
  return 0;
}


static int run(int argc, char **argv) {
  int status = LL__EXIT_OK, record_failed = 0;
  ll__target_t target;
  memcheck_t mc;
  leaks_t lk;
  char dir[PATH_MAX], xml_path[PATH_MAX], cap[PATH_MAX], msg[PATH_MAX + 256];
  double leaklab_s = 0;

  memset(&target, 0, sizeof target);
  memset(&mc, 0, sizeof mc);
  memset(&lk, 0, sizeof lk);
  ll__valgrind_request_t rq;
  if ((status = ll__valgrind_parse(verb, "xml", ll__verb_memcheck.help, argc, argv, &rq)) != 0)
    return status < 0 ? LL__EXIT_OK : status;
  const char *xml = rq.existing, *capture = rq.capture;
  uint64_t top = rq.top;
  if (xml == NULL) {
    if ((status = ll__valgrind_prepare(verb, &rq, &target, dir, sizeof dir)) != 0) return status;
    if ((status = run_memcheck(&target, dir, xml_path, sizeof xml_path)) != 0) goto cleanup;
    xml = xml_path;
  }
  if ((status = read_memcheck_xml(xml, &mc)) != 0) goto cleanup;
  if (target.argv != NULL) {
    if (ll__record_leaklab(&target, dir, verb, cap, sizeof cap, &leaklab_s, msg, sizeof msg) != 0)
      record_failed = 1;
    else
      capture = cap;
  }
  if (capture != NULL && (status = read_leaks(capture, &lk)) != 0) goto cleanup;

  print_report(target.label != NULL ? target.label : xml, &mc, &lk, (size_t)top);
  if (target.argv != NULL) printf("files: %s%s%s\n", xml, capture ? " " : "", capture ? cap : "");
  if (fflush(stdout) != 0) status = ll__runtime_error("<stdout>", LL_EIO, NULL);
  if (record_failed) {
    fprintf(stderr, "leaklab: %s: %s\n", target.label, msg);
    status = LL__EXIT_RUNTIME;
  }

cleanup:
  free(mc.records);
  if (lk.stats != NULL) ll_stats_free(lk.stats);
  if (lk.snap != NULL) ll_snapshot_free(lk.snap);
  ll__target_free(&target);
  return status;
}

const ll__verb_t ll__verb_memcheck = {
    "memcheck",
    "(SCENARIO[:VARIANT] | -- PROGRAM [ARGS...]) [OPTIONS]",
    "run under valgrind memcheck; its leak summary beside leaklab's leaks for the same program",
    "usage: leaklab memcheck SCENARIO[:VARIANT] [--scale F] [-o DIR] [--top N] [--allocator NAME]\n"
    "       leaklab memcheck [-o DIR] [--top N] [--allocator NAME] -- PROGRAM [ARGS...]\n"
    "       leaklab memcheck --xml MEMCHECK_XML [--capture CAPTURE] [--top N]\n"
    "\n"
    "Runs the program under valgrind memcheck (--leak-check=full --show-leak-kinds=all\n"
    "--xml=yes), keeps memcheck.xml under reports/NAME/, records the same program with\n"
    "'leaklab run', and prints memcheck's leak summary (definitely, indirectly, possibly lost,\n"
    "still reachable: bytes and blocks) and its loss records beside leaklab's leaks. When\n"
    "memcheck finds nothing definitely lost but memory was kept to the end, it explains why:\n"
    "memory still pointed to at exit (a cache) is \"still reachable\", not a leak to memcheck.\n"
    "\n"
    "options:\n"
    "  --scale F          lessons only: shrink the problem, 0 < F <= 1\n"
    "  -o, --output DIR   where memcheck.xml, leaklab.capture and the logs go\n"
    "                     (default reports/SCENARIO-VARIANT or reports/PROGRAM)\n"
    "  --top N            loss records and lines to show (default 10, 0: all)\n"
    "  --xml FILE         read an existing memcheck XML file instead of running valgrind\n"
    "  --capture CAPTURE  with --xml: compare with this leaklab capture\n"
    "  --allocator NAME   glibc (default) or jemalloc for leaklab's recording; memcheck always\n"
    "                     runs the program on valgrind's own malloc (it replaces the\n"
    "                     program's allocator), so jemalloc plays no part on its side\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 done, 2 usage error, 3 valgrind missing or failed, an unreadable file,\n"
    "or a program that could not be recorded.\n",
    run,
};
