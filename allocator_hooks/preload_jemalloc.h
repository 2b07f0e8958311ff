/* preload_jemalloc.h - jemalloc's own figures at the end of the run (the JEMALLOC section). */
#ifndef LEAKLAB_PRELOAD_JEMALLOC_H
#define LEAKLAB_PRELOAD_JEMALLOC_H
/*
 * Contract: never from a signal handler or the allocation path (mallctl takes jemalloc's locks);
 * under the recursion guard. Calls only preload_state and the capture writer
 * (see there for the modules' order).
 */
#include <stddef.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* The JEMALLOC section (valid until the next call): 0, or -1 when the allocator the hooks pass
 * calls on to is not jemalloc or has no statistics. */
int ll__pl_jemalloc_section(const void **data, size_t *len);

#pragma GCC visibility pop

#endif
