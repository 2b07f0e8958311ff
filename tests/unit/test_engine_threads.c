/* test_engine_threads.c - the engine under 8 threads (and waves of short-lived ones): cross-thread frees, reallocs, snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"

#define NTHREAD 8
#define ITERS 40000
#define QCAP 4096

static const ll_site_t SITES[4] = {
    {"threads.c", "worker", 10}, {"threads.c", "worker", 11},
    {"other.c", "helper", 20},   {"other.c", "grow", 30},
};

/* Blocks handed from one thread to another, so frees often happen on a different thread. */
static struct {
  pthread_mutex_t m;
  void *items[QCAP];
  size_t head, len;
} queue = {.m = PTHREAD_MUTEX_INITIALIZER};

static int push(void *p) {
  int ok = 0;
  pthread_mutex_lock(&queue.m);
  if (queue.len < QCAP) {
    queue.items[(queue.head + queue.len++) % QCAP] = p;
    ok = 1;
  }
  pthread_mutex_unlock(&queue.m);
  return ok;
}

static void *pop(void) {
  void *p = NULL;
  pthread_mutex_lock(&queue.m);
  if (queue.len > 0) {
    p = queue.items[queue.head];
    queue.head = (queue.head + 1) % QCAP;
    queue.len--;
  }
  pthread_mutex_unlock(&queue.m);
  return p;
}

static atomic_uint_fast64_t allocs, bytes;
static atomic_int stop_snapshots;

static void tracked_free(void *p) {
  ll_track_free(p); /* before the real free: the address may be reused at once */
  free(p);
}

static void *tracked_malloc(size_t n, int site) {
  void *p = malloc(n);
  if (p == NULL) return NULL;
  ll_track_alloc(p, n, malloc_usable_size(p), &SITES[site], 1);
  atomic_fetch_add(&allocs, 1);
  atomic_fetch_add(&bytes, n);
  return p;
}

static atomic_int worker_iters = ITERS;

static void *worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  void *mine[64] = {0};
  int iters = atomic_load(&worker_iters);
  for (int i = 0; i < iters; i++) {
    int r = rand_r(&seed) % 100, k = rand_r(&seed) % 64;
    size_t n = (size_t)(rand_r(&seed) % 512) + 1;
    if (r < 35) {
      if (mine[k] != NULL) tracked_free(mine[k]);
      mine[k] = tracked_malloc(n, rand_r(&seed) % 3);
    } else if (r < 55) { /* hand a block to whoever pops it */
      void *p = tracked_malloc(n, 2);
      if (p != NULL && !push(p)) tracked_free(p);
    } else if (r < 75) { /* free a block another thread made */
      void *p = pop();
      if (p != NULL) tracked_free(p);
    } else if (r < 90 && mine[k] != NULL) { /* realloc, the protocol the hooks use */
      ll_realloc_token_t tok;
      ll_track_realloc_begin(mine[k], &tok);
      void *q = realloc(mine[k], n * 2);
      ll_track_realloc_end(&tok, q, n * 2, q != NULL ? malloc_usable_size(q) : 0, &SITES[3], 1);
      if (q != NULL) {
        mine[k] = q;
        atomic_fetch_add(&allocs, 1);
        atomic_fetch_add(&bytes, n * 2);
      }
    } else if (mine[k] != NULL) {
      tracked_free(mine[k]);
      mine[k] = NULL;
    }
  }
  for (int k = 0; k < 64; k++)
    if (mine[k] != NULL) tracked_free(mine[k]);
  return NULL;
}

/* Snapshots taken while the workers run must always be internally consistent. Failures are
 * counted, not asserted: cmocka's asserts must run on the main thread. */
static atomic_int snapshot_errors;

static void *snapshotter(void *arg) {
  (void)arg;
  int taken = 0;
  while (!atomic_load(&stop_snapshots) || taken < 2) {
    ll_snapshot_t *s;
    int peak = taken % 2;
    if ((peak ? ll_take_peak_snapshot(&s) : ll_take_snapshot(&s)) != 0) {
      atomic_fetch_add(&snapshot_errors, 1);
      break;
    }
    uint64_t sum = 0, cnt = 0;
    for (size_t i = 0; i < s->ntraces; i++) sum += s->traces[i].size, cnt += s->traces[i].count;
    if (sum != (peak ? s->peak_bytes : s->current_bytes) || s->current_bytes > s->peak_bytes ||
        cnt > s->total_allocations)
      atomic_fetch_add(&snapshot_errors, 1);
    ll__arena_free(s->ll__arena);
    size_t c, p;
    ll_get_traced_memory(&c, &p);
    if (c > p) atomic_fetch_add(&snapshot_errors, 1);
    taken++;
  }
  return (void *)(uintptr_t)taken;
}

