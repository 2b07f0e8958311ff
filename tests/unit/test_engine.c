/* test_engine.c - unit tests of the tracking engine: accounting, peak snapshot, realloc, interning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "engine.h"

/* Fake block addresses: the tracker never dereferences them, so tests need no real memory. */
#define P(i) ((void *)(uintptr_t)(0x10000000u + (uintptr_t)(i) * 16u))

/* One compile-time site per line 100 + k; lines identify tracebacks in snapshots. */
#define NSITE 8
static const ll_site_t SITE[NSITE] = {
    {"alpha.c", "f0", 100}, {"alpha.c", "f1", 101}, {"beta.c", "f2", 102},
    {"beta.c", "f3", 103},  {"gamma.c", "f4", 104}, {"gamma.c", "f5", 105},
    {"delta.c", "f6", 106}, {"delta.c", "f7", 107},
};

static void snap_free(ll_snapshot_t *s) {
  /* The snapshot-ops file (ll_snapshot_free) is another unit; freeing the arena is the same. */
  if (s != NULL) ll__arena_free(s->ll__arena);
}

static void alloc_at(int i, size_t size, int site) {
  ll_track_alloc(P(i), size, size, &SITE[site], 1);
}

static const ll_trace_t *find_line(const ll_snapshot_t *s, uint32_t line) {
  for (size_t i = 0; i < s->ntraces; i++)
    if (s->traces[i].traceback->frames[0].lineno == line) return &s->traces[i];
  return NULL;
}

static uint64_t sum_size(const ll_snapshot_t *s) {
  uint64_t t = 0;
  for (size_t i = 0; i < s->ntraces; i++) t += s->traces[i].size;
  return t;
}

static void expect_mem(size_t cur, size_t peak) {
  size_t c, p;
  ll_get_traced_memory(&c, &p);
  assert_int_equal(c, cur);
  assert_int_equal(p, peak);
}

static int teardown(void **state) {
  (void)state;
  ll__tracker_test_fail_memory(0);
  ll_stop();
  return 0;
}

/* ---- errors and names ---------------------------------------------------------------------- */

static void test_errors(void **state) {
  (void)state;
  assert_string_equal(ll_strerror(LL_ETRUNC), "file is truncated");
  assert_string_equal(ll_strerror(LL_EINVAL), "invalid argument");
  assert_string_equal(ll_strerror(LL_ENOTRACING), "tracing is not started");
  assert_string_equal(ll_strerror(-EPIPE), strerror(EPIPE));
  assert_string_equal(ll_err_name(LL_ECHECKSUM), "LL_ECHECKSUM");
  assert_string_equal(ll_err_name(LL_ENOMEM), "LL_ENOMEM");
  assert_string_equal(ll_err_name(-9999), "LL_UNKNOWN");
  assert_string_equal(ll_at_name(LL_AT_CURRENT), "current");
  assert_string_equal(ll_at_name(LL_AT_PEAK), "peak");
  assert_string_equal(ll_at_name(LL_AT_END), "end");
  assert_string_equal(ll_at_name(LL_AT_LEAKS), "leaks");
  assert_string_equal(ll_at_name(LL_AT_TEMPORARY), "temporary");
  assert_string_equal(ll_at_name(LL_AT_ALLOCATIONS), "allocations");
  assert_string_equal(ll_at_name(LL_AT__COUNT), "unknown");
  assert_string_equal(ll_group_name(LL_GROUP_LINENO), "lineno");
  assert_string_equal(ll_group_name(LL_GROUP_FILENAME), "filename");
  assert_string_equal(ll_group_name(LL_GROUP_TRACEBACK), "traceback");
}

/* ---- start / stop -------------------------------------------------------------------------- */

static void test_start_validation(void **state) {
  (void)state;
  assert_int_equal(ll_get_traceback_limit(), 1);
  assert_int_equal(ll_start(0), LL_EINVAL);
  assert_int_equal(ll_start(-3), LL_EINVAL);
  assert_int_equal(ll_start(LL_MAX_NFRAME + 1), LL_EINVAL);
  assert_false(ll_is_tracing());
  assert_int_equal(ll_start(LL_MAX_NFRAME), 0);
  assert_int_equal(ll_get_traceback_limit(), LL_MAX_NFRAME);
  assert_true(ll_is_tracing());
  alloc_at(1, 10, 0);
  /* Starting again only changes the limit: the live block stays. */
  assert_int_equal(ll_start(5), 0);
  assert_int_equal(ll_get_traceback_limit(), 5);
  expect_mem(10, 10);
}

