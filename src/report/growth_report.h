/* growth_report.h - memory over time grouped by site (line, file or traceback), its growth verdicts, and their text and JSON. */
#ifndef LEAKLAB_GROWTH_REPORT_H
#define LEAKLAB_GROWTH_REPORT_H
/*
 * Contract: reads a decoded series (the capture's LINES section with its columns symbolised);
 * never touches tracking. Sites are grouped as statistics group them (lineno: file and line of
 * the first frame; filename: the file; traceback: every frame), their bytes summed per point.
 * Functions returning int return 0 or a negative LL_E* code.
 */
#include <stdint.h>
#include <stdio.h>

#include <leaklab/leaklab.h>
#include <leaklab/report.h>

#include "growth.h"

/* Memory over time per column, as the capture keeps it. */
typedef struct ll__series_in {
  size_t npts, ncols;
  const uint64_t *clock, *t_ns, *total; /* npts each */
  const uint64_t *val;                  /* npts x ncols, row by row */
  const ll_traceback_t *const *cols;    /* ncols tracebacks, symbolised */
  size_t peak_pt;                       /* the peak's point (npts: none) */
  const char *program;
} ll__series_in_t;

typedef struct ll__site_series {
  const ll_traceback_t *key; /* the first column's traceback (frames[0] is the site) */
  uint64_t *bytes;           /* npts */
  ll_growth_t growth;
} ll__site_series_t;

typedef struct ll__site_set {
  ll_group_t group;
  size_t n, npts;
  ll__site_series_t *sites; /* highest first (growth.high, then end) */
  uint64_t *other;          /* npts: total minus every site */
} ll__site_set_t;

int ll__series_by_site(const ll__series_in_t *in, ll_group_t group, ll__site_set_t *out);
void ll__site_set_free(ll__site_set_t *set);

/* The growth report: sites whose high is at least min_bytes, one line each.
 * text:
 *   [ Growth of 2 lines of ./prog over 5938114 allocations, 511 points ]
 *   app.c:314: grows, size=614 MiB, +118 B per allocation (+265.1 MiB/s), rising until 99% of the run
 *   app.c:120: bounded, size=5573 KiB, level=5573 KiB, settled at 12% of the run
 *   app.c:50: released, peak=114 MiB, end=0 B
 *   ...and 3 lines under 1.0 MiB not judged
 * json: {"program", "group_by", "allocations", "points", "min_bytes", "sites": [{file, line,
 * function, growth, high, end, level, bytes_per_allocation, bytes_per_second, settled, and by
 * traceback frames: [{file, line, function}]}], "not_judged"}. Sizes in tracemalloc's size
 * format. */
int ll__growth_write(FILE *out, const ll__series_in_t *in, const ll__site_set_t *set,
                     uint64_t min_bytes, ll_format_t format);
/* Only the text lines of the sites (at least min_bytes high) that grow; how many. */
size_t ll__growth_write_growing(FILE *out, const ll__site_set_t *set, uint64_t min_bytes);

#endif
