/* test_livetable.c - unit tests of the live-block table: exact records, inline fast paths, overflow chains, the wide table, resizing, no memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "livetable.h"
#include "tracker_mem.h"

static int teardown(void **state) {
  (void)state;
  ll__tmem_fail = 0;
  return 0;
}

static void expect_rec(const ll__rec_t *got, const ll__rec_t *want) {
  assert_int_equal(got->size, want->size);
  assert_int_equal(got->usable, want->usable);
  assert_int_equal(got->tb, want->tb);
}

/* The live table against a model: packed records and the ones that cannot pack (unaligned or
 * high pointers, sizes >= 2^40, slack >= 2^17, ids >= 2^24) must come back exact, through
 * growth, shrinking, overflow chains and replacement. */
static void test_live_table_vs_model(void **state) {
  (void)state;
  enum { N = 6000, OPS = 400000 };
  static uintptr_t ptrs[N];
  static ll__rec_t model[N];
  static int live[N];
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  memset(live, 0, sizeof live);
  srand(7);
  for (int i = 0; i < N; i++) {
    int kind = i % 50;
    uintptr_t base = 0x5555000000ull + (uintptr_t)i * 48u;
    ptrs[i] = kind == 0 ? base + 3 : kind == 1 ? ((uintptr_t)1 << 50) + (uintptr_t)i * 16u : base;
  }
  size_t nlive = 0;
  for (int op = 0; op < OPS; op++) {
    int i = op < N ? op : rand() % N;
    /* Grow towards N live, then churn around a moving target so the table also shrinks. */
    int phase = (op / 60000) % 2;
    int act = op < N ? 0 : (rand() % 100 < (phase ? 30 : 60) ? 0 : 1);
    ll__rec_t got, old;
    int had;
    if (act == 0) {
      int k = rand() % 40;
      ll__rec_t r = {16 + (uint64_t)(rand() % 4000), 0, (uint32_t)(rand() % 1000)};
      r.usable = r.size + (uint64_t)(rand() % 24);
      if (k == 0) r.size += (uint64_t)1 << 41;
      if (k == 1) r.usable = r.size + ((uint64_t)1 << 20);
      if (k == 2) r.tb = (1u << 24) + 5;
      if (k <= 2 && k != 1) r.usable = r.size + 8;
      assert_int_equal(ll__live_put(&t, ptrs[i], &r, &old, &had), 0);
      assert_int_equal(had, live[i]);
      if (had) {
        assert_int_equal(old.size, model[i].size);
        assert_int_equal(old.usable, model[i].usable);
        assert_int_equal(old.tb, model[i].tb);
      } else {
        nlive++;
      }
      model[i] = r;
      live[i] = 1;
    } else {
      assert_int_equal(ll__live_remove(&t, ptrs[i], &got), live[i]);
      if (live[i]) {
        assert_int_equal(got.size, model[i].size);
        assert_int_equal(got.usable, model[i].usable);
        assert_int_equal(got.tb, model[i].tb);
        nlive--;
      }
      live[i] = 0;
    }
    assert_int_equal(ll__live_count(&t), nlive);
    if (op % 50000 == 0 || op == OPS - 1) {
      for (int j = 0; j < N; j++) {
        assert_int_equal(ll__live_get(&t, ptrs[j], &got), live[j]);
        if (live[j]) {
          assert_int_equal(got.size, model[j].size);
          assert_int_equal(got.usable, model[j].usable);
          assert_int_equal(got.tb, model[j].tb);
        }
      }
    }
  }
  ll__rec_t none;
  assert_int_equal(ll__live_get(&t, 0x1234568, &none), 0); /* never recorded */
  ll__live_reset(&t);
}

/* The recording hot path's inline shortcuts must give what the out-of-line functions give:
 * the same model run, every operation through ll__live_put_inl / ll__live_remove_inl, with
 * lookups through ll__live_get. Dense 16-byte-apart pointers keep many buckets full, so the
 * shortcuts meet overflow chains and hand over to the slow paths. */