static void test_stop_start(void **state) {
  (void)state;
  ll_snapshot_t *s = NULL;
  assert_int_equal(ll_take_snapshot(&s), LL_ENOTRACING);
  assert_int_equal(ll_take_peak_snapshot(&s), LL_ENOTRACING);
  assert_null(s);
  ll_start(1);
  for (int i = 0; i < 1000; i++) alloc_at(i, 8, i % NSITE);
  assert_true(ll_get_tracker_memory() > 0);
  ll_stop();
  assert_false(ll_is_tracing());
  expect_mem(0, 0);
  assert_int_equal(ll_get_tracker_memory(), 0);
  alloc_at(5000, 10, 0); /* ignored while stopped */
  ll_track_free(P(1));
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.total_allocations, 0);
  assert_int_equal(c.live_blocks, 0);
  ll_start(1);
  expect_mem(0, 0);
  ll_track_free(P(1)); /* the old session's block is forgotten */
  alloc_at(1, 7, 0);
  expect_mem(7, 7);
  ll_get_counters(&c);
  assert_int_equal(c.total_allocations, 1);
  assert_int_equal(c.live_blocks, 1);
}

/* ---- current / peak ------------------------------------------------------------------------ */

static void test_current_peak(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 100, 0);
  alloc_at(2, 200, 1);
  expect_mem(300, 300);
  ll_track_free(P(1));
  expect_mem(200, 300);
  alloc_at(3, 50, 2);
  expect_mem(250, 300);
  alloc_at(4, 51, 2);
  expect_mem(301, 301);
  ll_track_free(P(999)); /* unknown pointers are ignored */
  ll_track_free(NULL);
  ll_track_alloc(NULL, 10, 10, &SITE[0], 1);
  expect_mem(301, 301);
  ll_track_free(P(2));
  ll_track_free(P(3));
  ll_track_free(P(4));
  expect_mem(0, 301);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.total_allocations, 4);
  assert_int_equal(c.total_bytes, 401);
  assert_int_equal(c.live_blocks, 0);
  assert_int_equal(c.untracked_allocations, 0);
}

static void test_reset_peak(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 1000, 0);
  alloc_at(2, 10, 1);
  ll_track_free(P(1));
  expect_mem(10, 1010);
  ll_reset_peak();
  expect_mem(10, 10);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  assert_int_equal(find_line(s, 101)->size, 10);
  assert_int_equal(s->peak_bytes, 10);
  snap_free(s);
  alloc_at(3, 5, 2);
  ll_track_free(P(3));
  expect_mem(10, 15);
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 2);
  assert_int_equal(find_line(s, 102)->size, 5);
  assert_int_equal(sum_size(s), 15);
  snap_free(s);
}

/* ---- the peak snapshot ---------------------------------------------------------------------- */

/* Each pattern: the expected peak set as (site line, size, count) triples. */
static void check_peak(const uint32_t *lines, const uint64_t *sizes, const uint64_t *counts,
                       size_t n, uint64_t peak) {
  ll_snapshot_t *s;
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  assert_int_equal(s->at, LL_AT_PEAK);
  assert_int_equal(s->peak_bytes, peak);
  assert_int_equal(sum_size(s), peak);
  assert_int_equal(s->ntraces, n);
  for (size_t i = 0; i < n; i++) {
    const ll_trace_t *t = find_line(s, lines[i]);
    assert_non_null(t);
    assert_int_equal(t->size, sizes[i]);
    assert_int_equal(t->count, counts[i]);
  }
  snap_free(s);
}

