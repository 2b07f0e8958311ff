/* test_fastpath.c - unit test: the engine's fast paths (single-threaded, and with the lock once there are threads) give exactly what its general paths give. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

#include <leaklab/leaklab.h>

#include "engine.h"

/*
 * ll__track_alloc_ips_c with a stack cache and ll_track_free take a fast path while the process
 * has one thread (tracker_record.c); without a cache the allocation takes the general path, and
 * the same stream through both must leave the same figures. The stream is built to leave the
 * key's home bucket often: a few thousand addresses live at once (full buckets, keys further on,
 * growth and shrinking), allocations at addresses still live (a free the tracker never saw: a
 * stale record), and frees of addresses never recorded; halfway the traceback limit changes.
 */

#define NADDR 6000
#define NEVENTS 300000
#define P(i) ((void *)(uintptr_t)(0x7f0000100000ull + (uintptr_t)(i) * 32u))

static const uintptr_t STACKS[4][3] = {
    {0x401000, 0x402000, 0x403000},
    {0x401100, 0x402000, 0x403000},
    {0x401200, 0x402100, 0x403000},
    {0x401300, 0x402200, 0x403100},
};

static uint64_t rnd(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}

/* Every figure the tracker keeps, in one comparable form: per traceback of each moment (by its
 * innermost frame and depth), the totals, the histogram. */
typedef struct figures {
  size_t cur, peak;
  uint64_t at[4][4][3][3][3]; /* moment, stack, depth - 1, frames kept - 1: size, usable, count */
  uint64_t hist_counts[LL__HIST_BUCKETS], hist_bytes[LL__HIST_BUCKETS];
  uint64_t total_allocs, total_bytes, untracked;
} figures_t;

static int stack_of(const ll_traceback_t *tb) {
  for (int k = 0; k < 4; k++)
    if (tb->frames[0].ip == STACKS[k][0]) return k;
  return -1;
}

static void take(int moment, int (*snap)(ll_snapshot_t **), figures_t *f) {
  ll_snapshot_t *s;
  assert_int_equal(snap(&s), 0);
  for (size_t i = 0; i < s->ntraces; i++) {
    const ll_trace_t *t = &s->traces[i];
    int k = stack_of(t->traceback), d = t->traceback->total_nframe, m = t->traceback->nframe;
    assert_true(k >= 0 && d >= 1 && d <= 3 && m >= 1 && m <= d);
    f->at[moment][k][d - 1][m - 1][0] += t->size;
    f->at[moment][k][d - 1][m - 1][1] += t->usable;
    f->at[moment][k][d - 1][m - 1][2] += t->count;
  }
  if (moment == 3) {
    f->total_allocs = s->total_allocations;
    f->total_bytes = s->total_bytes;
    f->untracked = s->untracked_allocations;
  }
  ll_snapshot_free(s);
}

/* The stream (the same for a given seed), through the fast paths (cached) or not. */
static void run(uint64_t seed, int cached, figures_t *f) {
  static char live[NADDR];
  ll__tbcache_t cache;
  memset(&cache, 0, sizeof cache);
  memset(live, 0, sizeof live);
  memset(f, 0, sizeof *f);
  assert_int_equal(ll_start(16), 0);
  uint64_t s = seed;
  int k = 0;
  for (int e = 0; e < NEVENTS; e++) {
    /* Halfway, a new traceback limit (ll_start while tracing): the cache's 3-frame stacks now
     * keep 2 frames, and must not give their 3-frame ids any more. */
    if (e == NEVENTS / 2) assert_int_equal(ll_start(2), 0);
    /* Phases: mostly allocations, then mostly frees, so the table grows and shrinks. */
    int alloc_pct = (e / 20000) % 2 == 0 ? 70 : 30;
    uint64_t r = rnd(&s);
    int i = (int)(r % NADDR);
    if ((int)((r >> 32) % 100) < alloc_pct) {
      size_t size = (size_t)(rnd(&s) % 300), usable = size + (size_t)(rnd(&s) % 24);
      if (rnd(&s) % 4 == 0) k = (int)(rnd(&s) % 4); /* mostly the same stack as before */
      int depth = 1 + k % 3;
      ll__track_alloc_ips_c(P(i), size, usable, STACKS[k], depth, cached ? &cache : NULL);
      live[i] = 1; /* a live one again: its old record is stale */
    } else if ((r >> 40) % 50 == 0) {
      ll_track_free(P(NADDR + i)); /* never recorded */
    } else {
      ll_track_free(P(i));
      live[i] = 0;
    }
  }
  ll_get_traced_memory(&f->cur, &f->peak);
  take(0, ll_take_snapshot, f);
  take(1, ll_take_peak_snapshot, f);
  take(2, ll__take_temporary_snapshot, f);
  take(3, ll__take_allocations_snapshot, f);
  ll__get_size_histogram(f->hist_counts, f->hist_bytes);
  ll_stop();
}

