/* cmd_memcheck.c - `leaklab memcheck`: valgrind memcheck's leak summary beside leaklab's leaks. */
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
} leaks_t;

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
  return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void print_report(const char *label, ll__memcheck_t *mc, const leaks_t *lk, size_t top) {
  char a[32], b[32], line[1024];
  printf("[ memcheck vs leaklab: %s ]\n", label);
  printf("  %-30s %14s %10s\n", "memcheck's LEAK SUMMARY", "bytes", "blocks");
  for (int k = 0; k < LL__MC_KINDS; k++) {
    ll_format_size(a, sizeof a, (double)mc->bytes[k], 0);
    printf("  %-30s %14s %10" PRIu64 "   (%" PRIu64 " B)\n", ll__memcheck_kind_name[k], a, mc->blocks[k],
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
    printf("%s: size=%s, count=%" PRIu64 " (%s)", r->place, a, r->blocks, ll__memcheck_kind_name[r->kind]);
    uint64_t size, count;
    if (lk->stats != NULL) {
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
  return ll__valgrind_end(&v, status);
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
    "or a program that could not be recorded; 128+N when signal N killed the program (as\n"
    "'leaklab run').\n",
    run,
};