static void test_peak_patterns(void **state) {
  (void)state;
  /* 1. ramp up at one site, free everything, smaller ramp at another: peak is the first. */
  ll_start(1);
  for (int i = 0; i < 10; i++) alloc_at(i, 100, 0);
  for (int i = 0; i < 10; i++) ll_track_free(P(i));
  for (int i = 0; i < 5; i++) alloc_at(100 + i, 100, 1);
  check_peak((uint32_t[]){100}, (uint64_t[]){1000}, (uint64_t[]){10}, 1, 1000);
  ll_stop();

  /* 2. the same peak reached twice: the first moment is kept (strictly greater moves it). */
  ll_start(1);
  alloc_at(1, 300, 0);
  ll_track_free(P(1));
  alloc_at(2, 300, 1);
  check_peak((uint32_t[]){100}, (uint64_t[]){300}, (uint64_t[]){1}, 1, 300);
  alloc_at(3, 1, 2); /* now a new peak: both later sites */
  check_peak((uint32_t[]){101, 102}, (uint64_t[]){300, 1}, (uint64_t[]){1, 1}, 2, 301);
  ll_stop();

  /* 3. a site that changes after the peak keeps its peak value; untouched sites read cur. */
  ll_start(1);
  alloc_at(1, 50, 0);
  alloc_at(2, 70, 1);
  alloc_at(3, 30, 2); /* peak 150 */
  ll_track_free(P(2));
  alloc_at(4, 60, 1); /* 140: below peak */
  alloc_at(5, 5, 0);  /* 145 */
  check_peak((uint32_t[]){100, 101, 102}, (uint64_t[]){50, 70, 30}, (uint64_t[]){1, 1, 1}, 3,
             150);
  alloc_at(6, 10, 3); /* 155: new peak, the current set */
  check_peak((uint32_t[]){100, 101, 102, 103}, (uint64_t[]){55, 60, 30, 10},
             (uint64_t[]){2, 1, 1, 1}, 4, 155);
  ll_stop();

  /* 4. a site that did not exist at the peak does not appear in it. */
  ll_start(1);
  alloc_at(1, 500, 0);
  ll_track_free(P(1));
  alloc_at(2, 100, 4);
  alloc_at(3, 100, 5);
  check_peak((uint32_t[]){100}, (uint64_t[]){500}, (uint64_t[]){1}, 1, 500);
  ll_stop();

  /* 5. zero-size blocks count as blocks but add nothing. */
  ll_start(1);
  alloc_at(1, 0, 0);
  alloc_at(2, 8, 1);
  check_peak((uint32_t[]){100, 101}, (uint64_t[]){0, 8}, (uint64_t[]){1, 1}, 2, 8);
  ll_stop();

  /* 6. the peak after reset_peak is the live set of that moment even if it later shrinks. */
  ll_start(1);
  alloc_at(1, 1000, 0);
  ll_track_free(P(1));
  alloc_at(2, 40, 1);
  alloc_at(3, 60, 2);
  ll_reset_peak();
  ll_track_free(P(3));
  alloc_at(4, 20, 3);
  check_peak((uint32_t[]){101, 102}, (uint64_t[]){40, 60}, (uint64_t[]){1, 1}, 2, 100);
}

/* Brute force: a model that copies every site's totals at each new peak. */
#define MSLOT 96
typedef struct {
  int live;
  uint64_t size, usable;
  int tb;
} mblock_t;
typedef struct {
  uint64_t size, usable, count;
} mtot_t;
static mblock_t mb[MSLOT];
static mtot_t mcur[NSITE], mpeak[NSITE];
static uint64_t mcurrent, mpeak_bytes;

static void model_peak_check(void) {
  if (mcurrent > mpeak_bytes) {
    mpeak_bytes = mcurrent;
    memcpy(mpeak, mcur, sizeof mcur);
  }
}
static void model_add(int slot, uint64_t size, uint64_t usable, int tb) {
  mb[slot] = (mblock_t){1, size, usable, tb};
  mcur[tb].size += size, mcur[tb].usable += usable, mcur[tb].count++;
  mcurrent += size;
  model_peak_check();
}
static void model_del(int slot) {
  mblock_t *b = &mb[slot];
  mcur[b->tb].size -= b->size, mcur[b->tb].usable -= b->usable, mcur[b->tb].count--;
  mcurrent -= b->size;
  b->live = 0;
}

/* Traceback k: site k, called from site (k+1) % NSITE for odd k (two frames). */
static void engine_alloc(int slot, uint64_t size, uint64_t usable, int tb) {
  ll_site_t st[2] = {SITE[tb], SITE[(tb + 1) % NSITE]};
  ll_track_alloc(P(slot), size, usable, st, tb % 2 ? 2 : 1);
}

static void compare_snapshot(const ll_snapshot_t *s, const mtot_t *m) {
  size_t expected = 0;
  for (int k = 0; k < NSITE; k++) {
    const ll_trace_t *t = find_line(s, 100 + k);
    if (m[k].count == 0) {
      assert_null(t);
      continue;
    }
    expected++;
    assert_non_null(t);
    assert_int_equal(t->size, m[k].size);
    assert_int_equal(t->usable, m[k].usable);
    assert_int_equal(t->count, m[k].count);
    assert_int_equal(t->traceback->nframe, k % 2 ? 2 : 1);
  }
  assert_int_equal(s->ntraces, expected);
}

static void check_against_model(void) {
  ll_snapshot_t *s;
  expect_mem(mcurrent, mpeak_bytes);
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  compare_snapshot(s, mpeak);
  assert_int_equal(sum_size(s), mpeak_bytes);
  snap_free(s);
  assert_int_equal(ll_take_snapshot(&s), 0);
  compare_snapshot(s, mcur);
  assert_int_equal(sum_size(s), mcurrent);
  snap_free(s);
}

