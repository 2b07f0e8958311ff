/* tracker.c - the tracking engine: tracemalloc's API, the exact peak snapshot, temporaries. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/single_threaded.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "engine.h"
#include "intern.h"
#include "livetable.h"
#include "reach.h"
#include "tracker_mem.h"
#include "tracker_views.h"
#include "series.h"

/* Everything in T is guarded by `lock`, except `tracing`, which is also read without it so
 * that untraced calls cost one relaxed load (they re-check under the lock). T is page-aligned
 * and page-sized so that ll__tracker_share can hand exactly its pages to a helper process. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static struct __attribute__((aligned(4096))) {
  atomic_int tracing;
  int limit; /* traceback limit */
  uint64_t current, peak;
  /* Peak generation: bumped whenever the peak moves (and at start, reset_peak, clear). A
   * traceback whose pk_gen differs has not changed since the peak: its cur values are the peak
   * values. See tb_touch. */
  uint64_t gen;
  /* Bumped when traceback ids or live records are forgotten (start, stop, clear), so a realloc
   * token taken before cannot restore a stale record. */
  uint32_t epoch;
  uint64_t total_allocs, total_bytes, untracked_allocs, untracked_bytes;
  uint64_t hist_counts[LL__HIST_BUCKETS], hist_bytes[LL__HIST_BUCKETS];
  uintptr_t last_alloc; /* the most recent allocation, for temporaries */
  uint64_t tbgen;       /* bumped when traceback ids are forgotten: per-thread caches expire */
  ll__livetab_t live;
  ll__intern_t in;
  /* Memory over time per traceback (series.h): sampled every series->stride allocations; a
   * traceback whose bytes pass series_thr (peak / LL__SERIES_SHARE) becomes a column. */
  ll__series_t *series;
  uint64_t series_thr, series_next, peak_clock;
  char *program; /* mmap'd copy, survives stop */
  size_t program_bytes;
} T = {.limit = 1, .gen = 1, .epoch = 1, .tbgen = 1};

/* ---- fork safety ------------------------------------------------------------------------- */

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void) { pthread_mutex_unlock(&lock); }
/* The forking thread is the only thread of the child and owns the lock: unlocking is valid. */
static void fork_child(void) { pthread_mutex_unlock(&lock); }
static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static int is_tracing_fast(void) { return atomic_load_explicit(&T.tracing, memory_order_relaxed); }
static int is_tracing_locked(void) { return atomic_load_explicit(&T.tracing, memory_order_relaxed); }

/* The recording paths' lock. While the process has one thread nobody can race with it, and
 * the lock is skipped, as glibc's malloc skips its arena locks then: glibc clears
 * __libc_single_threaded in pthread_create before the second thread exists (so it is false
 * whenever one may exist), and the one thread cannot create another while it is in here. A
 * signal handler on it cannot enter either (the preload's guard). Returns whether it locked;
 * the caller passes that to rec_unlock. */
static inline int rec_lock(void) {
  if (__libc_single_threaded) return 0;
  pthread_mutex_lock(&lock);
  return 1;
}
static inline void rec_unlock(int locked) {
  if (locked) pthread_mutex_unlock(&lock);
}

/* Freezing (the preload's exit and crash path): one thread holds the lock until the capture is
 * written, and its own queries must not take it again. */
static atomic_int frozen;
static pthread_t frozen_by;

static int q_lock(void) {
  if (atomic_load_explicit(&frozen, memory_order_acquire) && pthread_equal(frozen_by, pthread_self()))
    return 0;
  pthread_mutex_lock(&lock);
  return 1;
}
static void q_unlock(int locked) {
  if (locked) pthread_mutex_unlock(&lock);
}