static void test_inline_paths_vs_model(void **state) {
  (void)state;
  enum { N = 20000, OPS = 300000 };
  static ll__rec_t model[N];
  static int live[N];
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  memset(live, 0, sizeof live);
  srand(11);
  size_t nlive = 0;
  for (int op = 0; op < OPS; op++) {
    int i = rand() % N;
    uintptr_t p = 0x7f0000000000ull + (uintptr_t)i * 16u + (i % 97 == 0 ? 4u : 0u);
    ll__rec_t got, old;
    int had;
    if (rand() % 100 < ((op / 50000) % 2 ? 35 : 65)) {
      ll__rec_t r = {(uint64_t)(rand() % 1000), 0, (uint32_t)(rand() % 500)};
      r.usable = r.size + (uint64_t)(rand() % 16);
      if (rand() % 500 == 0) r.size += (uint64_t)1 << 40; /* does not pack */
      assert_int_equal(ll__live_put_inl(&t, p, &r, &old, &had), 0);
      assert_int_equal(had, live[i]);
      if (had) expect_rec(&old, &model[i]);
      else nlive++;
      model[i] = r;
      live[i] = 1;
    } else {
      assert_int_equal(ll__live_remove_inl(&t, p, &got), live[i]);
      if (live[i]) {
        expect_rec(&got, &model[i]);
        nlive--;
      }
      live[i] = 0;
    }
    assert_int_equal(ll__live_count(&t), nlive);
  }
  for (int i = 0; i < N; i++) {
    ll__rec_t got;
    uintptr_t p = 0x7f0000000000ull + (uintptr_t)i * 16u + (i % 97 == 0 ? 4u : 0u);
    assert_int_equal(ll__live_get(&t, p, &got), live[i]);
    if (live[i]) expect_rec(&got, &model[i]);
  }
  ll__live_reset(&t);
  assert_int_equal(ll__live_count(&t), 0);
}

/* Pointers whose keys share one home bucket: they fill it and spill into the next buckets,
 * whose overflow counts must let every lookup through, and removals from the home bucket must
 * not hide the keys stored beyond it. */
/* The first k addresses above 0x1000 whose key has home bucket home0 of n: a chain that spills
 * past full buckets. */
static void same_home(size_t n, size_t home0, uintptr_t *same, int k) {
  int got = 0;
  for (uintptr_t p = 0x1008; got < k; p += 8)
    if (ll__lt_home(ll__lt_key(p), n) == home0) same[got++] = p;
}