static void test_peak_random_vs_model(void **state) {
  (void)state;
  for (unsigned seed = 1; seed <= 20; seed++) {
    srand(seed);
    memset(mb, 0, sizeof mb), memset(mcur, 0, sizeof mcur), memset(mpeak, 0, sizeof mpeak);
    mcurrent = mpeak_bytes = 0;
    ll_start(4);
    for (int op = 0; op < 4000; op++) {
      int slot = rand() % MSLOT, r = rand() % 100;
      uint64_t size = (uint64_t)(rand() % (r < 5 ? 5000 : 300));
      uint64_t usable = size + (uint64_t)(rand() % 24);
      int tb = rand() % NSITE;
      if (r < 40) { /* malloc (replaces a live record at a reused address) */
        if (mb[slot].live) model_del(slot);
        model_add(slot, size, usable, tb);
        engine_alloc(slot, size, usable, tb);
      } else if (r < 75) { /* free (also of never-allocated slots) */
        if (mb[slot].live) model_del(slot);
        ll_track_free(P(slot));
      } else if (r < 95) { /* realloc: move, in place, failure, or to size 0 */
        int to = rand() % MSLOT, kind = rand() % 4;
        ll_realloc_token_t tok;
        ll_track_realloc_begin(P(slot), &tok);
        mblock_t old = mb[slot];
        if (old.live) model_del(slot);
        if (kind == 0 && !mb[to].live && to != slot) { /* moved */
          model_add(to, size, usable, tb);
          ll_site_t st[2] = {SITE[tb], SITE[(tb + 1) % NSITE]};
          ll_track_realloc_end(&tok, P(to), size, usable, st, tb % 2 ? 2 : 1);
        } else if (kind == 1) { /* in place */
          model_add(slot, size, usable, tb);
          ll_site_t st[2] = {SITE[tb], SITE[(tb + 1) % NSITE]};
          ll_track_realloc_end(&tok, P(slot), size, usable, st, tb % 2 ? 2 : 1);
        } else if (kind == 2) { /* freed by realloc(p, 0) */
          ll_track_realloc_end(&tok, NULL, 0, 0, &SITE[tb], 1);
        } else { /* failed: the old block comes back */
          if (old.live) model_add(slot, old.size, old.usable, old.tb);
          ll_track_realloc_end(&tok, NULL, size + 1, 0, &SITE[tb], 1);
        }
      } else if (r < 97) {
        ll_reset_peak();
        mpeak_bytes = mcurrent;
        memcpy(mpeak, mcur, sizeof mcur);
      } else {
        check_against_model();
      }
    }
    check_against_model();
    ll_stop();
  }
}

/* ---- clear_traces -------------------------------------------------------------------------- */

static void test_clear_traces(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 100, 0);
  alloc_at(2, 200, 1);
  ll_frame_t f[1];
  assert_int_equal(ll_get_object_traceback(P(1), f, 1), 1);
  const char *interned = f[0].filename;
  ll_clear_traces();
  assert_true(ll_is_tracing());
  expect_mem(0, 0);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, 0);
  assert_int_equal(c.total_allocations, 2); /* totals are since start */
  assert_string_equal(interned, "alpha.c"); /* interned strings live until ll_stop */
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 0);
  snap_free(s);
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 0);
  snap_free(s);
  ll_track_free(P(1)); /* forgotten: ignored */
  expect_mem(0, 0);
  alloc_at(3, 30, 2);
  expect_mem(30, 30);
  check_peak((uint32_t[]){102}, (uint64_t[]){30}, (uint64_t[]){1}, 1, 30);
}

/* ---- realloc -------------------------------------------------------------------------------- */

static void realloc_to(int from, int to, size_t size, int site) {
  ll_realloc_token_t tok;
  ll_track_realloc_begin(from < 0 ? NULL : P(from), &tok);
  ll_track_realloc_end(&tok, to < 0 ? NULL : P(to), size, size, &SITE[site], 1);
}

