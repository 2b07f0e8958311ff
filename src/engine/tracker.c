/* tracker.c - the tracking engine's API: start/stop, locking and fork safety, queries, snapshots (the recording paths are in tracker_record.c). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "engine.h"
#include "intern.h"
#include "livetable.h"
#include "reach.h"
#include "series.h"
#include "tracker_mem.h"
#include "tracker_state.h"
#include "tracker_views.h"

/* The tracker's variables and lock (tracker_state.h); the recording paths are in
 * tracker_record.c. */
ll__lock_t ll__tlock = LL__LOCK_INIT;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
ll__tstate_t ll__T = {.limit = 1, .gen = 1, .epoch = 1, .tbgen = 1};

/* ---- fork safety ------------------------------------------------------------------------- */

static void fork_prepare(void) { ll__lock_take(&ll__tlock); }
static void fork_parent(void) { ll__lock_give(&ll__tlock); }
/* The forking thread is the only thread of the child and holds the lock; nobody sleeps on it
 * there (the parent's sleepers were not copied), so no wake. */
static void fork_child(void) { ll__lock_forked(&ll__tlock); }
static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* Re-read under the lock (the fast read is ll__tracing_fast). */
static int is_tracing_locked(void) {
  return atomic_load_explicit(&ll__T.tracing, memory_order_relaxed);
}

/* Freezing (the preload's exit and crash path): one thread holds the lock until the capture is
 * written, and its own queries must not take it again. */
static atomic_int frozen;
static pthread_t frozen_by;

static int q_lock(void) {
  if (atomic_load_explicit(&frozen, memory_order_acquire) && pthread_equal(frozen_by, pthread_self()))
    return 0;
  ll__lock_take(&ll__tlock);
  return 1;
}
static void q_unlock(int locked) {
  if (locked) ll__lock_give(&ll__tlock);
}