int ll__tracker_freeze(int wait_ms) {
  for (int i = 0;; i++) {
    if (pthread_mutex_trylock(&lock) == 0) break;
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
  pthread_mutex_unlock(&lock);
}

void ll__tracker_test_fail_memory(int fail) {
  pthread_mutex_lock(&lock);
  ll__tmem_fail = fail;
  pthread_mutex_unlock(&lock);
}

/* ---- accounting ---------------------------------------------------------------------------- */

/* The recording path's pieces: always inlined into it (one function per event). */
#define HOT LL__HOT_INLINE

/* Before a traceback's current values change, keep them as its peak values if the peak was
 * reached since it last changed: O(1) per operation, and the peak snapshot stays exact. */
HOT ll__tb_t *tb_touch(uint32_t id) {
  ll__tb_t *tb = &T.in.tbs[id];
  if (tb->pk_gen != T.gen) {
    tb->pk_size = tb->cur_size;
    tb->pk_usable = tb->cur_usable;
    tb->pk_count = tb->cur_count;
    tb->pk_gen = T.gen;
  }
  return tb;
}

/* The traceback is returned for the caller's own counters. */
HOT ll__tb_t *account_add(uint32_t id, uint64_t size, uint64_t usable) {
  ll__tb_t *tb = tb_touch(id);
  tb->cur_size += size;
  tb->cur_usable += usable;
  tb->cur_count++;
  T.current += size;
  if (__builtin_expect(T.current > T.peak, 0)) {
    T.peak = T.current;
    T.gen++; /* every traceback's current values are now its peak values */
    T.peak_clock = T.total_allocs;
    T.series_thr = T.peak / LL__SERIES_SHARE;
  }
  if (__builtin_expect(tb->cur_size > T.series_thr && tb->col == 0, 0))
    ll__series_add_col(T.series, &T.in, id);
  return tb;
}

HOT void account_sub(uint32_t id, uint64_t size, uint64_t usable) {
  ll__tb_t *tb = tb_touch(id);
  tb->cur_size -= size;
  tb->cur_usable -= usable;
  tb->cur_count--;
  T.current -= size;
}

/* A usable size below the requested one (a hook that does not know it passes 0) counts as the
 * requested size. */
HOT uint64_t usable_of(size_t size, size_t usable) { return usable < size ? size : usable; }

/* Every allocation seen, recorded or untracked: the histogram describes the program. */
HOT void hist_add(size_t size) {
  int b = size == 0 ? 0 : 64 - __builtin_clzll((unsigned long long)size);
  T.hist_counts[b]++;
  T.hist_bytes[b] += size;
}

/* Where a traceback comes from: compile-time sites or native return addresses. */
typedef struct frames_src {
  const ll_site_t *sites;
  const uintptr_t *ips;
  int n;
  ll__tbcache_t *cache; /* with ips: the calling thread's last stack, or NULL */
} frames_src_t;

/* The cached id when the stack is the cached one, frame for frame (never a hash match). */
HOT int cache_hit(const ll__tbcache_t *c, const uintptr_t *ips, uint32_t n, uint32_t total,
              uint32_t *id) {
  if (c->gen != T.tbgen || c->n != n || c->total != total) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (c->ips[i] != ips[i]) return 0;
  *id = c->id;
  return 1;
}

/* The per-thread cache's hit, inline (the hot path); everything else out of line. */
HOT int intern_frames(const frames_src_t *src, uint32_t *id) {
  const ll__tbcache_t *c = src->cache;
  int total = src->n;
  if (c != NULL && total >= 1 && src->sites == NULL && src->ips != NULL) {
    uint32_t n = (uint32_t)(total < T.limit ? total : T.limit);
    if (cache_hit(c, src->ips, n, (uint32_t)total, id)) return 0;
  }
  return ll__intern_stack(&T.in, src->sites, src->ips, src->n, T.limit, src->cache, T.tbgen, id);
}

/* A point of memory over time (series.h), due or final; the next one is due a stride later. */
static void series_sample_locked(int final) {
  ll__series_now_t now = {T.total_allocs, T.current, T.peak, T.peak_clock, T.gen};
  ll__series_sample(T.series, &T.in, &now, final);
  T.series_next = T.series != NULL ? T.series->next : UINT64_MAX;
}

/* Record a new block (also the result of a realloc). Never fails the program: a block that
 * cannot be recorded is counted untracked. rc and id: what interning its traceback gave. */
HOT void alloc_rec_locked(uintptr_t p, size_t size, size_t usable, int rc, uint32_t id) {
  int had_old = 0;
  ll__rec_t old;
  if (rc == 0) {
    ll__rec_t r = {size, usable_of(size, usable), id};
    rc = ll__live_put_inl(&T.live, p, &r, &old, &had_old);
  } else {
    had_old = ll__live_remove(&T.live, p, &old);
  }
  /* A stale record at this address belongs to a block already gone. */
  if (__builtin_expect(had_old, 0)) account_sub(old.tb, old.size, old.usable);
  if (__builtin_expect(rc != 0, 0)) {
    T.untracked_allocs++;
    T.untracked_bytes += size;
    return;
  }
  T.total_allocs++;
  T.total_bytes += size;
  uint64_t u = usable_of(size, usable);
  ll__tb_t *tb = account_add(id, size, u);
  tb->all_size += size; /* every allocation, freed or not (a realloc's new block included) */
  tb->all_usable += u;
  tb->all_count++;
  if (__builtin_expect(T.total_allocs >= T.series_next, 0)) series_sample_locked(0);
}

/* The same, interning the traceback first. */
HOT void alloc_locked(void *ptr, size_t size, size_t usable, const frames_src_t *src) {
  uint32_t id;
  hist_add(size);
  T.last_alloc = (uintptr_t)ptr;
  int rc = intern_frames(src, &id);
  alloc_rec_locked((uintptr_t)ptr, size, usable, rc, id);
}

HOT void track_alloc(void *ptr, size_t size, size_t usable, const frames_src_t *src) {
  if (!is_tracing_fast() || ptr == NULL) return;
  int locked = rec_lock();
  if (is_tracing_locked()) alloc_locked(ptr, size, usable, src);
  rec_unlock(locked);
}

void ll_track_alloc(void *ptr, size_t size, size_t usable, const ll_site_t *sites, int nsite) {
  frames_src_t src = {sites, NULL, nsite, NULL};
  track_alloc(ptr, size, usable, &src);
}

void ll__track_alloc_ips_c(void *ptr, size_t size, size_t usable, const uintptr_t *ips, int nip,
                           ll__tbcache_t *cache) {
  frames_src_t src = {NULL, ips, nip, cache};
  track_alloc(ptr, size, usable, &src);
}

void ll_track_free(void *ptr) {
  if (!is_tracing_fast() || ptr == NULL) return;
  uintptr_t p = (uintptr_t)ptr;
  ll__rec_t old;
  int locked = rec_lock();
  if (is_tracing_locked() && ll__live_remove_inl(&T.live, p, &old)) {
    uint64_t usable = old.usable;
    account_sub(old.tb, old.size, usable);
    if (p == T.last_alloc) { /* freed before any other allocation: a temporary */
      ll__tb_t *tb = &T.in.tbs[old.tb];
      tb->tmp_size += old.size;
      tb->tmp_usable += usable;
      tb->tmp_count++;
      T.last_alloc = 0;
    }
  }
  rec_unlock(locked);
}

void ll__track_untracked(uint64_t count, uint64_t bytes) {
  if (!is_tracing_fast() || count == 0) return;
  int locked = rec_lock();
  if (is_tracing_locked()) {
    T.untracked_allocs += count;
    T.untracked_bytes += bytes;
  }
  rec_unlock(locked);
}

/* ---- realloc ------------------------------------------------------------------------------- */

/* Never 0 (0 means "no record"), whatever the epoch. */
static int epoch_tag(void) { return (int)(T.epoch % 0x7fffffffu) + 1; }

void ll_track_realloc_begin(void *old_ptr, ll_realloc_token_t *tok) {
  memset(tok, 0, sizeof *tok);
  tok->old_ptr = old_ptr;
  if (!is_tracing_fast() || old_ptr == NULL) return;
  ll__rec_t old;
  int locked = rec_lock();
  if (is_tracing_locked() && ll__live_remove_inl(&T.live, (uintptr_t)old_ptr, &old)) {
    account_sub(old.tb, old.size, old.usable);
    tok->size = old.size;
    tok->usable = old.usable;
    tok->traceback = old.tb;
    tok->had_record = epoch_tag(); /* nonzero; also says which tracing session it belongs to */
  }
  rec_unlock(locked);
}

static void restore_locked(const ll_realloc_token_t *tok) {
  int had_old;
  ll__rec_t old;
  if (tok->had_record != epoch_tag() || tok->traceback >= T.in.ntb) return; /* stale token */
  ll__rec_t r = {tok->size, usable_of(tok->size, tok->usable), tok->traceback};
  int rc = ll__live_put(&T.live, (uintptr_t)tok->old_ptr, &r, &old, &had_old);
  if (had_old) account_sub(old.tb, old.size, old.usable);
  if (rc != 0) {
    T.untracked_allocs++;
    T.untracked_bytes += tok->size;
    return;
  }
  (void)account_add(r.tb, r.size, r.usable); /* the same block again: not a new allocation */
}

static void realloc_end(ll_realloc_token_t *tok, void *new_ptr, size_t size, size_t usable,
                        const frames_src_t *src) {
  if (!is_tracing_fast()) return;
  int locked = rec_lock();
  if (is_tracing_locked()) {
    if (new_ptr != NULL)
      alloc_locked(new_ptr, size, usable, src);
    else if (size != 0 && tok->had_record)
      restore_locked(tok); /* realloc failed: the old block is still there */
    /* new_ptr NULL and size 0: realloc(p, 0) freed p, whose record begin already took out. */
  }
  rec_unlock(locked);
  tok->had_record = 0; /* a token serves once */
}

void ll_track_realloc_end(ll_realloc_token_t *tok, void *new_ptr, size_t size, size_t usable,
                          const ll_site_t *sites, int nsite) {
  frames_src_t src = {sites, NULL, nsite, NULL};
  realloc_end(tok, new_ptr, size, usable, &src);
}

void ll__track_realloc_end_ips_c(ll_realloc_token_t *tok, void *new_ptr, size_t size,
                                 size_t usable, const uintptr_t *ips, int nip,
                                 ll__tbcache_t *cache) {
  frames_src_t src = {NULL, ips, nip, cache};
  realloc_end(tok, new_ptr, size, usable, &src);
}

/* ---- start / stop / queries ---------------------------------------------------------------- */

/* Forget live blocks and per-traceback counters; interned strings stay (their pointers were
 * handed out by ll_get_object_traceback and stay valid until ll_stop). */
static void clear_locked(void) {
  ll__live_reset(&T.live);
  for (size_t i = 0; i < T.in.ntb; i++) {
    ll__tb_t *tb = &T.in.tbs[i];
    tb->cur_size = tb->cur_usable = tb->cur_count = 0;
    tb->pk_size = tb->pk_usable = tb->pk_count = tb->pk_gen = 0;
    tb->tmp_size = tb->tmp_usable = tb->tmp_count = 0;
    tb->all_size = tb->all_usable = tb->all_count = 0;
  }
  T.current = T.peak = 0;
  T.gen++;
  T.epoch++;
  T.last_alloc = 0;
  ll__series_clear(T.series, &T.in);
  T.series_thr = T.peak_clock = 0;
  T.series_next = T.series != NULL ? T.series->next : UINT64_MAX;
}

/* Release every byte of tracking state and zero the counters (the program name stays). */
static void forget_all_locked(void) {
  ll__series_free(T.series);
  T.series = NULL;
  T.series_thr = T.peak_clock = 0;
  T.series_next = UINT64_MAX;
  ll__live_reset(&T.live);
  ll__intern_reset(&T.in);
  ll__tmem_arena_reset();
  T.current = T.peak = 0;
  T.total_allocs = T.total_bytes = T.untracked_allocs = T.untracked_bytes = 0;
  memset(T.hist_counts, 0, sizeof T.hist_counts);
  memset(T.hist_bytes, 0, sizeof T.hist_bytes);
  T.last_alloc = 0;
  T.gen++;
  T.epoch++;
  T.tbgen++;
}

int ll__tracker_share(size_t reserve) {
  int locked = q_lock();
  int rc = LL_EINVAL;
  if (!is_tracing_locked() && ll__tmem_share(reserve) == 0)
    rc = ll__mmap_share(&T, sizeof T) == 0 ? 0 : LL_ENOMEM;
  q_unlock(locked);
  return rc;
}

void ll__tracker_seal_share(void) {
  int locked = q_lock();
  ll__tmem_seal();
  q_unlock(locked);
}

int ll_start(int nframe) {
  if (nframe < 1 || nframe > LL_MAX_NFRAME) return LL_EINVAL;
  pthread_once(&atfork_once, register_atfork);
  int locked = q_lock();
  T.limit = nframe;
  if (!is_tracing_locked()) {
    forget_all_locked();
    /* No series when it cannot be mapped: everything else records as usual. */
    T.series = ll__series_new();
    T.series_next = T.series != NULL ? T.series->next : UINT64_MAX;
    atomic_store_explicit(&T.tracing, 1, memory_order_release);
  }
  q_unlock(locked);
  return 0;
}

void ll_stop(void) {
  int locked = q_lock();
  atomic_store_explicit(&T.tracing, 0, memory_order_release);
  forget_all_locked();
  q_unlock(locked);
}

int ll_is_tracing(void) { return atomic_load_explicit(&T.tracing, memory_order_acquire); }

int ll_get_traceback_limit(void) {
  int locked = q_lock();
  int n = T.limit;
  q_unlock(locked);
  return n;
}

void ll_get_traced_memory(size_t *current, size_t *peak) {
  int locked = q_lock();
  size_t c = (size_t)T.current, p = (size_t)T.peak;
  q_unlock(locked);
  if (current != NULL) *current = c;
  if (peak != NULL) *peak = p;
}

void ll_reset_peak(void) {
  int locked = q_lock();
  if (is_tracing_locked()) {
    T.peak = T.current;
    T.gen++; /* the live set of now is the peak set */
  }
  q_unlock(locked);
}

size_t ll_get_tracker_memory(void) {
  int locked = q_lock();
  size_t n = ll__tmem_bytes() + T.program_bytes;
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
  out->total_allocations = T.total_allocs;
  out->total_bytes = T.total_bytes;
  out->untracked_allocations = T.untracked_allocs;
  out->untracked_bytes = T.untracked_bytes;
  out->live_blocks = ll__live_count(&T.live);
  q_unlock(locked);
}

void ll__get_size_histogram(uint64_t counts[LL__HIST_BUCKETS], uint64_t bytes[LL__HIST_BUCKETS]) {
  int locked = q_lock();
  if (counts != NULL) memcpy(counts, T.hist_counts, sizeof T.hist_counts);
  if (bytes != NULL) memcpy(bytes, T.hist_bytes, sizeof T.hist_bytes);
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
  char *old = T.program;
  size_t old_len = T.program_bytes;
  if (copy != NULL) {
    T.program = copy;
    T.program_bytes = len;
  }
  q_unlock(locked);
  if (copy != NULL) ll__mmap_free(old, old_len);
}

/* ---- frames and snapshots ------------------------------------------------------------------ */

int ll_get_object_traceback(const void *ptr, ll_frame_t *frames, int max) {
  if (frames == NULL || max <= 0 || ptr == NULL || !is_tracing_fast()) return 0;
  int n = 0;
  ll__rec_t e;
  int locked = q_lock();
  if (is_tracing_locked() && ll__live_get(&T.live, (uintptr_t)ptr, &e)) {
    const ll__tb_t *tb = &T.in.tbs[e.tb];
    n = tb->nframe < (uint32_t)max ? (int)tb->nframe : max;
    for (int i = 0; i < n; i++) ll__view_frame(&T.in, tb->keys[i], &frames[i]);
  }
  q_unlock(locked);
  return n;
}

static int take(ll__view_t view, ll_at_t at, ll_snapshot_t **out) {
  if (out == NULL) return LL_EINVAL;
  if (!is_tracing_fast()) return LL_ENOTRACING;
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  ll_snapshot_t *snap = ll__arena_alloc(a, sizeof *snap);
  int rc = LL_ENOMEM;
  int locked = q_lock();
  if (!is_tracing_locked()) {
    rc = LL_ENOTRACING;
  } else if (snap != NULL && (rc = ll__view_traces(&T.in, view, T.gen, a, snap)) == 0) {
    snap->current_bytes = T.current;
    snap->peak_bytes = T.peak;
    snap->total_allocations = T.total_allocs;
    snap->total_bytes = T.total_bytes;
    snap->untracked_allocations = T.untracked_allocs;
    snap->untracked_bytes = T.untracked_bytes;
    snap->traceback_limit = (uint32_t)T.limit;
    snap->program = ll__arena_strdup(a, T.program != NULL ? T.program : "");
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
  if (!is_tracing_fast()) return LL_ENOTRACING;
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  int rc;
  int locked = q_lock();
  if (!is_tracing_locked()) {
    rc = LL_ENOTRACING;
  } else if (T.series == NULL) {
    rc = LL_ENOVIEW;
  } else {
    series_sample_locked(1);
    rc = ll__series_copy(T.series, &T.in, a, out);
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
const ll__livetab_t *ll__tracker_live(void) { return &T.live; }
const ll__intern_t *ll__tracker_intern(void) { return &T.in; }