static void test_realloc_protocol(void **state) {
  (void)state;
  ll_start(1);
  realloc_to(-1, 1, 100, 0); /* realloc(NULL, 100) is a malloc */
  expect_mem(100, 100);
  realloc_to(1, 1, 300, 1); /* grow in place: the new site owns it */
  expect_mem(300, 300);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  assert_int_equal(find_line(s, 101)->size, 300);
  snap_free(s);
  realloc_to(1, 1, 50, 1); /* shrink */
  expect_mem(50, 300);
  realloc_to(1, 2, 400, 2); /* move: old gone, new live; peak counts the net change */
  expect_mem(400, 400);
  check_peak((uint32_t[]){102}, (uint64_t[]){400}, (uint64_t[]){1}, 1, 400);
  ll_track_free(P(1));
  expect_mem(400, 400);

  /* failure: the old record is restored, with its site and sizes */
  ll_realloc_token_t tok;
  ll_track_realloc_begin(P(2), &tok);
  assert_true(tok.had_record);
  assert_int_equal(tok.size, 400);
  expect_mem(0, 400);
  ll_track_realloc_end(&tok, NULL, 1 << 20, 0, &SITE[3], 1);
  expect_mem(400, 400);
  ll_frame_t f;
  assert_int_equal(ll_get_object_traceback(P(2), &f, 1), 1);
  assert_int_equal(f.lineno, 102);

  /* realloc(p, 0) that frees */
  realloc_to(2, -1, 0, 3);
  expect_mem(0, 400);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, 0);
  assert_int_equal(c.total_allocations, 4); /* NULL->100, 300, 50, 400 */
  assert_int_equal(c.total_bytes, 850);

  /* realloc of an untracked pointer records the new block */
  realloc_to(77, 78, 9, 4);
  expect_mem(9, 400);
  /* a failed realloc of an untracked pointer leaves nothing behind */
  ll_track_realloc_begin(P(79), &tok);
  assert_false(tok.had_record);
  ll_track_realloc_end(&tok, NULL, 5, 0, &SITE[0], 1);
  expect_mem(9, 400);

  /* a token from before clear_traces must not resurrect a forgotten record */
  alloc_at(10, 64, 0);
  ll_track_realloc_begin(P(10), &tok);
  ll_clear_traces();
  ll_track_realloc_end(&tok, NULL, 128, 0, &SITE[0], 1);
  expect_mem(0, 0);
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, 0);
}

/* Peak stays exact when a failed realloc restores a block after other allocations. */
static void test_realloc_restore_peak(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 100, 0);
  ll_realloc_token_t tok;
  ll_track_realloc_begin(P(1), &tok);
  alloc_at(2, 50, 1); /* concurrent allocation while the record is out: 50 < 100 */
  ll_track_realloc_end(&tok, NULL, 1000, 0, &SITE[0], 1);
  expect_mem(150, 150); /* both were live at once */
  check_peak((uint32_t[]){100, 101}, (uint64_t[]){100, 50}, (uint64_t[]){1, 1}, 2, 150);
}

/* ---- replaced pointers, untracked --------------------------------------------------------- */

static void test_replaced_pointer(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 100, 0);
  alloc_at(1, 30, 1); /* same address again: the old block was freed without us seeing it */
  expect_mem(30, 100);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, 1);
  assert_int_equal(c.total_allocations, 2);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  assert_int_equal(find_line(s, 101)->size, 30);
  snap_free(s);
  ll_track_free(P(1));
  expect_mem(0, 100);
  /* replacing is not a temporary allocation */
  assert_int_equal(ll__take_temporary_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  assert_int_equal(find_line(s, 101)->count, 1); /* only the final free of the 30 B block */
  snap_free(s);
}

static void test_untracked(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(1, 10, 0);
  ll__tracker_test_fail_memory(1);
  /* A known site and room in the live table need no memory: still recorded. */
  alloc_at(2, 20, 0);
  expect_mem(30, 30);
  /* A new site needs interning memory: untracked, and the program goes on. */
  alloc_at(3, 40, 5);
  expect_mem(30, 30);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.untracked_allocations, 1);
  assert_int_equal(c.untracked_bytes, 40);
  assert_int_equal(c.total_allocations, 2);
  ll_track_free(P(3)); /* never recorded: ignored */
  /* Fill the live table until it would have to grow. */
  int i = 100;
  for (; i < 100000; i++) {
    alloc_at(i, 1, 0);
    ll_get_counters(&c);
    if (c.untracked_allocations > 1) break;
  }
  assert_true(i < 100000);
  uint64_t live = c.live_blocks;
  /* A pointer already live is replaced in place even without memory. */
  alloc_at(100, 2, 0);
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, live);
  assert_int_equal(c.untracked_allocations, 2);
  /* Replacing a live record with a block that cannot be recorded drops the stale record. */
  alloc_at(101, 3, 6);
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, live - 1);
  assert_int_equal(c.untracked_allocations, 3);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->untracked_allocations, 3);
  assert_int_equal(sum_size(s), s->current_bytes);
  snap_free(s);
  ll__tracker_test_fail_memory(0);
  alloc_at(i + 1, 1, 5);
  ll_get_counters(&c);
  assert_int_equal(c.untracked_allocations, 3);
  assert_int_equal(c.live_blocks, live);
}

/* Blocks the caller could not record (the preload's queue for signal handlers was full) are
 * counted as untracked, and only while tracing. */
static void test_untracked_counted(void **state) {
  (void)state;
  ll__track_untracked(2, 300); /* not tracing: nothing */
  ll_start(1);
  ll__track_untracked(2, 300);
  ll__track_untracked(0, 0);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.untracked_allocations, 2);
  assert_int_equal(c.untracked_bytes, 300);
  assert_int_equal(c.total_allocations, 0);
}

