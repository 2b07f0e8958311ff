/* test_series.c - memory over time per traceback: columns, bounded points, the exact peak moment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "engine.h"
#include "series.h"

/* Fake blocks and return addresses: the tracker never dereferences either. */
#define P(i) ((void *)(uintptr_t)(0x10000000u + (uintptr_t)(i) * 16u))
enum { IP_GROW = 0x401000, IP_PLATEAU = 0x402000, IP_SPIKE = 0x403000, IP_TINY = 0x404000 };

static void alloc_ip(size_t i, size_t size, uintptr_t ip) {
  ll__track_alloc_ips_c(P(i), size, size, &ip, 1, NULL);
}

static int teardown(void **state) {
  (void)state;
  ll_stop();
  return 0;
}

static int col_of(const ll__series_copy_t *c, uintptr_t ip) {
  for (uint32_t k = 0; k < c->ncols; k++)
    if (c->cols[k].nframe >= 1 && c->cols[k].ips[0] == ip) return (int)k;
  return -1;
}

static uint64_t peak_size_of(const ll_snapshot_t *s, uintptr_t ip) {
  for (size_t i = 0; i < s->ntraces; i++)
    if (s->traces[i].traceback->frames[0].ip == ip) return s->traces[i].size;
  return 0;
}

/* A growing line, a churning plateau, a spike freed again, and a line too small to matter.
 * Returns the number of allocations made. */
static size_t run_pattern(size_t rounds) {
  size_t next = 0, allocs = 0;
  for (size_t r = 0; r < rounds; r++) {
    alloc_ip(next++, 100, IP_GROW); /* kept: grows with the work */
    allocs++;
    size_t slot = 1000000 + r % 50; /* 50 live blocks at most: a plateau */
    if (r >= 50) ll_track_free(P(slot));
    alloc_ip(slot, 1000, IP_PLATEAU);
    allocs++;
    ll_track_free(P(2000000));
    alloc_ip(2000000, 1, IP_TINY);
    allocs++;
    if (r == rounds / 2) {
      alloc_ip(3000000, 4000000, IP_SPIKE); /* the peak */
      allocs++;
    }
    if (r == rounds / 2 + 10) ll_track_free(P(3000000));
  }
  return allocs;
}

static void columns_points_and_peak(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  size_t allocs = run_pattern(20000);

  ll_snapshot_t *peak;
  assert_int_equal(ll_take_peak_snapshot(&peak), 0);
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), 0);

  /* Bounded, and at least half full: a run keeps 256..512 points whatever its length. */
  assert_true(c.npts >= LL__SERIES_POINTS / 2 && c.npts <= LL__SERIES_POINTS);
  assert_int_equal(c.pts[c.npts - 1].clock, allocs);

  int grow = col_of(&c, IP_GROW), plateau = col_of(&c, IP_PLATEAU), spike = col_of(&c, IP_SPIKE);
  assert_true(grow >= 0 && plateau >= 0 && spike >= 0);
  assert_int_equal(col_of(&c, IP_TINY), -1); /* 1 B never reaches 1/200 of the peak */

  /* The peak moment is a point, with each column's bytes as the peak snapshot has them. */
  assert_true(c.peak_pt < c.npts);
  const uint64_t *pv = &c.val[(size_t)c.peak_pt * c.ncols];
  assert_int_equal(c.pts[c.peak_pt].total, peak->peak_bytes);
  assert_int_equal(pv[grow], peak_size_of(peak, IP_GROW));
  assert_int_equal(pv[plateau], peak_size_of(peak, IP_PLATEAU));
  assert_int_equal(pv[spike], 4000000);
  assert_int_equal(peak_size_of(peak, IP_SPIKE), 4000000);

  /* Points are in clock order; the columns never exceed the total; the last point is now. */
  for (uint32_t p = 0; p < c.npts; p++) {
    uint64_t sum = 0;
    for (uint32_t k = 0; k < c.ncols; k++) sum += c.val[(size_t)p * c.ncols + k];
    assert_true(sum <= c.pts[p].total);
    if (p > 0) assert_true(c.pts[p].clock >= c.pts[p - 1].clock);
  }
  const uint64_t *last = &c.val[(size_t)(c.npts - 1) * c.ncols];
  assert_int_equal(last[grow], 20000 * 100);
  assert_int_equal(last[plateau], 50 * 1000);
  assert_int_equal(last[spike], 0);

  ll__series_copy_free(&c);
  ll__arena_free(peak->ll__arena);
}

