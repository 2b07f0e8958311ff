/* preload_stack.h - call stacks at allocation time: a guarded frame-pointer walk, libunwind as the fallback. */
#ifndef LEAKLAB_PRELOAD_STACK_H
#define LEAKLAB_PRELOAD_STACK_H
/*
 * Contract: ll__pl_capture_stack runs inside a hook under the recursion guard; it never crashes
 * on a bad frame pointer (every one is checked before it is read) and never allocates through
 * malloc except in libunwind and pthread_getattr_np (guarded). Calls preload_state and
 * preload_modules (see preload_state.h for the modules' order).
 */
#include <stdint.h>

#include "preload_modules.h"
#include "preload_state.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

enum { LL__UNWIND_AUTO = 0, LL__UNWIND_FP = 1, LL__UNWIND_LIBUNWIND = 2 };
/* Configure once at start: mode and depth (clamped to 1..LL__PL_MAX_FRAMES). */
void ll__pl_stack_config(int mode, int frames);
/* The configured depth (read inline: the hooks size their stack buffers with it per event). */
extern int ll__pl_stack_depth;
static inline int ll__pl_stack_frames(void) { return ll__pl_stack_depth; }
int ll__pl_unwind_mode(void);
/* Return addresses of the program's call into a hook whose frame is hook_fp
 * (__builtin_frame_address(0) of the interposed function); ips[0] is the caller of malloc.
 * Returns the number written (<= the configured depth). errno is kept. */
int ll__pl_capture_stack(void *hook_fp, uintptr_t *ips);
/* The frame-pointer walk alone, at most `max` frames (and the configured depth), for a signal
 * handler's allocation while this thread's recording was interrupted (libunwind is not
 * reentrant); this thread's stack must be known (ll__pl_stack_known > 0). */
int ll__pl_capture_stack_fp(void *hook_fp, uintptr_t *ips, int max);
/* Nonzero when a stack is always just the hook's return address and the calling thread needs
 * nothing more (--frames 1 with the frame-pointer or auto walk, this thread's stack bounds
 * found): the hooks then read it themselves. Same result as ll__pl_capture_stack. */
extern int ll__pl_stack_one;
extern __thread int ll__pl_stack_known __attribute__((tls_model("initial-exec")));
static inline int ll__pl_stack_is_one(void) { return ll__pl_stack_one && ll__pl_stack_known != 0; }

/* ---- the frame-pointer walk, inline in the hooks (preload_stack.c says why it is safe) ---- */
/* This thread's stack [lo, hi) once ll__pl_stack_known > 0 (ll__pl_stack_find: 1 found, -1 not
 * found); each depth's last return address that passed ll__pl_ip_is_code (the same address at
 * the same depth skips the module lookup: as stale as that function's own segment cache); the
 * last caller of malloc found to be the program's own code; the walk's mode. */
extern __thread uintptr_t ll__pl_stack_lo __attribute__((tls_model("initial-exec")));
extern __thread uintptr_t ll__pl_stack_hi __attribute__((tls_model("initial-exec")));
#define LL__PL_OK_DEPTH 32
extern __thread uintptr_t ll__pl_ok_ip[LL__PL_OK_DEPTH] __attribute__((tls_model("initial-exec")));
extern __thread uintptr_t ll__pl_own_ip __attribute__((tls_model("initial-exec")));
extern int ll__pl_unwind;
void ll__pl_stack_find(void);

/* The walk from the frame at fp on (ips[0..n) found already, prev the frame before fp), every
 * return address checked with ll__pl_ip_is_code where the per-depth cache does not know it. */
int ll__pl_fp_walk_on(uintptr_t fp, uintptr_t prev, uintptr_t *ips, int n, int max);