/* ---- temporaries, histogram ------------------------------------------------------------- */

static void test_temporary(void **state) {
  (void)state;
  ll_start(1);
  ll_snapshot_t *s;
  alloc_at(1, 10, 0);
  ll_track_free(P(1)); /* temporary */
  alloc_at(2, 20, 0);
  ll_track_free(P(2)); /* temporary */
  alloc_at(3, 30, 1);
  alloc_at(4, 40, 2);
  ll_track_free(P(3)); /* not: an allocation in between */
  ll_track_free(P(4)); /* temporary: the last allocation */
  alloc_at(5, 50, 3);
  ll_track_free(P(999)); /* unknown free does not disturb */
  ll_track_free(P(5));  /* temporary */
  ll_track_free(P(5));  /* double free: nothing */
  assert_int_equal(ll__take_temporary_snapshot(&s), 0);
  assert_int_equal(s->at, LL_AT_TEMPORARY);
  assert_int_equal(s->ntraces, 3);
  assert_int_equal(find_line(s, 100)->count, 2);
  assert_int_equal(find_line(s, 100)->size, 30);
  assert_null(find_line(s, 101));
  assert_int_equal(find_line(s, 102)->size, 40);
  assert_int_equal(find_line(s, 103)->size, 50);
  snap_free(s);
}

static void expect_trace(const ll_snapshot_t *s, uint32_t line, uint64_t size, uint64_t usable,
                         uint64_t count) {
  const ll_trace_t *t = find_line(s, line);
  if (t == NULL) fail_msg("line %u missing", line);
  assert_int_equal(t->size, size);
  assert_int_equal(t->usable, usable);
  assert_int_equal(t->count, count);
}

/* Every allocation per traceback since start, freed or not; a realloc is one allocation of its
 * new size (heaptrack's count), a failed realloc or one that frees (size 0) none. */