/* Every block freed: the tracker's figures are exactly the workers' own counts, and the peak
 * snapshot's traces add up to the peak. Returns the peak. */
static size_t assert_exact_end(void) {
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(cur, 0);
  assert_int_equal(c.live_blocks, 0);
  assert_int_equal(c.untracked_allocations, 0);
  assert_int_equal(c.total_allocations, atomic_load(&allocs));
  assert_int_equal(c.total_bytes, atomic_load(&bytes));
  assert_true(peak > 0 && peak <= c.total_bytes);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  uint64_t sum = 0;
  for (size_t i = 0; i < s->ntraces; i++) sum += s->traces[i].size;
  assert_int_equal(sum, peak);
  ll__arena_free(s->ll__arena);
  return peak;
}

static void test_threads_balanced(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  pthread_t th[NTHREAD], snap;
  assert_int_equal(pthread_create(&snap, NULL, snapshotter, NULL), 0);
  for (int i = 0; i < NTHREAD; i++)
    assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1)), 0);
  for (int i = 0; i < NTHREAD; i++) pthread_join(th[i], NULL);
  atomic_store(&stop_snapshots, 1);
  void *taken;
  pthread_join(snap, &taken);
  assert_int_equal(atomic_load(&snapshot_errors), 0);
  print_message("threads: %zu consistent snapshots taken while recording\n", (size_t)(uintptr_t)taken);
  for (void *p; (p = pop()) != NULL;) tracked_free(p);

  size_t peak = assert_exact_end();
  print_message("threads: %llu allocations, %llu bytes, peak %zu\n",
                (unsigned long long)atomic_load(&allocs), (unsigned long long)atomic_load(&bytes), peak);
  ll_snapshot_t *s;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(s->ntraces, 0);
  ll__arena_free(s->ll__arena);
  ll_stop();
}

/* Many threads contending and threads that come and go while others wait on the tracker's
 * lock (spinning or asleep): waves of 12 short-lived workers next to 4 long-lived ones, every
 * figure exact at the end. */
static void test_threads_come_and_go(void **state) {
  (void)state;
  atomic_store(&allocs, 0);
  atomic_store(&bytes, 0);
  assert_int_equal(ll_start(1), 0);
  pthread_t lasting[4], wave[12];
  atomic_store(&worker_iters, 12000);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&lasting[i], NULL, worker, (void *)(uintptr_t)(100 + i)), 0);
  atomic_store(&worker_iters, 600);
  for (int w = 0; w < 10; w++) {
    for (int i = 0; i < 12; i++)
      assert_int_equal(pthread_create(&wave[i], NULL, worker, (void *)(uintptr_t)(200 + w * 12 + i)), 0);
    for (int i = 0; i < 12; i++) pthread_join(wave[i], NULL);
  }
  for (int i = 0; i < 4; i++) pthread_join(lasting[i], NULL);
  atomic_store(&worker_iters, ITERS);
  for (void *p; (p = pop()) != NULL;) tracked_free(p);
  assert_exact_end();
  ll_stop();
}

/* Start and stop racing with recording threads: nothing crashes, nothing is left. */
static void *churn(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  for (int i = 0; i < 20000; i++) {
    void *p = malloc((size_t)(rand_r(&seed) % 64) + 1);
    ll_track_alloc(p, 8, 8, &SITES[i % 4], 1);
    ll_realloc_token_t tok;
    ll_track_realloc_begin(p, &tok);
    ll_track_realloc_end(&tok, NULL, 16, 0, &SITES[0], 1); /* "failed": restore */
    ll_track_free(p);
    free(p);
  }
  return NULL;
}

static void test_start_stop_race(void **state) {
  (void)state;
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 7));
  for (int k = 0; k < 200; k++) {
    ll_start(1 + k % 3);
    if (k % 3 == 0) ll_clear_traces();
    if (k % 5 == 0) ll_reset_peak();
    ll_stop();
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 0);
  assert_int_equal(ll_get_tracker_memory(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_balanced),
      cmocka_unit_test(test_threads_come_and_go),
      cmocka_unit_test(test_start_stop_race),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
