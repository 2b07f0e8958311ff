/* test_reach_order.c - the exit scan's holders on a random heap equal a plain level-by-level reference, whatever way the scan batches its lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "engine.h"
#include "reach.h"

/* NB blocks of 64 bytes side by side (some shorter: gaps), one traceback each (id k is block
 * k); 200 KiB, so many pointers are far from their block (looked up in sorted chunks) and
 * many near (at once). Block WIDE does not pack in the live table (its slack is too big). */
enum { NB = 3200, WORDS = 8, WIDE = 1234 };
static uint64_t heap[NB * WORDS] __attribute__((aligned(64)));
static uint64_t size_of[NB];
#define BLK(k) ((uint64_t)(uintptr_t)&heap[(size_t)(k) * WORDS])

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Roots: globals (two ranges), then a stack; named stack first to check the kinds' order. */
static uint64_t g1[24], g2[8], stk[16];

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < NB * WORDS; i++) {
    uint64_t x = next_rand() % 100, k = next_rand() % NB;
    heap[i] = x < 18 ? BLK(k) : x < 22 ? BLK(k) + 8 * (1 + next_rand() % 4) : next_rand() % 4096;
  }
  for (int k = 0; k < NB; k++) size_of[k] = next_rand() % 5 == 0 ? 40 : 64;
  for (size_t i = 0; i < 24; i++) g1[i] = i % 3 == 0 ? BLK(next_rand() % NB) : i;
  g1[5] = BLK(7) + 8; /* an interior pointer from a global */
  for (size_t i = 0; i < 8; i++) g2[i] = BLK(next_rand() % NB);
  for (size_t i = 0; i < 16; i++) stk[i] = BLK(next_rand() % NB) + (i % 2) * 16;
  assert_int_equal(ll_start(1), 0);
  for (int k = 0; k < NB; k++) {
    uintptr_t ip = 0x401000u + (uintptr_t)k * 16u;
    uint64_t usable = k == WIDE ? size_of[k] + 300000 : size_of[k];
    ll__track_alloc_ips_c((void *)(uintptr_t)BLK(k), size_of[k], usable, &ip, 1, NULL);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ll_stop();
  return 0;
}

/* ---- the reference: reach.h's rules, read literally ------------------------------------- */

enum { U = 0, P = 1, R = 2 };
static int st[NB], done_p[NB], done_r[NB];
static long holder[NB]; /* a block, or -1 - the root word's index in all_roots */
static const uint64_t *all_roots[64];
static int nroots;
static int cur[2 * NB], next[2 * NB], ncur, nnext;

static int find(uint64_t w) {
  if (w < BLK(0) || w >= BLK(NB)) return -1;
  int k = (int)((w - BLK(0)) / 64);
  return w - BLK(k) < size_of[k] ? k : -1;
}

/* One word, in reading order: the first to give a block its state holds it. */
static void ref_mark(uint64_t w, long h, int definite) {
  int k = find(w);
  if (k < 0) return;
  if (definite && w == BLK(k)) {
    if (st[k] == R) return;
    st[k] = R;
  } else {
    if (st[k] != U) return;
    st[k] = P;
  }
  holder[k] = h;
  next[nnext++] = k;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Level after level: each level's blocks in address order, as they were when it began. */
static void ref_levels(void) {
  while (nnext > 0) {
    memcpy(cur, next, (size_t)nnext * sizeof *cur);
    ncur = nnext;
    nnext = 0;
    qsort(cur, (size_t)ncur, sizeof *cur, cmp_int);
    int take[2 * NB], def[2 * NB];
    for (int i = 0; i < ncur; i++) {
      int k = cur[i];
      def[i] = st[k] == R;
      take[i] = (i == 0 || cur[i - 1] != k) && !(def[i] ? done_r[k] : done_p[k]);
      if (take[i]) *(def[i] ? &done_r[k] : &done_p[k]) = 1;
    }
    for (int i = 0; i < ncur; i++)
      if (take[i])
        for (int w = 0; w < WORDS && (uint64_t)w * 8 + 8 <= size_of[cur[i]]; w++)
          ref_mark(heap[(size_t)cur[i] * WORDS + (size_t)w], cur[i], def[i]);
  }
}

static void ref_roots(const uint64_t *lo, size_t n) {
  for (size_t i = 0; i < n; i++) {
    all_roots[nroots] = &lo[i];
    ref_mark(lo[i], -1 - nroots, 1);
    nroots++;
  }
}

static void reference(void) {
  memset(st, 0, sizeof st);
  memset(done_p, 0, sizeof done_p);
  memset(done_r, 0, sizeof done_r);
  nroots = nnext = 0;
  ref_roots(g1, 24);
  ref_roots(g2, 8);
  ref_levels();
  ref_roots(stk, 16);
  ref_levels();
}

/* ---- the scan against it --------------------------------------------------------------- */

static ll__reach_t *scan(void) {
  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  ll__reach_root(r, (uintptr_t)stk, (uintptr_t)(stk + 16), LL__ROOT_STACK, 0);
  ll__reach_root(r, (uintptr_t)g1, (uintptr_t)(g1 + 24), LL__ROOT_GLOBAL, 0);
  ll__reach_root(r, (uintptr_t)g2, (uintptr_t)(g2 + 8), LL__ROOT_GLOBAL, 0);
  assert_int_equal(ll__reach_finish(r), 0);
  return r;
}

static void check(const ll__reach_t *r) {
  static long got[NB];
  static int kind[NB];
  for (int k = 0; k < NB; k++) {
    got[k] = LONG_MIN;
    kind[k] = -1;
    for (int c = 0; c < LL__REACH_KINDS; c++)
      if (r->tbs[k].blocks[c] == 1) kind[k] = c;
  }
  for (size_t i = 0; i < r->nedge; i++) {
    assert_int_equal(r->edges[i].blocks, 1);
    got[r->edges[i].held] = r->edges[i].holder;
  }
  for (size_t i = 0; i < r->nroot; i++) {
    long h = LONG_MIN;
    for (int q = 0; q < nroots; q++)
      if ((uintptr_t)all_roots[q] == r->roots[i].addr) h = -1 - q;
    assert_int_equal(r->roots[i].blocks, 1);
    got[r->roots[i].held] = h;
  }
  int reached = 0;
  for (int k = 0; k < NB; k++) {
    if (st[k] == U) {
      if (kind[k] != LL__REACH_DEFINITE && kind[k] != LL__REACH_INDIRECT)
        fail_msg("block %d: kind %d, want a lost one", k, kind[k]);
      continue;
    }
    reached++;
    int want = st[k] == R ? LL__REACH_REACHABLE : LL__REACH_POSSIBLE;
    if (kind[k] != want) fail_msg("block %d: kind %d, want %d", k, kind[k], want);
    if (got[k] != holder[k]) fail_msg("block %d: held by %ld, want %ld", k, got[k], holder[k]);
  }
  assert_true(reached > NB / 2); /* the heap is mostly reached: the test means something */
}

static void test_reference(void **state) {
  (void)state;
  reference();
  /* The defaults; every far word sorted, a chunk of 3; none sorted; and the same twice. */
  static const size_t tune[][2] = {{0, 0}, {3, 1}, {0, SIZE_MAX}, {0, 0}};
  for (size_t t = 0; t < sizeof tune / sizeof tune[0]; t++) {
    ll__reach_tune(tune[t][0], tune[t][1]);
    ll__reach_t *r = scan();
    check(r);
    ll__reach_free(r);
  }
  ll__reach_tune(0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reference, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
