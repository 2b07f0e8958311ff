/* preload_hooks.c - the interposed allocation functions: call the real allocator, then record. */
#include "preload_hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "engine.h"
#include "preload_async.h"
#include "preload_boot.h"
#include "preload_stack.h"
#include "preload_state.h"
#include "preload_timeline.h"

/*
 * Every hook has one shape: make sure the real function is known (dlsym(RTLD_NEXT) once; while
 * dlsym itself runs, the boot pool answers), call it, then record when this process records and
 * this thread is not already inside leaklab (the guard); frees are recorded before the real
 * free, so an address the allocator hands out again at once cannot be confused with the old
 * block. errno is what the real function left: recording saves and restores it.
 *
 * A signal handler that allocates while its thread is inside a hook's recording (the guard is
 * LL__PL_GUARD_HOT) cannot record then: the tracker, the ring and the stack walker are halfway
 * through the interrupted call. Its events go to a per-thread queue instead, with the stack the
 * frame-pointer walk gives (async-signal-safe); the hook records them, in order, once its own
 * call is done. A free queued so is done for real only then: the address cannot be handed out
 * again before its record is gone.
 */

/* ll__pl_is_shadowed's probe: set while it calls the first malloc in lookup order, and by our
 * malloc when that call reached it. */
static __thread int t_probing __attribute__((tls_model("initial-exec")));
static __thread int t_probe_hit __attribute__((tls_model("initial-exec")));

#define R ll__pl_real
#define RESOLVED() ll__pl_resolved()

static inline int should_record(void) { return ll__pl_recording() && !ll__pl_guard; }

/* This thread's last stack and its traceback id: a hot allocation site skips interning. */
static __thread ll__tbcache_t t_tbcache __attribute__((tls_model("initial-exec")));

/* One event to its recorder: the helper process while there is one (preload_async.c), else the
 * tracker in this thread. The hooks and the drain of handlers' events both go through these.
 * errno is the hook's to keep: the ring's quick paths never touch it, so it is saved only
 * around the others. */
static inline __attribute__((always_inline)) void emit_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n) {
  if (ll__pl_async_active() && ll__pl_async_alloc_quick(p, size, usable, ips, n)) return;
  int saved = errno;
  if (!ll__pl_async_active() || !ll__pl_async_alloc(p, size, usable, ips, n))
    ll__track_alloc_ips_c(p, size, usable, ips, n, &t_tbcache);
  errno = saved;
}

static inline __attribute__((always_inline)) void emit_free(void *p) {
  if (ll__pl_async_active() && ll__pl_async_free_quick(p)) return;
  int saved = errno;
  if (!ll__pl_async_active() || !ll__pl_async_free(p)) ll_track_free(p);
  errno = saved;
}

/* A line-level allocation (the caller's address): the inline fast path of the helper's ring. */
static inline __attribute__((always_inline)) void emit_alloc1(void *p, size_t size, size_t usable, uintptr_t ip) {
  if (ll__pl_async_active() && ll__pl_async_alloc1_quick(p, size, usable, ip)) return;
  int saved = errno;
  if (!ll__pl_async_active() || !ll__pl_async_alloc(p, size, usable, &ip, 1))
    ll__track_alloc_ips_c(p, size, usable, &ip, 1, &t_tbcache);
  errno = saved;
}

/* ---- the queue of signal handlers' events --------------------------------------------------- */

#define PEND_EVENTS 16384 /* handlers' events during one interrupted recording (the async
                            * recorder may wait milliseconds for room in its ring); mapped
                            * lazily, pages touched as used */