int ll__tracker_freeze(int wait_ms) {
  for (int i = 0;; i++) {
    if (ll__lock_try(&ll__tlock)) break;
    if (i >= wait_ms) return 0; /* a thread keeps it (stopped or crashed inside the tracker) */
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  frozen_by = pthread_self();
  atomic_store_explicit(&frozen, 1, memory_order_release);
  return 1;
}

void ll__tracker_thaw(void) {
  if (!atomic_load_explicit(&frozen, memory_order_acquire) || !pthread_equal(frozen_by, pthread_self()))
    return;
  atomic_store_explicit(&frozen, 0, memory_order_release);
  ll__lock_give(&ll__tlock);
}

void ll__tracker_test_fail_memory(int fail) {
  ll__lock_take(&ll__tlock);
  ll__tmem_fail = fail;
  ll__lock_give(&ll__tlock);
}

/* ---- start / stop / queries ---------------------------------------------------------------- */

/* Forget live blocks and per-traceback counters; interned strings stay (their pointers were
 * handed out by ll_get_object_traceback and stay valid until ll_stop). */
static void clear_locked(void) {
  ll__live_reset(&ll__T.live);
  for (size_t i = 0; i < ll__T.in.ntb; i++) {
    ll__tb_t *tb = &ll__T.in.tbs[i];
    tb->cur_size = tb->cur_usable = tb->cur_count = 0;
    tb->pk_size = tb->pk_usable = tb->pk_count = tb->pk_gen = 0;
    tb->tmp_size = tb->tmp_usable = tb->tmp_count = 0;
    tb->all_size = tb->all_usable = tb->all_count = 0;
  }
  ll__T.current = ll__T.peak = 0;
  ll__T.gen++;
  ll__T.epoch++;
  ll__T.last_alloc = 0;
  ll__series_clear(ll__T.series, &ll__T.in);
  ll__T.series_thr = ll__T.peak_clock = ll__T.peak_t = ll__T.peak_t_clock = 0;
  ll__tracker_series_none();
  if (ll__T.series != NULL) ll__T.series_next = ll__T.series->next;
}

/* Release every byte of tracking state and zero the counters (the program name stays). */
static void forget_all_locked(void) {
  ll__series_free(ll__T.series);
  ll__T.series = NULL;
  ll__T.series_thr = ll__T.peak_clock = ll__T.peak_t = ll__T.peak_t_clock = 0;
  ll__tracker_series_none();
  ll__live_reset(&ll__T.live);
  ll__intern_reset(&ll__T.in);
  ll__tmem_arena_reset();
  ll__T.current = ll__T.peak = 0;
  ll__T.total_allocs = ll__T.total_bytes = ll__T.untracked_allocs = ll__T.untracked_bytes = 0;
  memset(ll__T.hist_counts, 0, sizeof ll__T.hist_counts);
  memset(ll__T.hist_bytes, 0, sizeof ll__T.hist_bytes);
  ll__T.last_alloc = 0;
  ll__T.gen++;
  ll__T.epoch++;
  ll__T.tbgen++;
}

int ll__tracker_share(size_t reserve) {
  int locked = q_lock();
  int rc = LL_EINVAL;
  if (!is_tracing_locked() && ll__tmem_share(reserve) == 0)
    rc = ll__mmap_share(&ll__T, sizeof ll__T) == 0 ? 0 : LL_ENOMEM;
  q_unlock(locked);
  return rc;
}

int ll__tracker_busy(void) { return ll__T.busy; }

void ll__tracker_seal_share(void) {
  int locked = q_lock();
  ll__tmem_seal();
  q_unlock(locked);
}

int ll_start(int nframe) {
  if (nframe < 1 || nframe > LL_MAX_NFRAME) return LL_EINVAL;
  pthread_once(&atfork_once, register_atfork);
  int locked = q_lock();
  /* Stack caches hold min(total, limit) frames: a new limit expires them (cache_fast). */
  if (ll__T.limit != nframe) ll__T.tbgen++;
  ll__T.limit = nframe;
  if (!is_tracing_locked()) {
    forget_all_locked();
    /* No series when it cannot be mapped: everything else records as usual. */
    ll__T.series = ll__series_new();
    if (ll__T.series != NULL) ll__T.series_next = ll__T.series->next;
    atomic_store_explicit(&ll__T.tracing, 1, memory_order_release);
  }
  q_unlock(locked);
  return 0;
}

void ll_stop(void) {
  int locked = q_lock();
  atomic_store_explicit(&ll__T.tracing, 0, memory_order_release);
  forget_all_locked();
  q_unlock(locked);
}

int ll_is_tracing(void) { return atomic_load_explicit(&ll__T.tracing, memory_order_acquire); }

int ll_get_traceback_limit(void) {
  int locked = q_lock();
  int n = ll__T.limit;
  q_unlock(locked);
  return n;
}

void ll_get_traced_memory(size_t *current, size_t *peak) {
  int locked = q_lock();
  size_t c = (size_t)ll__T.current, p = (size_t)ll__T.peak;
  q_unlock(locked);
  if (current != NULL) *current = c;
  if (peak != NULL) *peak = p;
}

void ll_reset_peak(void) {
  int locked = q_lock();
  if (is_tracing_locked()) {
    ll__T.peak = ll__T.current;
    ll__T.gen++; /* the live set of now is the peak set */
  }
  q_unlock(locked);
}

size_t ll_get_tracker_memory(void) {
  int locked = q_lock();
  size_t n = ll__tmem_bytes() + ll__T.program_bytes;
  q_unlock(locked);
  return n;
}

void ll_clear_traces(void) {
  int locked = q_lock();
  if (is_tracing_locked()) clear_locked();
  q_unlock(locked);
}

void ll_get_counters(ll_counters_t *out) {
  if (out == NULL) return;
  int locked = q_lock();
  out->total_allocations = ll__T.total_allocs;
  out->total_bytes = ll__T.total_bytes;
  out->untracked_allocations = ll__T.untracked_allocs;
  out->untracked_bytes = ll__T.untracked_bytes;
  out->live_blocks = ll__live_count(&ll__T.live);
  q_unlock(locked);
}

void ll__get_size_histogram(uint64_t counts[LL__HIST_BUCKETS], uint64_t bytes[LL__HIST_BUCKETS]) {
  int locked = q_lock();
  if (counts != NULL) memcpy(counts, ll__T.hist_counts, sizeof ll__T.hist_counts);
  if (bytes != NULL) memcpy(bytes, ll__T.hist_bytes, sizeof ll__T.hist_bytes);
  q_unlock(locked);
}

void ll_set_program(const char *program) {
  if (program == NULL) program = "";
  size_t n = strlen(program) + 1;
  size_t len = 0;
  /* Mapped outside the lock; only the swap is guarded. Not via ll__tmem: it must not fail by
   * the test hook and survives ll_stop. */
  char *copy = ll__mmap_alloc(n);
  if (copy != NULL) {
    memcpy(copy, program, n);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    len = (n + page - 1) / page * page; /* what ll__mmap_alloc mapped */
  }
  int locked = q_lock();
  char *old = ll__T.program;
  size_t old_len = ll__T.program_bytes;
  if (copy != NULL) {
    ll__T.program = copy;
    ll__T.program_bytes = len;
  }
  q_unlock(locked);
  if (copy != NULL) ll__mmap_free(old, old_len);
}

/* ---- frames and snapshots ------------------------------------------------------------------ */

int ll_get_object_traceback(const void *ptr, ll_frame_t *frames, int max) {
  if (frames == NULL || max <= 0 || ptr == NULL || !ll__tracing_fast()) return 0;
  int n = 0;
  ll__rec_t e;
  int locked = q_lock();
  if (is_tracing_locked() && ll__live_get(&ll__T.live, (uintptr_t)ptr, &e)) {
    const ll__tb_t *tb = &ll__T.in.tbs[e.tb];
    n = tb->nframe < (uint32_t)max ? (int)tb->nframe : max;
    for (int i = 0; i < n; i++) ll__view_frame(&ll__T.in, tb->keys[i], &frames[i]);
  }
  q_unlock(locked);
  return n;
}

static int take(ll__view_t view, ll_at_t at, ll_snapshot_t **out) {
  if (out == NULL) return LL_EINVAL;
  if (!ll__tracing_fast()) return LL_ENOTRACING;
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  ll_snapshot_t *snap = ll__arena_alloc(a, sizeof *snap);
  int rc = LL_ENOMEM;
  int locked = q_lock();
  if (!is_tracing_locked()) {
    rc = LL_ENOTRACING;
  } else if (snap != NULL && (rc = ll__view_traces(&ll__T.in, view, ll__T.gen, a, snap)) == 0) {
    snap->current_bytes = ll__T.current;
    snap->peak_bytes = ll__T.peak;
    snap->total_allocations = ll__T.total_allocs;
    snap->total_bytes = ll__T.total_bytes;
    snap->untracked_allocations = ll__T.untracked_allocs;
    snap->untracked_bytes = ll__T.untracked_bytes;
    snap->traceback_limit = (uint32_t)ll__T.limit;
    snap->program = ll__arena_strdup(a, ll__T.program != NULL ? ll__T.program : "");
    if (snap->program == NULL) rc = LL_ENOMEM;
  }
  q_unlock(locked);
  if (rc != 0) {
    ll__arena_free(a);
    return rc;
  }
  snap->at = at;
  snap->ll__arena = a;
  *out = snap;
  return 0;
}

int ll_take_snapshot(ll_snapshot_t **out) { return take(LL__VIEW_CURRENT, LL_AT_CURRENT, out); }
int ll_take_peak_snapshot(ll_snapshot_t **out) { return take(LL__VIEW_PEAK, LL_AT_PEAK, out); }
int ll__take_temporary_snapshot(ll_snapshot_t **out) {
  return take(LL__VIEW_TEMPORARY, LL_AT_TEMPORARY, out);
}
int ll__take_allocations_snapshot(ll_snapshot_t **out) {
  return take(LL__VIEW_ALLOCATIONS, LL_AT_ALLOCATIONS, out);
}

/* ---- memory over time ---------------------------------------------------------------------- */

int ll__take_series(ll__series_copy_t *out) {
  if (out == NULL) return LL_EINVAL;
  memset(out, 0, sizeof *out);
  if (!ll__tracing_fast()) return LL_ENOTRACING;
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  int rc;
  int locked = q_lock();
  if (!is_tracing_locked()) {
    rc = LL_ENOTRACING;
  } else if (ll__T.series == NULL) {
    rc = LL_ENOVIEW;
  } else {
    ll__tracker_series_sample(LL__SERIES_FINAL);
    rc = ll__series_copy(ll__T.series, &ll__T.in, a, out);
  }
  q_unlock(locked);
  if (rc != 0) {
    ll__arena_free(a);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

void ll__series_copy_free(ll__series_copy_t *c) {
  if (c == NULL) return;
  ll__arena_free(c->arena);
  memset(c, 0, sizeof *c);
}

/* The exit scan (reach.c) reads the live table and the tracebacks in place, frozen. */
const ll__livetab_t *ll__tracker_live(void) { return &ll__T.live; }
const ll__intern_t *ll__tracker_intern(void) { return &ll__T.in; }
