/* cmd_memcheck.c - `leaklab memcheck`: valgrind memcheck's leak kinds beside leaklab's exit scan (its kinds per line) and leaks. */
#include "cli.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "memcheck_xml.h"
#include "scenario.h"
#include "symbolize.h"
#include "cli_valgrind.h"
#include "valgrind_run.h"

static const char *const verb = "memcheck";

/* ---- leaklab's side ---------------------------------------------------------------------- */

typedef struct leaks {
  ll_snapshot_t *snap; /* the leaks view (or the end view when the capture has none) */
  ll_stats_t *stats;
  uint64_t bytes, blocks, peak;
  ll__reach_load_t reach; /* the exit scan: found when the capture has one */
} leaks_t;

/* The exit scan's kinds were laid out in memcheck's order: one index for both. */
_Static_assert(LL_REACH_KINDS == LL__MC_KINDS, "leaklab's leak kinds are memcheck's four");

/* leaklab's bytes and blocks of one kind at file:line (the line of the program's own code each
 * traceback is attributed to, as memcheck's record is); 0 when no traceback is there. */
static int kind_at(const ll__reach_load_t *rl, const char *file, unsigned line, int kind,
                   uint64_t *bytes, uint64_t *blocks) {
  int found = 0;
  *bytes = *blocks = 0;
  if (!rl->found || file == NULL || file[0] == '\0') return 0;
  const ll_snapshot_t *end = rl->info.end;
  for (size_t i = 0; i < end->ntraces; i++) {
    const ll_traceback_t *tb = end->traces[i].traceback;
    if (tb == NULL || tb->nframe == 0) continue;
    const ll_frame_t *fr = &tb->frames[0];
    if (fr->lineno != line || strcmp(ll__base_name(fr->filename), ll__base_name(file)) != 0) continue;
    *bytes += rl->info.traces[i].bytes[kind];
    *blocks += rl->info.traces[i].blocks[kind];
    found = 1;
  }
  return found;
}

static int read_leaks(const char *path, leaks_t *lk) {
  ll_capture_t *cap = NULL;
  unsigned mask = 0;
  int status, rc;
  if ((status = ll__open_capture(path, &cap, &mask)) != 0) {
    ll_capture_close(cap);
    return status;
  }
  ll_at_t at = (mask & (1u << LL_AT_LEAKS)) ? LL_AT_LEAKS : LL_AT_END;
  /* Symbolised and attributed to the program's own lines, as `leaklab report` shows them. */
  rc = !(mask & (1u << at)) ? LL_ENOVIEW : ll_symbolize_capture(cap, at, 0, &lk->snap);
  ll_capture_close(cap);
  if (rc == LL_ENOVIEW && !(mask & (1u << at)))
    return ll__runtime_error(path, LL_ENOVIEW, " (no leaks or end view)");
  if (rc < 0 || (rc = ll_snapshot_statistics(lk->snap, LL_GROUP_LINENO, 0, &lk->stats)) < 0)
    return ll__runtime_error(path, rc, NULL);
  for (size_t i = 0; i < lk->snap->ntraces; i++) {
    lk->bytes += lk->snap->traces[i].size;
    lk->blocks += lk->snap->traces[i].count;
  }
  lk->peak = lk->snap->peak_bytes;
  /* Own-code attribution, as the loss records are attributed (memcheck_xml.h). */
  return ll__load_reach(path, 0, &lk->reach);
}

/* ---- output ------------------------------------------------------------------------------ */

