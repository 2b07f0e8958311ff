/* growth.h - the growth verdict of one site from its memory over time: grows, bounded or released. */
#ifndef LEAKLAB_GROWTH_H
#define LEAKLAB_GROWTH_H
/*
 * Contract: a pure function of a site's series; no allocation, no I/O. The x-axis is the run's
 * allocation clock (allocations made by the whole program so far), so a site is judged against
 * the work the program did, not against wall time spent computing; seconds are kept only to
 * state a rate a person can picture.
 *
 * The rules (the words are a contract: CI depends on them; `leaklab report --help` and DESIGN
 * state the same):
 *   Let H be the site's highest live bytes over the run and E its live bytes at the end. Split
 *   the run (by allocation clock) into thirds.
 *   released  E <= H / 10: it gave its memory back, ending near zero.
 *   grows     not released, the highest level of the last third exceeds the highest level of
 *             the middle third by more than H / 20, and it rose at two points or more after the
 *             first third (one jump is a step, not a trend): still rising at the end.
 *   bounded   otherwise: it levelled off (a plateau or a saw-tooth whose tops do not rise).
 * Figures: rate = (top of last third - top of middle third) per allocation made and per
 * second between the moments those tops were reached; settled = the fraction of the run
 * (allocation clock) at which the site first reached 95% of its final level (the top of the
 * last third), i.e. how long it kept rising.
 */
#include <stddef.h>
#include <stdint.h>

typedef enum ll_growth_kind {
  LL_GROWTH_BOUNDED = 0,
  LL_GROWTH_GROWS = 1,
  LL_GROWTH_RELEASED = 2
} ll_growth_kind_t;

/* One point of a site's series. clock: allocations made by the whole program when it was
 * taken (non-decreasing along the series); t_ns: nanoseconds since the start. */
typedef struct ll_growth_point {
  uint64_t clock;
  uint64_t t_ns;
  uint64_t bytes;
} ll_growth_point_t;

typedef struct ll_growth {
  ll_growth_kind_t kind;
  uint64_t high;           /* H: highest live bytes */
  uint64_t end;            /* E: live bytes at the last point */
  uint64_t level;          /* top of the last third: where it settled (bounded), or got to */
  double bytes_per_alloc;  /* rising rate in the last two thirds, per allocation made */
  double bytes_per_sec;    /* the same per second (0 when the times do not advance) */
  double settled;          /* fraction of the run at which it first reached 95% of level */
} ll_growth_t;

/* "grows", "bounded", "released". */
const char *ll__growth_name(ll_growth_kind_t kind);
/* Classify n points (n >= 1; points in clock order). 0, or -1 when n == 0. */
int ll__growth_classify(const ll_growth_point_t *pts, size_t n, ll_growth_t *out);

#endif