/* The peak reached early survives every halving that follows. */
static void early_peak_survives_halving(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  alloc_ip(1, 1 << 20, IP_SPIKE);
  ll_track_free(P(1));
  for (size_t i = 0; i < 100000; i++) {
    alloc_ip(10 + i % 8, 64, IP_PLATEAU);
    ll_track_free(P(10 + i % 8));
  }
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), 0);
  assert_true(c.stride >= 64); /* halved many times */
  assert_true(c.peak_pt < c.npts);
  assert_int_equal(c.pts[c.peak_pt].total, 1 << 20);
  assert_int_equal(c.val[(size_t)c.peak_pt * c.ncols + (size_t)col_of(&c, IP_SPIKE)], 1 << 20);
  assert_int_equal(c.pts[c.peak_pt].clock, 1);
  ll__series_copy_free(&c);
}

/* clear_traces forgets points and columns; the series starts again. */
static void clear_starts_again(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  run_pattern(1000);
  ll_clear_traces();
  alloc_ip(5, 4096, IP_TINY);
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), 0);
  assert_int_equal(c.ncols, 1);
  assert_int_equal(c.cols[0].ips[0], IP_TINY);
  assert_int_equal(c.pts[c.npts - 1].total, 4096);
  ll__series_copy_free(&c);
}

/* Frees make points too: a fall with no allocation in it is a run of points a step apart, at
 * the fall's time; the peak before a pause keeps the time it was reached, not the fall's. The
 * events' times are given as the helper process gives its stamps (last: the time stays set).
 * Few enough events that no point is dropped (no halving). */
static void falls_are_steps(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  ll__series_event_time(1000);
  for (size_t i = 0; i < 100; i++) alloc_ip(i, 10000, IP_GROW); /* the peak: 1,000,000 B */
  ll__series_event_time(5000);                                 /* a pause, then the fall */
  for (size_t i = 0; i < 50; i++) ll_track_free(P(i));
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), 0);
  assert_int_equal(c.stride, 1);

  assert_true(c.peak_pt < c.npts);
  assert_int_equal(c.pts[c.peak_pt].total, 1000000);
  assert_int_equal(c.pts[c.peak_pt].t_ns, 1000);
  /* A step is 1/256 of the peak, under a block: every free is a point; then the final one. */
  assert_int_equal(c.npts - 1 - c.peak_pt, 50 + 1);
  for (uint32_t p = c.peak_pt + 1; p < c.npts; p++) {
    assert_int_equal(c.pts[p].t_ns, 5000);
    assert_int_equal(c.pts[p].clock, 100); /* no allocation since the peak */
    uint32_t k = p - c.peak_pt < 50 ? p - c.peak_pt : 50;
    assert_int_equal(c.pts[p].total, 1000000 - 10000 * k);
  }
  ll__series_copy_free(&c);
}

/* The last allocations make the peak (less than a step above the last point), then a pause: the
 * peak's point keeps the time they were made (the tracker dated its rise), the final point, at
 * the end, has the same bytes. Runs after falls_are_steps (later event times). */
static void peak_at_the_last_allocations(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  ll__series_event_time(6000);
  /* 2,000 blocks: points halved to every 4th allocation or so; the last three, 300 B, under a
   * step (1/256 of the peak) and before the next point is due. */
  for (size_t i = 0; i < 2000; i++) alloc_ip(i, 500, IP_GROW);
  for (size_t i = 2000; i < 2003; i++) alloc_ip(i, 100, IP_TINY);
  ll__series_event_time(9000);                                  /* a pause, then the end */
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), 0);
  assert_true(c.peak_pt + 1 < c.npts);
  assert_true(c.stride > 3);
  assert_int_equal(c.pts[c.peak_pt].total, 1000300);
  assert_int_equal(c.pts[c.peak_pt].clock, 2003);
  assert_int_equal(c.pts[c.peak_pt].t_ns, 6000);
  assert_int_equal(c.pts[c.npts - 1].total, 1000300);
  assert_int_equal(c.pts[c.npts - 1].t_ns, 9000);
  ll__series_copy_free(&c);
}

static void not_tracing(void **state) {
  (void)state;
  ll__series_copy_t c;
  assert_int_equal(ll__take_series(&c), LL_ENOTRACING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(columns_points_and_peak, teardown),
      cmocka_unit_test_teardown(early_peak_survives_halving, teardown),
      cmocka_unit_test_teardown(clear_starts_again, teardown),
      cmocka_unit_test(not_tracing),
      cmocka_unit_test_teardown(falls_are_steps, teardown), /* these two last: they set the */
      cmocka_unit_test_teardown(peak_at_the_last_allocations, teardown), /* events' time */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