#define PEND_FRAMES 32
enum { PEND_ALLOC = 1, PEND_FREE = 2, PEND_REALLOC = 3 };
typedef struct pend_ev {
  int kind, n;
  void *p, *q; /* the block (realloc: the old one and q, the new) */
  size_t size, usable;
  uintptr_t ips[PEND_FRAMES];
} pend_ev_t;
typedef struct pend {
  uint32_t n; /* slots taken; a handler takes one with a compare-and-swap (handlers nest) */
  pend_ev_t ev[PEND_EVENTS];
} pend_t;
/* Mapped by the first handler that needs it on this thread (mmap is async-signal-safe). */
static __thread pend_t *t_pend __attribute__((tls_model("initial-exec")));
/* Handlers' allocations the queue had no room for: counted untracked by the next drain. */
static uint64_t g_pend_lost, g_pend_lost_bytes;

static pend_ev_t *pend_slot(void) {
  pend_t *q = __atomic_load_n(&t_pend, __ATOMIC_RELAXED);
  if (q == NULL) {
    void *m = mmap(NULL, sizeof *q, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    pend_t *none = NULL; /* a nested handler may have mapped one meanwhile */
    if (__atomic_compare_exchange_n(&t_pend, &none, (pend_t *)m, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      q = m;
    } else {
      munmap(m, sizeof *q);
      q = none;
    }
  }
  uint32_t i = __atomic_load_n(&q->n, __ATOMIC_RELAXED);
  do {
    if (i >= PEND_EVENTS) return NULL;
  } while (!__atomic_compare_exchange_n(&q->n, &i, i + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  return &q->ev[i];
}

static inline int pend_wanted(void) { return ll__pl_guard == LL__PL_GUARD_HOT && ll__pl_recording(); }

/* A handler's new block (also realloc's, with old). */
__attribute__((noinline)) static void pend_alloc(int kind, void *old, void *p, size_t size, void *fp) {
  int saved = errno;
  pend_ev_t *e = pend_slot();
  if (e == NULL) {
    if (p != NULL) {
      __atomic_add_fetch(&g_pend_lost, 1, __ATOMIC_RELAXED);
      __atomic_add_fetch(&g_pend_lost_bytes, size, __ATOMIC_RELAXED);
    }
  } else {
    e->kind = kind;
    e->p = kind == PEND_REALLOC ? old : p;
    e->q = p;
    e->size = size;
    e->usable = p != NULL ? ll__pl_usable(p) : 0;
    e->n = p != NULL ? ll__pl_capture_stack_fp(fp, e->ips, PEND_FRAMES) : 0;
  }
  errno = saved;
}

/* A handler's free: 1 when queued (the drain frees it), 0 when the caller frees it now. */
__attribute__((noinline)) static int pend_free(void *p) {
  int saved = errno;
  pend_ev_t *e = pend_slot();
  errno = saved;
  if (e == NULL) return 0; /* its record stays until the address is handed out again */
  e->kind = PEND_FREE;
  e->p = p;
  e->n = 0;
  return 1;
}

static void pend_apply(pend_ev_t *e) {
  int rec = ll__pl_recording();
  if (e->kind == PEND_FREE) {
    if (rec) emit_free(e->p);
    R.free(e->p);
  } else if (rec && e->kind == PEND_ALLOC) {
    emit_alloc(e->q, e->size, e->usable, e->ips, e->n);
  } else if (rec) {
    /* The real realloc is done: with several threads, another may have been handed the old
     * address since (then its record goes instead; rare, a handler's realloc mid-recording). */
    if (ll__pl_async_active() && __libc_single_threaded) {
      ll__pl_async_realloc(e->p, e->q, e->size, e->usable, e->ips, e->n);
    } else if (ll__pl_async_active() && ll__pl_async_realloc_begin(e->p)) {
      ll__pl_async_realloc_end(e->q, e->size, e->usable, e->ips, e->n);
    } else {
      ll_realloc_token_t tok;
      ll_track_realloc_begin(e->p, &tok);
      ll__track_realloc_end_ips_c(&tok, e->q, e->size, e->usable, e->ips, e->n, &t_tbcache);
    }
  }
}

/* Record what handlers queued on this thread, in order, and do their frees; called with the
 * guard clear. Signals are held off meanwhile: a handler's allocation must not interrupt the
 * real free of a block a handler gave back (the allocator is not reentrant, and without us
 * that free would have been done by the handler itself, not by the code it interrupted). */
__attribute__((noinline)) static void pend_drain(void) {
  pend_t *q = t_pend;
  int saved = errno;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  ll__pl_guard = LL__PL_GUARD_HOT;
  uint32_t n = __atomic_load_n(&q->n, __ATOMIC_SEQ_CST);
  for (uint32_t k = 0; k < n; k++) pend_apply(&q->ev[k]);
  __atomic_store_n(&q->n, 0, __ATOMIC_SEQ_CST);
  /* With the helper, the tracker is its own: the count waits for the end (ll__pl_hooks_end). */
  if (!ll__pl_async_active()) ll__pl_hooks_end();
  ll__pl_guard = 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
}

void ll__pl_hooks_end(void) {
  uint64_t lost = __atomic_exchange_n(&g_pend_lost, 0, __ATOMIC_RELAXED);
  uint64_t lost_bytes = __atomic_exchange_n(&g_pend_lost_bytes, 0, __ATOMIC_RELAXED);
  if (lost != 0) ll__track_untracked(lost, lost_bytes);
}

static inline __attribute__((always_inline)) int pend_queued(void) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  pend_t *q = t_pend;
  return __builtin_expect(q != NULL && __atomic_load_n(&q->n, __ATOMIC_RELAXED) != 0, 0);
}

/* Enter a hook's recording: HOT once this thread's stack is known (before, the walk may still
 * call pthread_getattr_np, which allocates). A handler that interrupted the thread just as it
 * left a recording, before it drained, records its own events directly: what is queued goes
 * first, so the order stays the program's. */
static inline int enter_hot(void) {
  int saved = ll__pl_guard;
  if (saved == 0 && pend_queued()) pend_drain();
  ll__pl_guard = ll__pl_stack_known > 0 ? LL__PL_GUARD_HOT : 1;
  return saved;
}

/* Leave it; at the outermost level, record what handlers queued meanwhile. */
static inline void leave_hot(int saved) {
  ll__pl_guard_leave(saved);
  if (saved == 0 && pend_queued()) pend_drain();
}

/* Out of line: its variable-length array stays out of the hooks' frames. The stack walk starts
 * at the hook's frame, which `fp` is. */
__attribute__((noinline)) static void record_alloc_deep(void *p, size_t size, void *fp) {
  uintptr_t ips[ll__pl_stack_frames()];
  int n = ll__pl_capture_stack_inline(fp, ips);
  size_t usable = ll__pl_usable(p);
  emit_alloc(p, size, usable, ips, n);
}

/* The whole recording of an allocation or a free, out of line: the hooks inline only the quick
 * paths below and call these for everything else, so that the hooks' own frames stay small (the
 * quick paths need no callee-saved register but for the block). `fp` is the hook's frame. errno
 * is saved where something may set it (emit_*, ll__pl_capture_stack, pend_drain). */
__attribute__((noinline)) static void record_alloc_slow(void *p, size_t size, void *fp) {
  int g = enter_hot();
  if (ll__pl_recording()) {
    if (ll__pl_stack_is_one()) { /* --frames 1: the caller's address, no walk, no VLA */
      size_t usable = ll__pl_usable(p);
      emit_alloc1(p, size, usable, ((uintptr_t *)fp)[1]);
    } else {
      record_alloc_deep(p, size, fp);
    }
  }
  leave_hot(g);
}

__attribute__((noinline)) static void record_free_slow(void *p) {
  int g = enter_hot();
  if (ll__pl_recording()) emit_free(p);
  leave_hot(g);
}

/* The usual event, inline in the hooks: a thread whose stack is known (the guard goes HOT, as
 * enter_hot makes it), nothing queued by a handler, writing into its own ring through
 * preload_async.h's quick paths. Called with the guard clear (should_record). 1: recorded, as
 * record_*_slow would have; 0: nothing was written (no number taken), the caller takes the slow
 * path. What a handler queued meanwhile is recorded after it, as leave_hot does. */
static inline __attribute__((always_inline)) int quick_ok(void) {
  return ll__pl_async_active() && ll__pl_stack_known > 0 && !pend_queued();
}

static inline __attribute__((always_inline)) int quick_done(int done) {
  ll__pl_guard = 0;
  if (__builtin_expect(done && pend_queued(), 0)) pend_drain();
  return done;
}

__attribute__((noinline)) static void alloc_deep_buffered(void *p, size_t size, void *fp) {
  uintptr_t ips[ll__pl_stack_frames()];
  emit_alloc(p, size, ll__pl_usable(p), ips, ll__pl_capture_stack_inline(fp, ips));
}

/* An allocation with a stack once quick_ok: the guard, the walk, the event and the guard again,
 * in one call out of line (nothing of it is live in the hook after the call, so the hook saves
 * no register for it). The frame-pointer walk straight into the ring inline (quick_ok found
 * this thread's stack); the rest (libunwind, no room known, the ring's end) through a buffer. */
__attribute__((noinline)) static void quick_alloc_deep(void *p, size_t size, void *fp) {
  ll__pl_guard = LL__PL_GUARD_HOT;
  if (ll__pl_recording() && !(ll__pl_walks_fp_known(fp) && ll__pl_async_alloc_walk_quick(p, size, ll__pl_usable(p), fp)))
    alloc_deep_buffered(p, size, fp);
  (void)quick_done(1);
}

/* An allocation: at line level the caller's address into the ring inline; with a stack,
 * quick_alloc_deep (without record_alloc_slow's second call and checks). */
static inline __attribute__((always_inline)) int quick_alloc(void *p, size_t size, void *fp) {
  if (!quick_ok()) return 0;
  if (!ll__pl_stack_one) {
    quick_alloc_deep(p, size, fp);
    return 1;
  }
  ll__pl_guard = LL__PL_GUARD_HOT;
  return quick_done(ll__pl_recording() &&
                    ll__pl_async_alloc1_quick(p, size, ll__pl_usable(p), ((uintptr_t *)fp)[1]));
}

static inline __attribute__((always_inline)) int quick_free(void *p) {
  if (!quick_ok()) return 0;
  ll__pl_guard = LL__PL_GUARD_HOT;
  return quick_done(ll__pl_recording() && ll__pl_async_free_quick(p));
}

/* Inlined into the hooks; `fp` is the hook's frame. */
static inline __attribute__((always_inline)) void record_alloc(void *p, size_t size, void *fp) {
  if (!quick_alloc(p, size, fp)) record_alloc_slow(p, size, fp);
}

static inline __attribute__((always_inline)) void record_free(void *p) {
  if (!quick_free(p)) record_free_slow(p);
}

/* realloc through the helper. With one thread, one event after the real call (nobody can be
 * handed the old address in between); with several, the old block leaves before the real call
 * and the new one comes in after it, as under the synchronous recorder's begin/end. */
__attribute__((noinline)) static int record_realloc_async(void *old, size_t size, void *fp, void **out) {
  int saved = errno;
  int g = enter_hot();
  int single = __libc_single_threaded;
  if (!single && !ll__pl_async_realloc_begin(old)) {
    leave_hot(g);
    return 0; /* the helper has stopped: the caller records in-thread */
  }
  errno = saved;
  void *q = R.realloc(old, size);
  saved = errno;
  uintptr_t ips[ll__pl_stack_frames()];
  int n = q != NULL ? ll__pl_capture_stack(fp, ips) : 0;
  size_t usable = q != NULL ? ll__pl_usable(q) : 0;
  if (single)
    ll__pl_async_realloc(old, q, size, usable, ips, n);
  else
    ll__pl_async_realloc_end(q, size, usable, ips, n);
  leave_hot(g);
  errno = saved;
  *out = q;
  return 1;
}

/* realloc under the begin/end protocol: the old record comes out before the real call so a
 * concurrent allocation reusing the address is never mistaken for it. */
__attribute__((noinline)) static void *record_realloc(void *old, size_t size, void *fp) {
  int saved = errno;
  ll_realloc_token_t tok;
  void *q;
  if (ll__pl_async_active()) {
    if (record_realloc_async(old, size, fp, &q)) return q;
    errno = saved; /* the helper stopped before the real call: record it here */
  }
  int g = enter_hot();
  int rec = ll__pl_recording();
  if (rec) ll_track_realloc_begin(old, &tok);
  errno = saved;
  q = R.realloc(old, size);
  saved = errno;
  if (rec) {
    uintptr_t ips[ll__pl_stack_frames()];
    int n = q != NULL ? ll__pl_capture_stack(fp, ips) : 0;
    ll__track_realloc_end_ips_c(&tok, q, size, q != NULL ? ll__pl_usable(q) : 0, ips, n,
                                &t_tbcache);
  }
  leave_hot(g);
  errno = saved;
  return q;
}

#define HOOK_FP __builtin_frame_address(0)

/* ---- before the recording starts ----------------------------------------------------------- */

/* Libraries initialised before our constructor allocate before the recording starts (libstdc++'s
 * emergency exception pool, 72,704 B, is live for the whole run and counts in massif's heap).
 * Until start, the blocks malloc, calloc and realloc hand out are noted here with their caller,
 * and start hands those still live to the tracker (ll__pl_hooks_prestart). */
#define PRE_MAX 64
typedef struct pre_block {
  void *p;
  size_t size;
  uintptr_t ip;
} pre_block_t;
static pre_block_t g_pre[PRE_MAX];
static unsigned g_npre;
static int g_pre_closed; /* set by ll__pl_hooks_prestart: nothing is noted any more */
static uint64_t g_pre_missed, g_pre_missed_bytes;

static inline int pre_open(void) {
  return __builtin_expect(!__atomic_load_n(&g_pre_closed, __ATOMIC_RELAXED), 0) && !ll__pl_guard &&
         !ll__pl_recording();
}

__attribute__((noinline)) static void pre_note(void *p, size_t size, void *fp) {
  unsigned i = __atomic_fetch_add(&g_npre, 1, __ATOMIC_RELAXED);
  if (i >= PRE_MAX) {
    __atomic_add_fetch(&g_pre_missed, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_pre_missed_bytes, size, __ATOMIC_RELAXED);
    return;
  }
  g_pre[i].size = size;
  g_pre[i].ip = ((uintptr_t *)fp)[1]; /* the caller: no walk this early */
  __atomic_store_n(&g_pre[i].p, p, __ATOMIC_RELEASE);
}

__attribute__((noinline)) static void pre_forget(void *p) {
  unsigned n = __atomic_load_n(&g_npre, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < n && i < PRE_MAX; i++) {
    void *cur = p;
    if (__atomic_compare_exchange_n(&g_pre[i].p, &cur, NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return;
  }
}

__attribute__((noinline)) static void *pre_realloc(void *old, size_t size, void *fp) {
  void *q = R.realloc(old, size);
  if (q != NULL || size == 0) {
    if (old != NULL) pre_forget(old);
    if (q != NULL) pre_note(q, size, fp);
  }
  return q;
}

void ll__pl_hooks_prestart(int record) {
  __atomic_store_n(&g_pre_closed, 1, __ATOMIC_SEQ_CST);
  /* On another allocator (jemalloc), what came before may be that allocator's own doing: Debian's
   * libjemalloc brings libstdc++, whose pool the program alone would not have (massif, on
   * valgrind's allocator, never sees it). Only glibc's blocks are the program's for sure. */
  Dl_info di;
  if (record && (dladdr((void *)R.malloc, &di) == 0 || di.dli_fname == NULL ||
                 strstr(di.dli_fname, "/libc.so") == NULL))
    record = 0;
  unsigned n = __atomic_load_n(&g_npre, __ATOMIC_ACQUIRE);
  for (unsigned i = 0; record && i < n && i < PRE_MAX; i++) {
    void *p = __atomic_load_n(&g_pre[i].p, __ATOMIC_ACQUIRE);
    if (p != NULL) ll__track_alloc_ips_c(p, g_pre[i].size, R.malloc_usable_size(p), &g_pre[i].ip, 1, NULL);
  }
  if (record) ll__track_untracked(g_pre_missed, g_pre_missed_bytes);
}

/* A handler's realloc while its thread records: done now, recorded by the drain (a realloc
 * that fails changes nothing; realloc(p, 0) that frees is queued as what it is). */
__attribute__((noinline)) static void *pend_realloc(void *old, size_t size, void *fp) {
  void *q = R.realloc(old, size);
  if (q != NULL || (size == 0 && old != NULL)) pend_alloc(PEND_REALLOC, old, q, size, fp);
  return q;
}

LL__PL_EXPORT void *malloc(size_t size) {
  if (!RESOLVED()) {
    if (ll__pl_resolving()) return ll__pl_boot_alloc(size, 16);
    ll__pl_resolve();
  }
  void *p = R.malloc(size);
  if (p != NULL && should_record())
    record_alloc(p, size, HOOK_FP);
  else if (t_probing)
    t_probe_hit = 1; /* ll__pl_is_shadowed's probe reached us */
  else if (__builtin_expect(p != NULL && pend_wanted(), 0))
    pend_alloc(PEND_ALLOC, NULL, p, size, HOOK_FP);
  else if (p != NULL && pre_open())
    pre_note(p, size, HOOK_FP);
  return p;
}

LL__PL_EXPORT void free(void *ptr) {
  if (ptr == NULL || ll__pl_is_boot(ptr)) return; /* the boot pool is never given back */
  if (!RESOLVED()) ll__pl_resolve();
  if (should_record())
    record_free(ptr);
  else if (__builtin_expect(pend_wanted(), 0) && pend_free(ptr))
    return; /* freed once its record is gone */
  else if (pre_open())
    pre_forget(ptr);
  R.free(ptr);
}

LL__PL_EXPORT void *calloc(size_t n, size_t size) {
  if (!RESOLVED()) {
    size_t total;
    if (ll__pl_resolving()) {
      if (__builtin_mul_overflow(n, size, &total)) return NULL;
      return ll__pl_boot_alloc(total, 16);
    }
    ll__pl_resolve();
  }
  void *p = R.calloc(n, size);
  /* A non-NULL result means n * size did not overflow. */
  if (p != NULL && should_record()) record_alloc(p, n * size, HOOK_FP);
  else if (__builtin_expect(p != NULL && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, p, n * size, HOOK_FP);
  else if (p != NULL && pre_open()) pre_note(p, n * size, HOOK_FP);
  return p;
}

/* realloc of a boot-pool block: move it to the real allocator (the pool keeps the old bytes). */
static void *boot_realloc(void *old, size_t size, void *fp) {
  void *p = ll__pl_resolving() || !RESOLVED() ? ll__pl_boot_alloc(size, 16) : R.malloc(size);
  if (p == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  if (old != NULL) {
    size_t n = ll__pl_boot_size(old);
    memcpy(p, old, n < size ? n : size);
  }
  if (!ll__pl_is_boot(p) && should_record()) record_alloc(p, size, fp);
  return p;
}

LL__PL_EXPORT void *realloc(void *old, size_t size) {
  if (!RESOLVED()) {
    if (ll__pl_resolving()) return boot_realloc(old, size, HOOK_FP);
    ll__pl_resolve();
  }
  if (old != NULL && ll__pl_is_boot(old)) return boot_realloc(old, size, HOOK_FP);
  if (__builtin_expect(pend_wanted(), 0)) return pend_realloc(old, size, HOOK_FP);
  if (__builtin_expect(pre_open(), 0)) return pre_realloc(old, size, HOOK_FP);
  if (!should_record()) return R.realloc(old, size);
  return record_realloc(old, size, HOOK_FP);
}

/* Through the next realloc rather than the next reallocarray: jemalloc has no reallocarray, and
 * glibc's would hand jemalloc's blocks to glibc's heap. */
LL__PL_EXPORT void *reallocarray(void *old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  if (!RESOLVED()) {
    if (ll__pl_resolving()) return boot_realloc(old, total, HOOK_FP);
    ll__pl_resolve();
  }
  if (old != NULL && ll__pl_is_boot(old)) return boot_realloc(old, total, HOOK_FP);
  if (__builtin_expect(pend_wanted(), 0)) return pend_realloc(old, total, HOOK_FP);
  if (!should_record()) return R.realloc(old, total);
  return record_realloc(old, total, HOOK_FP);
}

LL__PL_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  int rc = R.posix_memalign(memptr, alignment, size);
  if (rc == 0 && should_record()) record_alloc(*memptr, size, HOOK_FP);
  else if (__builtin_expect(rc == 0 && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, *memptr, size, HOOK_FP);
  return rc;
}

LL__PL_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  /* Old allocators without aligned_alloc: memalign has the same contract for valid input. */
  void *p = R.aligned_alloc != NULL ? R.aligned_alloc(alignment, size) : R.memalign(alignment, size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  else if (__builtin_expect(p != NULL && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, p, size, HOOK_FP);
  return p;
}

LL__PL_EXPORT void *memalign(size_t alignment, size_t size) {
  if (!RESOLVED()) {
    if (ll__pl_resolving()) return ll__pl_boot_alloc(size, alignment);
    ll__pl_resolve();
  }
  void *p = R.memalign(alignment, size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  else if (__builtin_expect(p != NULL && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, p, size, HOOK_FP);
  return p;
}

/* valloc and pvalloc through the next memalign: jemalloc has no pvalloc, and glibc's would mix
 * heaps. pvalloc rounds the size up to whole pages (at least one), as glibc's does. */
LL__PL_EXPORT void *valloc(size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  void *p = R.memalign((size_t)sysconf(_SC_PAGESIZE), size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  else if (__builtin_expect(p != NULL && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, p, size, HOOK_FP);
  return p;
}

LL__PL_EXPORT void *pvalloc(size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
  if (__builtin_add_overflow(size, page - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(page - 1);
  if (rounded == 0) rounded = page;
  void *p = R.memalign(page, rounded);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  else if (__builtin_expect(p != NULL && pend_wanted(), 0)) pend_alloc(PEND_ALLOC, NULL, p, size, HOOK_FP);
  return p;
}

LL__PL_EXPORT size_t malloc_usable_size(void *ptr) {
  if (ptr == NULL) return 0;
  if (ll__pl_is_boot(ptr)) return ll__pl_boot_size(ptr);
  if (!RESOLVED()) ll__pl_resolve();
  return R.malloc_usable_size(ptr);
}

/* Whether a call to `malloc` from anywhere reaches our hook: call the first malloc in lookup
 * order, probing and under the guard, and see whether our malloc noticed. (Comparing addresses is not
 * enough: a non-PIE executable that takes malloc's address exports a PLT stub for it, which
 * dlsym returns and which still leads here.) */
int ll__pl_is_shadowed(void) {
  void *(*m)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
  void (*f)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "free");
  if (m == NULL || f == NULL) return 0;
  int g = ll__pl_guard_enter();
  t_probing = 1;
  t_probe_hit = 0;
  void *p = m(1);
  t_probing = 0;
  ll__pl_guard_leave(g);
  f(p);
  return !t_probe_hit;
}