static void test_overflow_chain(void **state) {
  (void)state;
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  ll__rec_t r = {8, 8, 1}, got, old;
  int had;
  /* The first put maps the smallest table: 64 KiB, 4096 slots, 1024 buckets. */
  assert_int_equal(ll__live_put(&t, 0x1000, &r, &old, &had), 0);
  assert_int_equal(t.cap, 65536 / sizeof(ll__live_t));
  size_t n = t.cap / LL__LT_BUCKET, home0 = ll__lt_home(ll__lt_key(0x1000), n);
  enum { K = 11 };
  uintptr_t same[K];
  same_home(n, home0, same, K);
  for (int i = 0; i < K; i++) {
    ll__rec_t ri = {100 + (uint64_t)i, 104 + (uint64_t)i, (uint32_t)i};
    assert_int_equal(ll__live_put(&t, same[i], &ri, &old, &had), 0);
    assert_int_equal(had, 0);
  }
  assert_int_equal(t.cap, 65536 / sizeof(ll__live_t)); /* 12 keys: no growth */
  /* 12 keys with one home: buckets home0 .. home0+2 are full, the home bucket has overflow. */
  assert_true(ll__lt_ovf_any(&t.slots[home0 * LL__LT_BUCKET]));
  for (int i = 0; i < K; i++) {
    assert_int_equal(ll__live_get(&t, same[i], &got), 1);
    assert_int_equal(got.size, 100 + (uint64_t)i);
  }
  /* Out of the home bucket first: the spilled keys stay reachable. */
  assert_int_equal(ll__live_remove(&t, 0x1000, &got), 1);
  assert_int_equal(ll__live_remove_inl(&t, same[0], &got), 1);
  assert_int_equal(got.tb, 0);
  for (int i = 1; i < K; i++) {
    assert_int_equal(ll__live_get(&t, same[i], &got), 1);
    assert_int_equal(got.tb, (uint32_t)i);
  }
  /* The home bucket has room again: the fast put of a key stored beyond it must find that
   * record (the address is live again) rather than store the key twice. */
  size_t before = ll__live_count(&t);
  ll__rec_t again = {7, 7, 77};
  assert_int_equal(ll__live_put_inl(&t, same[K - 1], &again, &old, &had), 0);
  assert_int_equal(had, 1);
  assert_int_equal(old.tb, (uint32_t)(K - 1));
  assert_int_equal(ll__live_count(&t), before);
  assert_int_equal(ll__live_remove_inl(&t, same[K - 1], &got), 1);
  expect_rec(&got, &again);
  assert_int_equal(ll__live_get(&t, same[K - 1], &got), 0);
  /* Absent keys with the same home walk the chain and stop. */
  uintptr_t absent = same[K - 1] + 8;
  while (ll__lt_home(ll__lt_key(absent), n) != home0) absent += 8;
  assert_int_equal(ll__live_get(&t, absent, &got), 0);
  assert_int_equal(ll__live_remove_inl(&t, absent, &got), 0);
  for (int i = K - 2; i >= 1; i--) assert_int_equal(ll__live_remove(&t, same[i], &got), 1);
  /* Every overflow count is back to 0 once the chain is gone. */
  for (size_t b = 0; b < n; b++) assert_false(ll__lt_ovf_any(&t.slots[b * LL__LT_BUCKET]));
  assert_int_equal(ll__live_count(&t), 0);
  ll__live_reset(&t);
}

/* The fast paths' main-table put and take (ll__live_put_main, ll__live_take_main) on a chain
 * of keys with one home: stored beyond full buckets, found there, replaced in place, and the
 * overflow counts back to 0 once the chain is taken out again. */
static void test_main_put_take(void **state) {
  (void)state;
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  ll__rec_t r = {8, 8, 1}, got, old;
  int had;
  assert_int_equal(ll__live_put(&t, 0x1000, &r, &old, &had), 0); /* maps the table */
  size_t n = t.cap / LL__LT_BUCKET, home0 = ll__lt_home(ll__lt_key(0x1000), n);
  enum { K = 11 };
  uintptr_t same[K];
  same_home(n, home0, same, K);
  for (int i = 0; i < K; i++) {
    ll__rec_t ri = {100 + (uint64_t)i, 104 + (uint64_t)i, (uint32_t)i};
    assert_int_equal(ll__live_put_main(&t, ll__lt_key(same[i]), &ri, &old), 0);
  }
  assert_int_equal(ll__live_count(&t), K + 1);
  assert_true(ll__lt_ovf_any(&t.slots[home0 * LL__LT_BUCKET]));
  for (int i = 0; i < K; i++) {
    assert_int_equal(ll__live_get(&t, same[i], &got), 1);
    assert_int_equal(got.size, 100 + (uint64_t)i);
  }
  /* A key stored two buckets on, put again: replaced where it is, the count unchanged. */
  ll__rec_t again = {7, 7, 77};
  assert_int_equal(ll__live_put_main(&t, ll__lt_key(same[K - 1]), &again, &old), 1);
  assert_int_equal(old.tb, (uint32_t)(K - 1));
  assert_int_equal(ll__live_count(&t), K + 1);
  /* Taken out from the far end first, then the rest; an absent key with the same home: 0. */
  assert_int_equal(ll__live_take_main(&t, ll__lt_key(same[K - 1]), &got), 1);
  expect_rec(&got, &again);
  assert_int_equal(ll__live_take_main(&t, ll__lt_key(same[K - 1]), &got), 0);
  for (int i = 0; i < K - 1; i++) {
    assert_int_equal(ll__live_take_main(&t, ll__lt_key(same[i]), &got), 1);
    assert_int_equal(got.tb, (uint32_t)i);
  }
  assert_int_equal(ll__live_take_main(&t, ll__lt_key(0x1000), &got), 1);
  for (size_t b = 0; b < n; b++) assert_false(ll__lt_ovf_any(&t.slots[b * LL__LT_BUCKET]));
  assert_int_equal(ll__live_count(&t), 0);
  ll__live_reset(&t);
}

