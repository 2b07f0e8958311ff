/* preload_hooks.h - the interposed allocation functions: call the real allocator, then record. */
#ifndef LEAKLAB_PRELOAD_HOOKS_H
#define LEAKLAB_PRELOAD_HOOKS_H
/*
 * Contract: malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc and malloc_usable_size are defined (exported) in preload_hooks.c; this header
 * holds what the modules above them may ask. Calls preload_state, preload_boot, preload_stack,
 * preload_async and the engine (see preload_state.h for the modules' order).
 */

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* 1 when another library's malloc comes first in the lookup order (LD_PRELOAD order): our hooks
 * would never be called. */
int ll__pl_is_shadowed(void);

/* At the end, once the tracker is this process's (after ll__pl_async_stop) and before the
 * capture: count as untracked the signal handlers' allocations the per-thread queues had no
 * room for (counted at once when recording in-thread). */
void ll__pl_hooks_end(void);

/* At start, before the recording begins: stop noting blocks allocated before it, and when this
 * process records (`record`), hand those still live to the tracker (they are the program's:
 * libraries' constructors ran before ours). */
void ll__pl_hooks_prestart(int record);

#pragma GCC visibility pop

#endif
