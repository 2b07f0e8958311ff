/* cli_growth.h - a capture's memory over time per site, symbolised, and its growth report (report --growth, check --no-growth). */
#ifndef LEAKLAB_CLI_GROWTH_H
#define LEAKLAB_CLI_GROWTH_H


#include "cli.h"
#include "capture_read.h"
#include "growth_report.h"

/* A capture's LINES section, its columns symbolised (the tracebacks in tbs, in column order). */
typedef struct ll__series_loaded {
  ll_cap_lines_t lines;
  ll_capture_t *cap; /* opened by ll__load_series when not given one */
  ll_snapshot_t *cols;
  const ll_traceback_t **tbs;
  ll__series_in_t in; /* ready for ll__series_by_site */
  struct ll__arena *arena;
} ll__series_loaded_t;
/* 0 (out filled), -1 when the file keeps no memory over time per line, or an exit status after
 * one error line (corrupt). native as for snapshots. cap: the open capture `path`, or NULL to
 * open it here; out->lines points into it (or into out->cap), so it outlives out. */
int ll__load_series(const char *path, const ll_capture_t *cap, int native,
                    ll__series_loaded_t *out);
void ll__series_loaded_free(ll__series_loaded_t *s);
/* The growth report of a loaded series (sites holding at least min_given bytes at their high;
 * min_given < 0: 1% of peak) to out; *ngrow (may be NULL): how many of those grow. 0, or an
 * exit status after an error line. */
int ll__emit_growth(const char *path, const ll__series_loaded_t *s, ll_group_t group,
                    int64_t min_given, ll_format_t format, FILE *out, size_t *ngrow);

/* The default judgement's threshold: a site is judged when its high reached 1% of the peak (the
 * highest of the series' points: the peak moment is one of them). report, check, run's summary
 * and the HTML chart's labels all use it. */
uint64_t ll__growth_default_min(const ll__series_in_t *in);

/* run's summary: when lines grow (default judgement), "leaklab: still growing at the end of the
 * run:" and their verdict lines on stderr; nothing otherwise, nor for a capture without the
 * series. */
void ll__print_growing(const char *path, const ll_capture_t *cap, int native);

#endif
