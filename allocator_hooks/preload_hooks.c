/* preload_hooks.c - the interposed allocation functions: call the real allocator, then record. */
#include "preload_hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
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

/* Out of line: its variable-length array stays out of the hooks' frames. The stack walk starts
 * at the hook's frame, which `fp` is. */
__attribute__((noinline)) static void record_alloc_deep(void *p, size_t size, void *fp) {
  uintptr_t ips[ll__pl_stack_frames()];
  int n = ll__pl_capture_stack(fp, ips);
  size_t usable = R.malloc_usable_size(p);
  if (ll__pl_async_active() && ll__pl_async_alloc(p, size, usable, ips, n)) return;
  ll__track_alloc_ips_c(p, size, usable, ips, n, &t_tbcache);
}

/* Inlined into the hooks (one call less per event); `fp` is the hook's frame. Events go to the
 * helper process while there is one (preload_async.c), else to the tracker in this thread. */
static inline void record_alloc(void *p, size_t size, void *fp) {
  int saved = errno;
  int g = ll__pl_guard_enter();
  if (ll__pl_recording()) {
    if (ll__pl_stack_is_one()) { /* --frames 1: the caller's address, no walk, no VLA */
      uintptr_t ip = ((uintptr_t *)fp)[1];
      size_t usable = R.malloc_usable_size(p);
      if (!ll__pl_async_active() || !ll__pl_async_alloc(p, size, usable, &ip, 1))
        ll__track_alloc_ips_c(p, size, usable, &ip, 1, &t_tbcache);
    } else {
      record_alloc_deep(p, size, fp);
    }
    ll__pl_timeline_tick();
  }
  ll__pl_guard_leave(g);
  errno = saved;
}

static inline void record_free(void *p) {
  int saved = errno;
  int g = ll__pl_guard_enter();
  if (ll__pl_recording()) {
    if (!ll__pl_async_active() || !ll__pl_async_free(p)) ll_track_free(p);
    ll__pl_timeline_tick();
  }
  ll__pl_guard_leave(g);
  errno = saved;
}

/* realloc through the helper. With one thread, one event after the real call (nobody can be
 * handed the old address in between); with several, the old block leaves before the real call
 * and the new one comes in after it, as under the synchronous recorder's begin/end. */
__attribute__((noinline)) static int record_realloc_async(void *old, size_t size, void *fp, void **out) {
  int saved = errno;
  int g = ll__pl_guard_enter();
  int single = __libc_single_threaded;
  if (!single && !ll__pl_async_realloc_begin(old)) {
    ll__pl_guard_leave(g);
    return 0; /* the helper has stopped: the caller records in-thread */
  }
  errno = saved;
  void *q = R.realloc(old, size);
  saved = errno;
  uintptr_t ips[ll__pl_stack_frames()];
  int n = q != NULL ? ll__pl_capture_stack(fp, ips) : 0;
  size_t usable = q != NULL ? R.malloc_usable_size(q) : 0;
  if (single)
    ll__pl_async_realloc(old, q, size, usable, ips, n);
  else
    ll__pl_async_realloc_end(q, size, usable, ips, n);
  ll__pl_timeline_tick();
  ll__pl_guard_leave(g);
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
  int g = ll__pl_guard_enter();
  int rec = ll__pl_recording();
  if (rec) ll_track_realloc_begin(old, &tok);
  errno = saved;
  q = R.realloc(old, size);
  saved = errno;
  if (rec) {
    uintptr_t ips[ll__pl_stack_frames()];
    int n = q != NULL ? ll__pl_capture_stack(fp, ips) : 0;
    ll__track_realloc_end_ips_c(&tok, q, size, q != NULL ? R.malloc_usable_size(q) : 0, ips, n,
                                &t_tbcache);
    ll__pl_timeline_tick();
  }
  ll__pl_guard_leave(g);
  errno = saved;
  return q;
}

#define HOOK_FP __builtin_frame_address(0)

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
  return p;
}

LL__PL_EXPORT void free(void *ptr) {
  if (ptr == NULL || ll__pl_is_boot(ptr)) return; /* the boot pool is never given back */
  if (!RESOLVED()) ll__pl_resolve();
  if (should_record()) record_free(ptr);
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
  if (!should_record()) return R.realloc(old, total);
  return record_realloc(old, total, HOOK_FP);
}

LL__PL_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  int rc = R.posix_memalign(memptr, alignment, size);
  if (rc == 0 && should_record()) record_alloc(*memptr, size, HOOK_FP);
  return rc;
}

LL__PL_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  /* Old allocators without aligned_alloc: memalign has the same contract for valid input. */
  void *p = R.aligned_alloc != NULL ? R.aligned_alloc(alignment, size) : R.memalign(alignment, size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  return p;
}

LL__PL_EXPORT void *memalign(size_t alignment, size_t size) {
  if (!RESOLVED()) {
    if (ll__pl_resolving()) return ll__pl_boot_alloc(size, alignment);
    ll__pl_resolve();
  }
  void *p = R.memalign(alignment, size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
  return p;
}

/* valloc and pvalloc through the next memalign: jemalloc has no pvalloc, and glibc's would mix
 * heaps. pvalloc rounds the size up to whole pages (at least one), as glibc's does. */
LL__PL_EXPORT void *valloc(size_t size) {
  if (!RESOLVED()) ll__pl_resolve();
  void *p = R.memalign((size_t)sysconf(_SC_PAGESIZE), size);
  if (p != NULL && should_record()) record_alloc(p, size, HOOK_FP);
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