/* Up to max return addresses from the hook's frame: every frame pointer inside this thread's
 * stack, 8-aligned and above the previous one, every return address in a known module's code,
 * else the walk stops (garbage ends a stack early, never crashes it). Inline, the loop makes no
 * call (its values stay in registers): at the first return address the per-depth cache does not
 * know, the rest of the walk goes on out of line (ll__pl_fp_walk_on: the same checks).
 * `cmp` (a constant NULL drops it): *diff becomes 0 only when ips[0..n) equal cmp[0..n)
 * (cmp holds at least max words), compared as the walk goes: the async recorder's previous
 * stack, so that an unchanged stack needs no second pass (nonzero also when the walk went on
 * out of line: not known then). */
static inline __attribute__((always_inline)) int ll__pl_fp_walk_vs(uintptr_t *frame, uintptr_t *ips, int max,
                                                                   const uintptr_t *cmp, uintptr_t *diff) {
  int n = 0;
  uintptr_t d = 0;
  ips[n++] = frame[1]; /* the hook's own frame is ours, always sound */
  if (cmp != NULL) d = frame[1] ^ cmp[0]; /* with cmp, the caller knows the stack (ll__pl_walks_fp) */
  if (cmp == NULL && __builtin_expect(ll__pl_stack_known <= 0, 0)) goto done;
  uintptr_t fp = frame[0], prev = (uintptr_t)frame, lo = ll__pl_stack_lo, top = ll__pl_stack_hi - 16;
  const uintptr_t *ok = ll__pl_ok_ip;
  int cached = max < LL__PL_OK_DEPTH ? max : LL__PL_OK_DEPTH;
  while (n < cached) {
    if (fp <= prev || (fp & 7) != 0 || fp < lo || fp > top) goto done;
    uintptr_t *f = (uintptr_t *)fp;
    uintptr_t ret = f[1];
    if (ret < 4096) goto done;
    if (ok[n] != ret) break;
    if (cmp != NULL) d |= ret ^ cmp[n];
    ips[n++] = ret;
    prev = fp;
    fp = f[0];
  }
  if (n < max) {
    d = 1;
    n = ll__pl_fp_walk_on(fp, prev, ips, n, max);
  }
done:
  if (cmp != NULL) *diff = d;
  return n;
}

static inline __attribute__((always_inline)) int ll__pl_fp_walk(uintptr_t *frame, uintptr_t *ips, int max) {
  return ll__pl_fp_walk_vs(frame, ips, max, NULL, NULL);
}

/* Whether ll__pl_capture_stack would walk frame pointers from the hook's frame (fp mode, or auto
 * with the program's own code as malloc's last caller seen so, this thread's stack known; _known:
 * the caller knows ll__pl_stack_known > 0). */
static inline __attribute__((always_inline)) int ll__pl_walks_fp_known(uintptr_t *frame) {
  return ll__pl_unwind == LL__UNWIND_FP || (ll__pl_unwind == LL__UNWIND_AUTO && frame[1] == ll__pl_own_ip);
}
static inline __attribute__((always_inline)) int ll__pl_walks_fp(uintptr_t *frame) {
  return __builtin_expect(ll__pl_stack_known > 0, 1) && ll__pl_walks_fp_known(frame);
}

/* ll__pl_capture_stack with the frame-pointer walk inline when that is what it would do (fp
 * mode, or auto with the program's own code as malloc's last caller seen so), for the hooks.
 * errno is kept (the walk makes no system call). */
static inline __attribute__((always_inline)) int ll__pl_capture_stack_inline(void *hook_fp, uintptr_t *ips) {
  uintptr_t *frame = hook_fp;
  if (ll__pl_walks_fp(frame)) return ll__pl_fp_walk(frame, ips, ll__pl_stack_depth);
  return ll__pl_capture_stack(hook_fp, ips);
}
/* This thread's usable stack [lo, hi) (found once). 0, or -1 when unknown. */
int ll__pl_stack_bounds(uintptr_t *lo, uintptr_t *hi);
/* The usable stack and pthread_self() of thread `tid` as noted when its stack was first found
 * (its first recorded allocation); 0, or -1 when never noted (the exit scan's registry). */
int ll__pl_stack_of_thread(int tid, uintptr_t *lo, uintptr_t *hi, uintptr_t *self);

#pragma GCC visibility pop

#endif