/* Every figure the two runs left, equal. */
static void assert_same(const figures_t *a, const figures_t *b) {
  assert_int_equal(a->cur, b->cur);
  assert_int_equal(a->peak, b->peak);
  assert_int_equal(a->total_allocs, b->total_allocs);
  assert_int_equal(a->total_bytes, b->total_bytes);
  assert_int_equal(a->untracked, b->untracked);
  assert_memory_equal(a->at, b->at, sizeof a->at);
  assert_memory_equal(a->hist_counts, b->hist_counts, sizeof a->hist_counts);
  assert_memory_equal(a->hist_bytes, b->hist_bytes, sizeof a->hist_bytes);
}

static void test_fast_equals_general(void **state) {
  (void)state;
  static figures_t fast, general;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    run(seed * 0x9E3779B97F4A7C15ull, 1, &fast);
    run(seed * 0x9E3779B97F4A7C15ull, 0, &general);
    assert_true(fast.peak > 0 && fast.total_allocs > NEVENTS / 3);
    assert_same(&fast, &general);
  }
}

/* Pointers that do not pack as keys (at or above 2^48, misaligned) live in the wide table; the
 * fast free looks such a pointer up by its key bits, which no slot has, and must still find it
 * there (and a free of a key-alike address must not take another block's record). */
static void test_pointers_that_do_not_pack(void **state) {
  (void)state;
  ll__tbcache_t cache;
  memset(&cache, 0, sizeof cache);
  size_t cur, peak;
  void *high = (void *)(uintptr_t)0x1000000000040ull, *low = (void *)(uintptr_t)0x7f0000000040ull;
  void *odd = (void *)(uintptr_t)0x7f0000000044ull;
  assert_int_equal(ll_start(16), 0);
  ll__track_alloc_ips_c(low, 32, 32, STACKS[0], 1, &cache);
  ll__track_alloc_ips_c(high, 100, 104, STACKS[0], 1, &cache);
  ll__track_alloc_ips_c(odd, 7, 7, STACKS[0], 1, &cache);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 139);
  ll_track_free((void *)(uintptr_t)0x1000000000048ull); /* never recorded */
  ll_track_free((void *)(uintptr_t)0x7f0000000041ull);  /* never recorded: not low's */
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 139);
  ll_track_free(high);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 39);
  ll_track_free(odd);
  ll_track_free(low);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 0);
  assert_int_equal(peak, 139);
  /* A record that does not pack (slack 2^20) at an address that does, then the address live
   * again, freed unseen: the fast put must not take a home bucket while the wide table holds
   * the stale record. */
  void *again = (void *)(uintptr_t)0x7f0000000080ull;
  ll__track_alloc_ips_c(again, 10, 10 + (1u << 20), STACKS[0], 1, &cache);
  ll__track_alloc_ips_c(again, 20, 24, STACKS[0], 1, &cache);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 20);
  ll_track_free(again);
  ll_track_free(again);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 0);
  ll_stop();
}

static void *nothing(void *arg) { return arg; }

/* Once the process has had a second thread, the same fast paths run with the lock held
 * (alloc_locked_fast, free_locked_fast), and frees no longer take the single-threaded one: the
 * stream, cached or not, leaves what the single-threaded general path left. Last: glibc never
 * sets __libc_single_threaded again. */
static void test_locked_fast_equals_general(void **state) {
  (void)state;
  static figures_t general, locked_fast, locked_general;
  const uint64_t seed = 0x9E3779B97F4A7C15ull;
  assert_true(__libc_single_threaded);
  run(seed, 0, &general);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, nothing, NULL), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_false(__libc_single_threaded);
  run(seed, 1, &locked_fast);
  run(seed, 0, &locked_general);
  assert_true(locked_fast.peak > 0 && locked_fast.total_allocs > NEVENTS / 3);
  assert_same(&locked_fast, &general);
  assert_same(&locked_general, &general);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fast_equals_general),
      cmocka_unit_test(test_pointers_that_do_not_pack),
      cmocka_unit_test(test_locked_fast_equals_general), /* last: the process has threads after */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