/* Records that do not pack live in the wide table, exact; its memory goes when it empties. */
static void test_wide_records(void **state) {
  (void)state;
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  ll__rec_t got, old;
  int had;
  const struct {
    uintptr_t p;
    ll__rec_t r;
  } odd[] = {
      {0x10003, {16, 16, 1}},                                   /* not 8-aligned */
      {(uintptr_t)1 << 49, {16, 24, 2}},                        /* above 2^48 */
      {0x20000, {(uint64_t)1 << 40, ((uint64_t)1 << 40) + 8, 3}}, /* size >= 2^40 */
      {0x20010, {32, 32 + ((uint64_t)1 << 17), 4}},             /* slack >= 2^17 */
      {0x20020, {48, 48, 1u << 24}},                             /* id >= 2^24 */
      {0x20030, {LL__LT_SIZE_MASK, LL__LT_SIZE_MASK + LL__LT_SLACK_MAX, (uint32_t)LL__LT_TB_LIMIT - 1}},
  };
  size_t nodd = sizeof odd / sizeof odd[0], base = ll__tmem_bytes();
  for (size_t i = 0; i < nodd; i++) {
    assert_int_equal(ll__live_put(&t, odd[i].p, &odd[i].r, &old, &had), 0);
    assert_int_equal(had, 0);
  }
  assert_int_equal(t.wcount, nodd - 1); /* the last one packs, at the limits */
  assert_int_equal(t.count, 1);
  for (size_t i = 0; i < nodd; i++) {
    assert_int_equal(ll__live_get(&t, odd[i].p, &got), 1);
    expect_rec(&got, &odd[i].r);
  }
  /* A wide record replaced by one that packs, and back: never both. */
  ll__rec_t small = {8, 8, 9};
  assert_int_equal(ll__live_put(&t, 0x20000, &small, &old, &had), 0);
  assert_int_equal(had, 1);
  expect_rec(&old, &odd[2].r);
  assert_int_equal(ll__live_put(&t, 0x20000, &odd[2].r, &old, &had), 0);
  assert_int_equal(had, 1);
  expect_rec(&old, &small);
  assert_int_equal(ll__live_count(&t), nodd);
  for (size_t i = 0; i < nodd; i++) {
    assert_int_equal(ll__live_remove_inl(&t, odd[i].p, &got), 1);
    expect_rec(&got, &odd[i].r);
  }
  assert_int_equal(ll__live_count(&t), 0);
  assert_null(t.wide);
  assert_int_equal(ll__tmem_bytes(), base + t.bytes); /* only the main table's page is left */
  ll__live_reset(&t);
  assert_int_equal(ll__tmem_bytes(), base);
}

/* Growth keeps 21..28.5 bytes per live block (plus page rounding), the table shrinks with the
 * live set, and a steady churn between the bounds never resizes. */
