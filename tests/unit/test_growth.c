/* test_growth.c - growth verdicts on synthetic shapes: linear, sqrt, step, saw-tooth, plateau, spike. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "growth.h"

#define N 300

static ll_growth_point_t pts[N];

/* Integer square root (the library links no libm; neither does this test). */
static uint64_t isqrt(uint64_t v) {
  uint64_t r = 0;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

typedef uint64_t (*shape_fn)(size_t i);

/* N points, one every 1000 allocations and 1 ms, bytes from the shape. */
static ll_growth_t classify(shape_fn f) {
  ll_growth_t g;
  for (size_t i = 0; i < N; i++) {
    pts[i].clock = 1000 * (uint64_t)i;
    pts[i].t_ns = 1000000 * (uint64_t)i;
    pts[i].bytes = f(i);
  }
  assert_int_equal(ll__growth_classify(pts, N, &g), 0);
  return g;
}

static uint64_t linear(size_t i) { return 4096 * (uint64_t)i; }
static uint64_t sqrt_shape(size_t i) { return 1000 * isqrt(1000 * (uint64_t)i); }
static uint64_t steps(size_t i) { return 1 << 20 >> 2 << (i * 4 / N); } /* 256K, 512K, 1M, 2M */
static uint64_t sawtooth(size_t i) { return 10000 * (uint64_t)(i % 50) + 7; }
static uint64_t warmup(size_t i) { return i < N / 4 ? 400 * (uint64_t)i : 400 * (N / 4); }
static uint64_t spike(size_t i) { return (i > N / 3 && i < N / 2) ? 1 << 24 : 64; }
static uint64_t lru_noise(size_t i) {
  /* fills in the first fifth, then hovers within 1% as entries are evicted and replaced */
  return i < N / 5 ? 5000 * (uint64_t)i : 5000 * (N / 5) - (i % 7) * 90;
}

static void linear_grows(void **state) {
  (void)state;
  ll_growth_t g = classify(linear);
  assert_int_equal(g.kind, LL_GROWTH_GROWS);
  assert_string_equal(ll__growth_name(g.kind), "grows");
  assert_int_equal(g.high, 4096 * (N - 1));
  assert_int_equal(g.end, 4096 * (N - 1));
  /* 4096 B every 1000 allocations, 1 ms */
  assert_true(g.bytes_per_alloc > 4.09 && g.bytes_per_alloc < 4.10);
  assert_true(g.bytes_per_sec > 4095999.0 && g.bytes_per_sec < 4096001.0);
  assert_true(g.settled > 0.94);
}

static void sqrt_grows(void **state) {
  (void)state;
  assert_int_equal(classify(sqrt_shape).kind, LL_GROWTH_GROWS);
}

static void steps_grow(void **state) {
  (void)state;
  ll_growth_t g = classify(steps);
  assert_int_equal(g.kind, LL_GROWTH_GROWS);
  assert_int_equal(g.level, 2 << 20);
}

static void sawtooth_is_bounded(void **state) {
  (void)state;
  ll_growth_t g = classify(sawtooth);
  assert_int_equal(g.kind, LL_GROWTH_BOUNDED);
  assert_string_equal(ll__growth_name(g.kind), "bounded");
  assert_int_equal(g.level, 490007);
}

static void plateau_after_warmup_is_bounded(void **state) {
  (void)state;
  ll_growth_t g = classify(warmup);
  assert_int_equal(g.kind, LL_GROWTH_BOUNDED);
  assert_int_equal(g.level, 400 * (N / 4));
  /* first at 95% of its level a little before the quarter mark */
  assert_true(g.settled > 0.22 && g.settled < 0.25);
}

static void lru_with_noise_is_bounded(void **state) {
  (void)state;
  assert_int_equal(classify(lru_noise).kind, LL_GROWTH_BOUNDED);
}

static void spike_and_release(void **state) {
  (void)state;
  ll_growth_t g = classify(spike);
  assert_int_equal(g.kind, LL_GROWTH_RELEASED);
  assert_string_equal(ll__growth_name(g.kind), "released");
  assert_int_equal(g.high, 1 << 24);
  assert_int_equal(g.end, 64);
}

/* A series with few points: the level in force when a third opens counts for that third. */
static void sparse_series(void **state) {
  (void)state;
  ll_growth_point_t p[3] = {{0, 0, 100}, {10, 10, 5000}, {1000, 1000, 5000}};
  ll_growth_t g;
  assert_int_equal(ll__growth_classify(p, 3, &g), 0);
  assert_int_equal(g.kind, LL_GROWTH_BOUNDED); /* 5000 from 1% of the run to the end */
  ll_growth_point_t q[4] = {{0, 0, 100}, {10, 10, 5000}, {600, 600, 7000}, {1000, 1000, 9000}};
  assert_int_equal(ll__growth_classify(q, 4, &g), 0);
  assert_int_equal(g.kind, LL_GROWTH_GROWS); /* 7000 in the middle third, 9000 in the last */
  assert_int_equal(g.level, 9000);
}

/* No allocation between the points: positions fall back to the point index. */
static void frozen_clock(void **state) {
  (void)state;
  ll_growth_point_t p[6];
  ll_growth_t g;
  for (int i = 0; i < 6; i++) p[i] = (ll_growth_point_t){7, (uint64_t)i, 100 * (uint64_t)(i + 1)};
  assert_int_equal(ll__growth_classify(p, 6, &g), 0);
  assert_int_equal(g.kind, LL_GROWTH_GROWS);
  assert_true(g.bytes_per_alloc == 0.0); /* no allocation to divide by */
}

/* One block made near the end of a run that allocates little: a step, not growth. */
static void single_late_jump_is_bounded(void **state) {
  (void)state;
  ll_growth_point_t p[3] = {{0, 0, 0}, {1, 10, 0}, {2, 20, 4096}};
  ll_growth_t g;
  assert_int_equal(ll__growth_classify(p, 3, &g), 0);
  assert_int_equal(g.kind, LL_GROWTH_BOUNDED);
  assert_int_equal(g.level, 4096);
}

static void empty_series(void **state) {
  (void)state;
  ll_growth_t g;
  assert_int_equal(ll__growth_classify(pts, 0, &g), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(linear_grows),
      cmocka_unit_test(sqrt_grows),
      cmocka_unit_test(steps_grow),
      cmocka_unit_test(sawtooth_is_bounded),
      cmocka_unit_test(plateau_after_warmup_is_bounded),
      cmocka_unit_test(lru_with_noise_is_bounded),
      cmocka_unit_test(spike_and_release),
      cmocka_unit_test(sparse_series),
      cmocka_unit_test(frozen_clock),
      cmocka_unit_test(single_late_jump_is_bounded),
      cmocka_unit_test(empty_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