static void test_allocations(void **state) {
  (void)state;
  ll_snapshot_t *s;
  ll_realloc_token_t tok;
  ll_start(1);
  alloc_at(1, 100, 0);                         /* line 100: 1 x 100 */
  for (int i = 0; i < 4; i++) {                /* line 101: 4 x 16, all freed */
    alloc_at(10 + i, 16, 1);
    ll_track_free(P(10 + i));
  }
  realloc_to(1, 2, 5000, 2);                   /* line 102: moved to 5000 */
  realloc_to(2, 2, 40, 2);                     /* line 102: shrunk in place to 40 */
  ll_track_realloc_begin(P(2), &tok);          /* fails: the 40 bytes stay, nothing new */
  ll_track_realloc_end(&tok, NULL, 1u << 20, 0, &SITE[3], 1);
  ll_track_realloc_begin(P(2), &tok);          /* realloc(p, 0) frees: nothing new */
  ll_track_realloc_end(&tok, NULL, 0, 0, &SITE[3], 1);
  ll_track_alloc(P(20), 24, 32, &SITE[4], 1);  /* line 104: usable counts too */
  realloc_to(-1, 21, 7, 5);                    /* realloc(NULL, n) is a malloc: line 105 */
  assert_int_equal(ll__take_allocations_snapshot(&s), 0);
  assert_int_equal(s->at, LL_AT_ALLOCATIONS);
  assert_int_equal(s->ntraces, 5);
  expect_trace(s, 100, 100, 100, 1);
  expect_trace(s, 101, 64, 64, 4);
  expect_trace(s, 102, 5040, 5040, 2);
  assert_null(find_line(s, 103));
  expect_trace(s, 104, 24, 32, 1);
  expect_trace(s, 105, 7, 7, 1);
  uint64_t n = 0;
  for (size_t i = 0; i < s->ntraces; i++) n += s->traces[i].count;
  assert_int_equal(n, s->total_allocations);
  assert_int_equal(sum_size(s), s->total_bytes);
  assert_int_equal(s->total_allocations, 9);
  snap_free(s);
  /* The live set is not what was allocated. */
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(sum_size(s), 24 + 7);
  snap_free(s);
  /* clear_traces forgets them, as it forgets every trace. */
  ll_clear_traces();
  alloc_at(30, 8, 0);
  assert_int_equal(ll__take_allocations_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  expect_trace(s, 100, 8, 8, 1);
  snap_free(s);
  ll_stop();
  assert_int_equal(ll__take_allocations_snapshot(&s), LL_ENOTRACING);
}

static void test_histogram(void **state) {
  (void)state;
  uint64_t counts[LL__HIST_BUCKETS], bytes[LL__HIST_BUCKETS];
  ll_start(1);
  const size_t sizes[] = {0, 1, 2, 3, 4, 1023, 1024, 1025, (size_t)1 << 40};
  for (int i = 0; i < 9; i++) alloc_at(i, sizes[i], 0);
  realloc_to(0, 20, 5, 1); /* a realloc counts as an allocation of the new size */
  ll__get_size_histogram(counts, bytes);
  uint64_t want[LL__HIST_BUCKETS] = {0};
  want[0] = 1, want[1] = 1, want[2] = 2, want[3] = 2 /* 4, 5 */, want[10] = 1, want[11] = 2;
  want[41] = 1;
  for (int b = 0; b < LL__HIST_BUCKETS; b++) assert_int_equal(counts[b], want[b]);
  assert_int_equal(bytes[2], 5);
  assert_int_equal(bytes[3], 9);
  assert_int_equal(bytes[11], 2049);
  assert_int_equal(bytes[41], (uint64_t)1 << 40);
}

/* ---- frames, interning --------------------------------------------------------------------- */

static void test_object_traceback(void **state) {
  (void)state;
  ll_start(3);
  ll_site_t st[5] = {{"main.c", "leaf", 10}, {"main.c", "mid", 20}, {"lib.c", "root", 30},
                     {"x.c", "x", 1},         {"y.c", "y", 2}};
  ll_track_alloc(P(1), 64, 80, st, 5);
  ll_frame_t f[8];
  memset(f, 0, sizeof f);
  assert_int_equal(ll_get_object_traceback(P(1), f, 8), 3); /* truncated to the limit */
  assert_string_equal(f[0].filename, "main.c");
  assert_string_equal(f[0].function, "leaf");
  assert_int_equal(f[0].lineno, 10);
  assert_int_equal(f[0].ip, 0);
  assert_string_equal(f[2].function, "root");
  assert_int_equal(ll_get_object_traceback(P(1), f, 2), 2);
  assert_int_equal(ll_get_object_traceback(P(2), f, 8), 0);
  assert_int_equal(ll_get_object_traceback(P(1), f, 0), 0);

  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 1);
  assert_int_equal(s->traces[0].traceback->nframe, 3);
  assert_int_equal(s->traces[0].traceback->total_nframe, 5);
  assert_int_equal(s->traces[0].usable, 80);
  assert_int_equal(s->traceback_limit, 3);
  /* strings are copies owned by the snapshot */
  assert_ptr_not_equal(s->traces[0].traceback->frames[0].filename, st[0].file);
  assert_ptr_not_equal(s->traces[0].traceback->frames[0].filename, f[0].filename);
  snap_free(s);

  /* native frames */
  uintptr_t ips[4] = {0x401234, 0x405678, 0x409abc, 0x40def0};
  ll__track_alloc_ips_c(P(2), 16, 24, ips, 4, NULL);
  assert_int_equal(ll_get_object_traceback(P(2), f, 8), 3);
  assert_string_equal(f[0].filename, "<unknown>");
  assert_string_equal(f[0].function, "");
  assert_int_equal(f[0].lineno, 0);
  assert_int_equal(f[0].ip, 0x401234);
  assert_int_equal(f[2].ip, 0x409abc);
  ll_realloc_token_t tok;
  ll_track_realloc_begin(P(2), &tok);
  ll__track_realloc_end_ips_c(&tok, P(3), 32, 40, ips + 1, 1, NULL);
  assert_int_equal(ll_get_object_traceback(P(3), f, 8), 1);
  assert_int_equal(f[0].ip, 0x405678);
  assert_int_equal(ll_take_snapshot(&s), 0);
  const ll_trace_t *nat = NULL;
  for (size_t i = 0; i < s->ntraces; i++)
    if (s->traces[i].traceback->frames[0].ip == 0x405678) nat = &s->traces[i];
  assert_non_null(nat);
  assert_int_equal(nat->size, 32);
  assert_int_equal(nat->usable, 40);
  assert_string_equal(nat->traceback->frames[0].filename, "<unknown>");
  snap_free(s);
}

