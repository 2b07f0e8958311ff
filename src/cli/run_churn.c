/* run_churn.c - the run summary's churn hint: the lines that allocate most often, when allocations vastly outnumber the blocks live at the peak. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>

#include "symbolize.h"

/* "Vastly": at least this many allocations, and this many per block live at the peak. */
#define CHURN_MIN_ALLOCATIONS 10000
#define CHURN_RATIO 100
#define CHURN_LINES 3

static const ll_stats_t *g_sort_stats; /* qsort has no context argument */

static int by_count(const void *x, const void *y) {
  const ll_stat_t *a = &g_sort_stats->items[*(const size_t *)x];
  const ll_stat_t *b = &g_sort_stats->items[*(const size_t *)y];
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  if (a->size != b->size) return a->size > b->size ? -1 : 1;
  return *(const size_t *)x < *(const size_t *)y ? -1 : 1; /* the statistics' own order */
}

int ll__print_churn(FILE *out, const char *cap, int native, const ll_snapshot_t *peak) {
  ll_snapshot_t *raw = NULL, *all = NULL;
  ll_stats_t *stats = NULL;
  size_t *order = NULL;
  uint64_t total = 0, live = 0;
  unsigned mask = 0;
  int rc = 0;

  /* Captures written before this view existed, and plain snapshot files, have no hint. */
  if (ll_snapshot_file_views(cap, &mask) != 0 || !(mask & (1u << LL_AT_ALLOCATIONS))) return 0;
  for (size_t i = 0; i < peak->ntraces; i++) live += peak->traces[i].count;
  /* Counted on the raw view first: symbolising every allocation site costs time a run
   * without churn should not pay. */
  if ((rc = ll_snapshot_load(cap, LL_AT_ALLOCATIONS, &raw)) != 0) goto cleanup;
  for (size_t i = 0; i < raw->ntraces; i++) total += raw->traces[i].count;
  if (total < CHURN_MIN_ALLOCATIONS || total / CHURN_RATIO < (live ? live : 1)) goto cleanup;

  if ((rc = ll_symbolize_load(cap, LL_AT_ALLOCATIONS, native, &all)) != 0 ||
      (rc = ll_snapshot_statistics(all, LL_GROUP_LINENO, 0, &stats)) != 0)
    goto cleanup;
  if ((order = malloc((stats->len + 1) * sizeof *order)) == NULL) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  for (size_t i = 0; i < stats->len; i++) order[i] = i;
  g_sort_stats = stats;
  qsort(order, stats->len, sizeof *order, by_count);
  fprintf(out, "leaklab: churn: %" PRIu64 " allocations for %" PRIu64 " blocks live at the peak; "
          "most allocations by line ('leaklab report %s --at allocations'):\n", total, live, cap);
  for (size_t i = 0; i < stats->len && i < CHURN_LINES; i++) {
    char line[1024];
    ll_format_stat(line, sizeof line, &stats->items[order[i]], 0);
    fprintf(out, "  %s\n", line);
  }
cleanup:
  free(order);
  ll_stats_free(stats);
  ll_snapshot_free(all);
  ll_snapshot_free(raw);
  return rc;
}
