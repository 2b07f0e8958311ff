/* preload_boot.h - a static pool serving the allocations dlsym makes before the real malloc is known. */
#ifndef LEAKLAB_PRELOAD_BOOT_H
#define LEAKLAB_PRELOAD_BOOT_H
/*
 * Contract: lock-free, never frees (a boot block lives as long as the process), zeroed memory.
 * Calls nothing else of the preload (see preload_state.h for the modules' order).
 */
#include <stddef.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* A block of `size` bytes aligned to `align` (at least 16), or NULL when the pool is full. */
void *ll__pl_boot_alloc(size_t size, size_t align);
/* The pool (dlsym needs a few hundred bytes, its error buffer; 64 KiB leaves a wide margin). */
#define LL__PL_BOOT_POOL_SIZE (64 * 1024)
extern unsigned char ll__pl_boot_pool[LL__PL_BOOT_POOL_SIZE];
/* Whether p points into the pool (inline: every free asks). */
static inline int ll__pl_is_boot(const void *p) {
  const unsigned char *c = p;
  return c >= ll__pl_boot_pool && c < ll__pl_boot_pool + LL__PL_BOOT_POOL_SIZE;
}
/* Requested size of a boot block (for realloc and malloc_usable_size). */
size_t ll__pl_boot_size(const void *p);

#pragma GCC visibility pop

#endif
