/* preload_boot.c - a static pool serving the allocations dlsym makes before the real malloc is known. */
#include "preload_boot.h"

#include <stdatomic.h>
#include <stdint.h>

/* Each block is preceded by a 16-byte header holding its requested size. */
#define BOOT_HEADER 16

_Alignas(64) unsigned char ll__pl_boot_pool[LL__PL_BOOT_POOL_SIZE]; /* read inline by the hooks */
static atomic_size_t used;

void *ll__pl_boot_alloc(size_t size, size_t align) {
  if (align < 16) align = 16;
  if (size > LL__PL_BOOT_POOL_SIZE) return NULL;
  size_t old = atomic_load(&used), start, end;
  do {
    /* The block starts at an aligned address with room for its header before it. */
    uintptr_t base = (uintptr_t)ll__pl_boot_pool + old + BOOT_HEADER;
    start = (size_t)(((base + align - 1) & ~(uintptr_t)(align - 1)) - (uintptr_t)ll__pl_boot_pool);
    end = start + ((size + 15) & ~(size_t)15);
    if (end > LL__PL_BOOT_POOL_SIZE) return NULL;
  } while (!atomic_compare_exchange_weak(&used, &old, end));
  unsigned char *p = ll__pl_boot_pool + start;
  *(size_t *)(void *)(p - BOOT_HEADER) = size;
  return p; /* static storage: already zero, so calloc needs nothing more */
}

size_t ll__pl_boot_size(const void *p) {
  return *(const size_t *)(const void *)((const unsigned char *)p - BOOT_HEADER);
}
