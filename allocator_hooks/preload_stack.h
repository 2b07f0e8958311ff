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

#include "preload_state.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

enum { LL__UNWIND_AUTO = 0, LL__UNWIND_FP = 1, LL__UNWIND_LIBUNWIND = 2 };
/* Configure once at start: mode and depth (clamped to 1..LL__PL_MAX_FRAMES). */
void ll__pl_stack_config(int mode, int frames);
int ll__pl_stack_frames(void);
int ll__pl_unwind_mode(void);
/* Return addresses of the program's call into a hook whose frame is hook_fp
 * (__builtin_frame_address(0) of the interposed function); ips[0] is the caller of malloc.
 * Returns the number written (<= the configured depth). */
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
/* This thread's usable stack [lo, hi) (found once). 0, or -1 when unknown. */
int ll__pl_stack_bounds(uintptr_t *lo, uintptr_t *hi);
/* The usable stack and pthread_self() of thread `tid` as noted when its stack was first found
 * (its first recorded allocation); 0, or -1 when never noted (the exit scan's registry). */
int ll__pl_stack_of_thread(int tid, uintptr_t *lo, uintptr_t *hi, uintptr_t *self);

#pragma GCC visibility pop

#endif
