/* test_growth.c - growth verdicts on synthetic shapes (linear, sqrt, step, saw-tooth, plateau, spike) and the sites series are grouped into. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "growth_report.h"

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

/* Columns as a stripped program's capture gives them: no line anywhere, so only the function
 * (MODULE+0xOFFSET, or a symbol) or, with nothing learnt, the address tells call sites apart.
 * Grouped by file and line alone they all merged into one PROG:0 site. */
static const ll_frame_t fr_grow = {"/usr/bin/prog", "prog+0x1a2b", 0, 0x55501a2b};
static const ll_frame_t fr_keep = {"/usr/bin/prog", "prog+0x2c3d", 0, 0x55502c3d};
static const ll_frame_t fr_anon_a = {"/usr/bin/prog", "", 0, 0x1111};
static const ll_frame_t fr_anon_b = {"/usr/bin/prog", "", 0, 0x2222};
static const ll_frame_t fr_caller[2][2] = {
    {{"/usr/bin/prog", "prog+0x2c3d", 0, 0x55502c3d}, {"/usr/bin/prog", "prog+0x900", 0, 0x55500900}},
    {{"/usr/bin/prog", "prog+0x2c3d", 0, 0x55502c3d}, {"/usr/bin/prog", "prog+0xa00", 0, 0x55500a00}}};

static void stripped_sites_stay_apart(void **state) {
  (void)state;
  enum { NP = 30, NC = 6 };
  const ll_traceback_t tbs[NC] = {{1, 1, &fr_grow},      {1, 1, &fr_keep},
                                  {1, 1, &fr_anon_a},    {1, 1, &fr_anon_b},
                                  {2, 2, fr_caller[0]},  {2, 2, fr_caller[1]}};
  const ll_traceback_t *cols[NC];
  uint64_t clock[NP], t_ns[NP], total[NP], val[NP * NC];
  for (size_t c = 0; c < NC; c++) cols[c] = &tbs[c];
  for (size_t p = 0; p < NP; p++) {
    clock[p] = 100 * p;
    t_ns[p] = 1000 * p;
    uint64_t v[NC] = {4096 * p, p < 5 ? 2048 * p : 10240, 1000, p < 20 ? 3000 : 0, 7 * p, 5 * p};
    total[p] = 0;
    for (size_t c = 0; c < NC; c++) total[p] += val[p * NC + c] = v[c];
  }
  ll__series_in_t in = {NP, NC, clock, t_ns, total, val, cols, NP, "prog"};
  ll__site_set_t set;

  /* By line: six columns, four sites (the last two start where the second does). */
  assert_int_equal(ll__series_by_site(&in, LL_GROUP_LINENO, &set), 0);
  assert_int_equal(set.n, 4);
  assert_string_equal(set.sites[0].key->frames[0].function, "prog+0x1a2b");
  assert_int_equal(set.sites[0].growth.kind, LL_GROWTH_GROWS);
  assert_string_equal(set.sites[1].key->frames[0].function, "prog+0x2c3d");
  assert_int_equal(set.sites[1].growth.kind, LL_GROWTH_BOUNDED);
  assert_int_equal(set.sites[1].bytes[NP - 1], 10240 + 7 * (NP - 1) + 5 * (NP - 1));
  ll__site_set_free(&set);
  /* By traceback: each column its own site, told apart by the caller's offset. */
  assert_int_equal(ll__series_by_site(&in, LL_GROUP_TRACEBACK, &set), 0);
  assert_int_equal(set.n, 6);
  ll__site_set_free(&set);
  /* By file: one module, one site. */
  assert_int_equal(ll__series_by_site(&in, LL_GROUP_FILENAME, &set), 0);
  assert_int_equal(set.n, 1);
  ll__site_set_free(&set);
}

/* The text names a line-less site by its function, as the statistics do. */
static void stripped_site_text(void **state) {
  (void)state;
  const ll_traceback_t tb = {1, 1, &fr_grow};
  const ll_traceback_t *cols[1] = {&tb};
  uint64_t clock[3] = {0, 10, 20}, t_ns[3] = {0, 1, 2}, val[3] = {0, 100, 200};
  ll__series_in_t in = {3, 1, clock, t_ns, val, val, cols, 3, "prog"};
  ll__site_set_t set;
  char buf[512] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  assert_non_null(f);
  assert_int_equal(ll__series_by_site(&in, LL_GROUP_LINENO, &set), 0);
  assert_int_equal(ll__growth_write(f, &in, &set, 0, LL_FORMAT_TEXT), 0);
  fclose(f);
  ll__site_set_free(&set);
  assert_non_null(strstr(buf, "\n/usr/bin/prog:0 (prog+0x1a2b): grows, size=200 B"));
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
      cmocka_unit_test(stripped_sites_stay_apart),
      cmocka_unit_test(stripped_site_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
