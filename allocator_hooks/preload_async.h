/* preload_async.h - asynchronous recording: the program's thread queues events, a helper process applies them to the tracker. */
#ifndef LEAKLAB_PRELOAD_ASYNC_H
#define LEAKLAB_PRELOAD_ASYNC_H
/*
 * Contract: events go to the helper only while the process has one thread (one producer, no
 * lock); the first event that sees a second thread stops the helper and the caller records
 * in-thread. If the helper dies, recording stops (the state becomes LL__PL_DONE) and
 * ll__pl_async_lost says so. Calls preload_state and the engine (see preload_state.h for the
 * modules' order).
 */
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Nonzero while events go to the helper process (only ever while the process has one thread). */
extern int ll__pl_async_on;
static inline int ll__pl_async_active(void) { return __atomic_load_n(&ll__pl_async_on, __ATOMIC_RELAXED); }
/* After ll__tracker_share and ll_start: fork the helper; 0, or -1 (record synchronously). */
int ll__pl_async_start(void);
/* Hand an event to the helper: 1 when done (or dropped because recording just stopped), 0 when
 * the helper was stopped instead (a second thread exists, or a pointer the allocator cannot
 * have made) and the caller records in-thread. */
int ll__pl_async_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n);
int ll__pl_async_free(void *p);
/* After the real realloc, only while the process has one thread (checked before the call). */
void ll__pl_async_realloc(void *old, void *q, size_t size, size_t usable, const uintptr_t *ips, int n);
/* Have the helper apply everything queued and exit; the tracker is this process's again. bounded:
 * from a fatal signal (give up after 2 s). 0, or -1 when the helper died first (the tracker
 * cannot be trusted; recording has stopped and the state is LL__PL_DONE). No-op when not async
 * or in a forked child. */
int ll__pl_async_stop(int bounded);
/* A forked child: its parent's ring is not its own. */
void ll__pl_async_forget(void);
int ll__pl_async_lost(void); /* the helper died before it drained */

#pragma GCC visibility pop

#endif
