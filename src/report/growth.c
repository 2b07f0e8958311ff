/* growth.c - growth verdicts (grows, bounded, released) from a site's memory over the allocation clock. */
#include "growth.h"

const char *ll__growth_name(ll_growth_kind_t kind) {
  switch (kind) {
  case LL_GROWTH_GROWS: return "grows";
  case LL_GROWTH_RELEASED: return "released";
  case LL_GROWTH_BOUNDED: break;
  }
  return "bounded";
}

/* Position of point i in the run, 0..1: by allocation clock, or by index when the clock did not
 * move (a run that allocated nothing between its first and last point). */
static double position(const ll_growth_point_t *pts, size_t n, size_t i) {
  uint64_t c0 = pts[0].clock, c1 = pts[n - 1].clock;
  if (n < 2) return 1.0;
  if (c1 > c0) return (double)(pts[i].clock - c0) / (double)(c1 - c0);
  return (double)i / (double)(n - 1);
}

/* The highest level held during [lo, hi) of the run (hi > 1: up to the end), and the first
 * point that held it. A series is a step function between its points, so the level in force
 * when the window opens (the last point before lo) counts too: a sparse series whose window
 * holds no point still has a level there. */
static uint64_t window_top(const ll_growth_point_t *pts, size_t n, double lo, double hi,
                           size_t *at) {
  uint64_t top = 0;
  size_t where = 0;
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    double u = position(pts, n, i);
    int before = u < lo && (i + 1 == n || position(pts, n, i + 1) >= lo);
    if (u >= hi) break;
    if (!before && u < lo) continue;
    if (!found || pts[i].bytes > top) {
      top = pts[i].bytes;
      where = i;
      found = 1;
    }
  }
  *at = where;
  return top;
}

int ll__growth_classify(const ll_growth_point_t *pts, size_t n, ll_growth_t *out) {
  ll_growth_t g = {.kind = LL_GROWTH_BOUNDED};
  size_t at_mid = 0, at_last = 0;

  if (n == 0) return -1;
  for (size_t i = 0; i < n; i++)
    if (pts[i].bytes > g.high) g.high = pts[i].bytes;
  g.end = pts[n - 1].bytes;

  uint64_t mid = window_top(pts, n, 1.0 / 3, 2.0 / 3, &at_mid);
  g.level = window_top(pts, n, 2.0 / 3, 2.0, &at_last);

  /* Times it rose after the first third: one jump is a step, not a trend (a buffer made once
   * near the end of a run that allocates little). */
  size_t rises = 0;
  for (size_t i = 1; i < n; i++)
    rises += position(pts, n, i) >= 1.0 / 3 && pts[i].bytes > pts[i - 1].bytes;

  if (g.high > 0 && g.end <= g.high / 10) {
    g.kind = LL_GROWTH_RELEASED;
  } else if (g.level > mid && (g.level - mid) * 20 > g.high && rises >= 2) {
    g.kind = LL_GROWTH_GROWS;
  }

  if (g.level > mid && at_last > at_mid) {
    double dbytes = (double)(g.level - mid);
    uint64_t dclock = pts[at_last].clock - pts[at_mid].clock;
    uint64_t dt = pts[at_last].t_ns - pts[at_mid].t_ns;
    if (dclock > 0) g.bytes_per_alloc = dbytes / (double)dclock;
    if (dt > 0) g.bytes_per_sec = dbytes / ((double)dt / 1e9);
  }

  /* First reached 95% of the final level: integer form of bytes >= 0.95 * level. */
  g.settled = 0.0;
  for (size_t i = 0; i < n; i++) {
    if ((double)pts[i].bytes * 100.0 >= (double)g.level * 95.0) {
      g.settled = position(pts, n, i);
      break;
    }
  }
  *out = g;
  return 0;
}