static void print_report(const char *label, ll__memcheck_t *mc, const leaks_t *lk, size_t top) {
  char a[32], b[32], line[1024];
  const ll__reach_load_t *rl = &lk->reach;
  printf("[ memcheck vs leaklab: %s ]\n", label);
  if (rl->found) {
    /* Both sides' four kinds: memcheck's LEAK SUMMARY and leaklab's exit scan. */
    printf("  %-18s %14s %10s %14s   | %14s %10s %14s\n", "leak kind", "memcheck", "blocks", "bytes",
           "leaklab", "blocks", "bytes");
    int same = 1;
    for (int k = 0; k < LL__MC_KINDS; k++) {
      ll_format_size(a, sizeof a, (double)mc->bytes[k], 0);
      ll_format_size(b, sizeof b, (double)rl->info.total.bytes[k], 0);
      printf("  %-18s %14s %10" PRIu64 " %14" PRIu64 "   | %14s %10" PRIu64 " %14" PRIu64 "\n",
             ll__memcheck_kind_name[k], a, mc->blocks[k], mc->bytes[k], b,
             rl->info.total.blocks[k], rl->info.total.bytes[k]);
      same &= mc->bytes[k] == rl->info.total.bytes[k] && mc->blocks[k] == rl->info.total.blocks[k];
    }
    /* Whole-program totals can differ where the lines agree: memcheck runs libc's
     * __libc_freeres at exit, which frees libc's own buffers that leaklab sees live. */
    if (same) {
      puts("  memcheck and leaklab agree on all four kinds");
    } else {
      uint64_t mb = 0, mn = 0, lb = 0, ln = 0;
      for (int k = 0; k < LL__MC_KINDS; k++) {
        mb += mc->bytes[k], mn += mc->blocks[k];
        lb += rl->info.total.bytes[k], ln += rl->info.total.blocks[k];
      }
      printf("  the totals differ (leaklab %+" PRId64 " B in %+" PRId64 " blocks): memcheck frees "
             "libc's own memory at exit (--run-libc-freeres), leaklab sees it live; the loss "
             "records below compare the program's lines\n",
             (int64_t)(lb - mb), (int64_t)(ln - mn));
    }
  } else {
    printf("  %-30s %14s %10s\n", "memcheck's LEAK SUMMARY", "bytes", "blocks");
    for (int k = 0; k < LL__MC_KINDS; k++) {
      ll_format_size(a, sizeof a, (double)mc->bytes[k], 0);
      printf("  %-30s %14s %10" PRIu64 "   (%" PRIu64 " B)\n", ll__memcheck_kind_name[k], a,
             mc->blocks[k], mc->bytes[k]);
    }
  }
  if (mc->other_errors > 0)
    printf("  (memcheck also reported %" PRIu64 " errors that are not leaks)\n", mc->other_errors);
  if (lk->snap != NULL && !rl->found) {
    ll_format_size(a, sizeof a, (double)lk->bytes, 0);
    printf("  %-30s %14s %10" PRIu64 "   (%" PRIu64 " B)\n",
           lk->snap->at == LL_AT_LEAKS ? "leaklab: never freed (leaks)" : "leaklab: live at exit",
           a, lk->blocks, lk->bytes);
    uint64_t all = 0;
    for (int k = 0; k < LL__MC_KINDS; k++) all += mc->bytes[k];
    printf("  %-30s %s\n", "", all == lk->bytes ? "memcheck's four kinds add up to leaklab's leaks"
                                                : "memcheck's four kinds and leaklab's leaks differ");
  }

  ll__memcheck_sort(mc);
  size_t shown = top > 0 && mc->nrecords > top ? top : mc->nrecords;
  printf("[ Top %zu of memcheck's %zu loss records ]\n", shown, mc->nrecords);
  for (size_t i = 0; i < shown; i++) {
    const ll__mc_record_t *r = &mc->records[i];
    ll_format_size(a, sizeof a, (double)r->bytes, 0);
    printf("%s: size=%s, count=%" PRIu64 " (%s", r->place, a, r->blocks, ll__memcheck_kind_name[r->kind]);
    if (r->indirect > 0) {
      ll_format_size(b, sizeof b, (double)r->indirect, 0);
      printf(", and %s indirectly lost it points to", b);
    }
    putchar(')');
    uint64_t size, count;
    if (rl->found) {
      /* The same line's blocks of the same kind, by leaklab's scan. */
      if (kind_at(rl, r->file, r->line, r->kind, &size, &count)) {
        ll_format_size(b, sizeof b, (double)size, 0);
        printf("   | leaklab: size=%s, count=%" PRIu64 "%s", b, count,
               size == r->bytes && count == r->blocks ? "" : " (differs)");
      } else {
        fputs("   | leaklab: -", stdout);
      }
    } else if (lk->stats != NULL) {
      if (ll__valgrind_leaklab_at(lk->stats, r->file, r->line, &size, &count)) {
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
  uint64_t kept = mc->bytes[LL__MC_REACHABLE] + mc->bytes[LL__MC_POSSIBLE] + (lk->snap ? lk->bytes : 0);
  if (mc->bytes[LL__MC_DEFINITE] == 0 && kept > 0) {
    ll_format_size(a, sizeof a, (double)mc->bytes[LL__MC_REACHABLE], 0);
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


static char *const memcheck_opts[] = {"--leak-check=full", "--show-leak-kinds=all", "--xml=yes"};

static int run(int argc, char **argv) {
  int status, rc;
  ll__valgrind_run_t v;
  ll__memcheck_t mc;
  leaks_t lk;
  char xml_path[PATH_MAX + 32];
  const char *what = NULL;

  memset(&mc, 0, sizeof mc);
  memset(&lk, 0, sizeof lk);
  if ((status = ll__valgrind_begin(&v, verb, "xml", ll__verb_memcheck.help, argc, argv)) != 0)
    return status < 0 ? LL__EXIT_OK : status;
  const char *xml = v.rq.existing;
  if (xml == NULL) {
    double seconds;
    if ((status = ll__valgrind_tool(&v, verb, "10-50x", "memcheck.xml", "--xml-file=",
                                    memcheck_opts, sizeof memcheck_opts / sizeof memcheck_opts[0],
                                    xml_path, sizeof xml_path, &seconds)) != 0)
      goto cleanup;
    xml = xml_path;
  }
  if ((rc = ll__memcheck_parse_file(xml, &mc, &what)) != 0) {
    status = ll__runtime_error(xml, rc, what);
    goto cleanup;
  }
  ll__valgrind_record(&v, verb);
  if (v.capture != NULL && (status = read_leaks(v.capture, &lk)) != 0) goto cleanup;

  print_report(v.target.label != NULL ? v.target.label : xml, &mc, &lk, (size_t)v.rq.top);
  if (v.target.argv != NULL)
    printf("files: %s%s%s\n", xml, v.record_failed ? "" : " ", v.record_failed ? "" : v.cap);

cleanup:
  ll__memcheck_free(&mc);
  ll_stats_free(lk.stats);
  ll_snapshot_free(lk.snap);
  ll__reach_load_free(&lk.reach);
  return ll__valgrind_end(&v, status);
}

const ll__verb_t ll__verb_memcheck = {
    "memcheck",
    "(SCENARIO[:VARIANT] | -- PROGRAM [ARGS...]) [OPTIONS]",
    "run under valgrind memcheck; its leak kinds beside leaklab's, per line, for the same program",
    "usage: leaklab memcheck SCENARIO[:VARIANT] [--scale F] [-o DIR] [--top N] [--allocator NAME]\n"
    "       leaklab memcheck [-o DIR] [--top N] [--allocator NAME] -- PROGRAM [ARGS...]\n"
    "       leaklab memcheck --xml MEMCHECK_XML [--capture CAPTURE] [--top N]\n"
    "\n"
    "Runs the program under valgrind memcheck (--leak-check=full --show-leak-kinds=all\n"
    "--xml=yes), keeps memcheck.xml under reports/NAME/, records the same program with\n"
    "'leaklab run', and prints memcheck's leak summary (definitely, indirectly, possibly lost,\n"
    "still reachable: bytes and blocks) beside the same four kinds from leaklab's exit scan,\n"
    "and each loss record beside leaklab's blocks of that kind at that line. A definitely\n"
    "lost record counts only its own blocks' bytes (memcheck's \"direct\"); what they point to\n"
    "is counted once, as indirectly lost, as memcheck's summary counts it. memcheck frees\n"
    "libc's own buffers at exit (--run-libc-freeres), so the totals may differ by those while\n"
    "the program's lines agree. A capture without the exit scan is compared with leaklab's\n"
    "leaks instead. When memcheck finds nothing definitely lost but memory was kept to the\n"
    "end, it explains why: memory still pointed to at exit (a cache) is \"still reachable\",\n"
    "not a leak to memcheck.\n"
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
    "or a program that could not be recorded; 128+N when signal N killed the program (as\n"
    "'leaklab run').\n",
    run,
};