static void test_intern_by_content(void **state) {
  (void)state;
  ll_start(1);
  /* Two translation units' __FILE__ have different addresses but the same content. */
  char file_a[] = "same.c", file_b[] = "same.c", fn_a[] = "g", fn_b[] = "g";
  ll_site_t a = {file_a, fn_a, 42}, b = {file_b, fn_b, 42}, c = {file_b, fn_b, 43};
  ll_track_alloc(P(1), 10, 10, &a, 1);
  ll_track_alloc(P(2), 20, 20, &b, 1);
  ll_track_alloc(P(3), 5, 5, &c, 1);
  ll_site_t nulls = {NULL, NULL, 7};
  ll_track_alloc(P(4), 1, 1, &nulls, 1);
  ll_frame_t f1, f2;
  ll_get_object_traceback(P(1), &f1, 1);
  ll_get_object_traceback(P(2), &f2, 1);
  assert_ptr_equal(f1.filename, f2.filename);
  assert_ptr_equal(f1.function, f2.function);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 3);
  assert_int_equal(find_line(s, 42)->size, 30);
  assert_int_equal(find_line(s, 42)->count, 2);
  assert_int_equal(find_line(s, 43)->size, 5);
  assert_string_equal(find_line(s, 7)->traceback->frames[0].filename, "<unknown>");
  assert_string_equal(find_line(s, 7)->traceback->frames[0].function, "");
  snap_free(s);
  /* Tracebacks differing only in total depth are different tracebacks (tracemalloc's rule). */
  ll_site_t deep[2] = {a, c};
  ll_track_alloc(P(5), 1, 1, deep, 2); /* kept: 1 frame of 2 */
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 4);
  snap_free(s);
}

static void test_snapshot_fields(void **state) {
  (void)state;
  ll_set_program("./prog --flag");
  ll_start(2);
  alloc_at(1, 100, 0);
  alloc_at(2, 50, 1);
  ll_track_free(P(1));
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->at, LL_AT_CURRENT);
  assert_string_equal(s->program, "./prog --flag");
  assert_int_equal(s->current_bytes, 50);
  assert_int_equal(s->peak_bytes, 150);
  assert_int_equal(s->total_allocations, 2);
  assert_int_equal(s->total_bytes, 150);
  assert_int_equal(s->untracked_allocations, 0);
  assert_int_equal(s->traceback_limit, 2);
  assert_ptr_not_equal(s->ll__arena, NULL);
  /* the snapshot is independent of the tracker: it survives stop */
  ll_stop();
  assert_string_equal(s->traces[0].traceback->frames[0].filename, "alpha.c");
  snap_free(s);
  ll_set_program(NULL);
  ll_start(1);
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_string_equal(s->program, "");
  assert_int_equal(s->ntraces, 0);
  snap_free(s);
  assert_int_equal(ll_take_snapshot(NULL), LL_EINVAL);
}

/* ---- tracker memory ----------------------------------------------------------------------- */

static void test_tracker_memory(void **state) {
  (void)state;
  ll_start(1);
  alloc_at(0, 8, 0);
  ll_track_free(P(0));
  size_t base = ll_get_tracker_memory();
  double worst = 0, best = 1e9;
  int n = 0;
  for (int target = 100000; target <= 1600000; target += 10000) {
    for (; n < target; n++) alloc_at(n + 1, 32, n % NSITE);
    double per = (double)(ll_get_tracker_memory() - base) / n;
    if (per > worst) worst = per;
    if (per < best) best = per;
  }
  print_message("tracker memory per live block: %.1f .. %.1f bytes (100k..1.6M blocks)\n",
                best, worst);
  /* Historical bounds (24-byte entries): */
  assert_true(worst <= 48.5);
  assert_true(best <= 33.0);
  /* 16-byte entries, load kept in [9/16, 3/4] while growing: 21.3..28.5 bytes per block, plus
   * the interned tracebacks and page rounding. */
  assert_true(worst <= 32.0);
  /* memory follows the live set down */
  for (int i = 0; i < n; i++) ll_track_free(P(i + 1));
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.live_blocks, 0);
  assert_true(ll_get_tracker_memory() < base + 64 * 1024);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_errors, teardown),
      cmocka_unit_test_teardown(test_untracked_counted, teardown),
      cmocka_unit_test_teardown(test_start_validation, teardown),
      cmocka_unit_test_teardown(test_stop_start, teardown),
      cmocka_unit_test_teardown(test_current_peak, teardown),
      cmocka_unit_test_teardown(test_reset_peak, teardown),
      cmocka_unit_test_teardown(test_peak_patterns, teardown),
      cmocka_unit_test_teardown(test_peak_random_vs_model, teardown),
      cmocka_unit_test_teardown(test_clear_traces, teardown),
      cmocka_unit_test_teardown(test_realloc_protocol, teardown),
      cmocka_unit_test_teardown(test_realloc_restore_peak, teardown),
      cmocka_unit_test_teardown(test_replaced_pointer, teardown),
      cmocka_unit_test_teardown(test_untracked, teardown),
      cmocka_unit_test_teardown(test_temporary, teardown),
      cmocka_unit_test_teardown(test_allocations, teardown),
      cmocka_unit_test_teardown(test_histogram, teardown),
      cmocka_unit_test_teardown(test_object_traceback, teardown),
      cmocka_unit_test_teardown(test_intern_by_content, teardown),
      cmocka_unit_test_teardown(test_snapshot_fields, teardown),
      cmocka_unit_test_teardown(test_tracker_memory, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