static void test_resize_bounds(void **state) {
  (void)state;
  enum { N = 200000 };
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  ll__rec_t r = {32, 32, 0}, got, old;
  int had;
  double worst = 0;
  for (uintptr_t i = 1; i <= N; i++) {
    assert_int_equal(ll__live_put_inl(&t, i * 32, &r, &old, &had), 0);
    double per = (double)t.bytes / (double)i;
    if (i >= 10000 && per > worst) worst = per;
    assert_true(t.count * LL__LT_GROW_DEN <= t.cap * LL__LT_GROW_NUM);
  }
  assert_true(worst <= 28.5 + 1.0);
  assert_true((double)t.bytes / N >= 21.0);
  /* Churn at a steady live count: the same mapping throughout. */
  const ll__live_t *slots = t.slots;
  for (uintptr_t i = 1; i <= N; i++) {
    assert_int_equal(ll__live_remove_inl(&t, i * 32, &got), 1);
    assert_int_equal(ll__live_put_inl(&t, (N + i) * 32, &r, &old, &had), 0);
  }
  assert_ptr_equal(t.slots, slots);
  /* Down to a few: the table follows, to the smallest table (64 KiB) at the least. */
  size_t big = t.bytes;
  for (uintptr_t i = 1; i <= N - 10; i++) assert_int_equal(ll__live_remove(&t, (N + i) * 32, &got), 1);
  assert_true(t.bytes < big / 50);
  assert_int_equal(t.bytes, 65536);
  for (uintptr_t i = N - 9; i <= N; i++) assert_int_equal(ll__live_get(&t, (N + i) * 32, &got), 1);
  assert_int_equal(ll__live_count(&t), 10);
  ll__live_reset(&t);
}

/* No memory: put says so, the table stays consistent, and an old record at that address is
 * gone as the contract says (its block was freed unseen). */
static void test_no_memory(void **state) {
  (void)state;
  ll__livetab_t t;
  memset(&t, 0, sizeof t);
  ll__rec_t r = {16, 16, 1}, wide = {(uint64_t)1 << 41, (uint64_t)1 << 41, 2}, got, old;
  int had;
  ll__tmem_fail = 1;
  assert_int_equal(ll__live_put(&t, 0x1000, &r, &old, &had), -1);
  assert_int_equal(had, 0);
  assert_int_equal(ll__live_count(&t), 0);
  assert_int_equal(ll__live_get(&t, 0x1000, &got), 0);
  ll__tmem_fail = 0;
  assert_int_equal(ll__live_put(&t, 0x1000, &r, &old, &had), 0);
  ll__tmem_fail = 1;
  /* The wide table cannot be mapped: the packed record there before is taken out. */
  assert_int_equal(ll__live_put(&t, 0x1000, &wide, &old, &had), -1);
  assert_int_equal(had, 1);
  expect_rec(&old, &r);
  assert_int_equal(ll__live_get(&t, 0x1000, &got), 0);
  assert_int_equal(ll__live_count(&t), 0);
  /* Growth fails past the load bound: the records already in stay. */
  ll__tmem_fail = 0;
  uintptr_t p = 0x100000;
  while (t.count * LL__LT_GROW_DEN < t.cap * LL__LT_GROW_NUM || t.cap == 0) {
    assert_int_equal(ll__live_put(&t, p, &r, &old, &had), 0);
    p += 16;
  }
  size_t before = t.count;
  ll__tmem_fail = 1;
  assert_int_equal(ll__live_put_inl(&t, p, &r, &old, &had), -1);
  assert_int_equal(ll__live_count(&t), before);
  for (uintptr_t q = 0x100000; q < p; q += 16) assert_int_equal(ll__live_get(&t, q, &got), 1);
  ll__tmem_fail = 0;
  ll__live_reset(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_live_table_vs_model, teardown),
      cmocka_unit_test_teardown(test_inline_paths_vs_model, teardown),
      cmocka_unit_test_teardown(test_overflow_chain, teardown),
      cmocka_unit_test_teardown(test_main_put_take, teardown),
      cmocka_unit_test_teardown(test_wide_records, teardown),
      cmocka_unit_test_teardown(test_resize_bounds, teardown),
      cmocka_unit_test_teardown(test_no_memory, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
