/* tracker_mem.c - the tracker's own memory: counted mmap mappings and one intern arena. */
#include <unistd.h>

#include "tracker_internal.h"

int ll__tmem_fail;
static size_t mapped;            /* bytes of live ll__tmem_map mappings */
static ll__arena_t *intern_arena; /* strings, locations' keys, traceback keys */

static size_t page_round(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n == 0) n = 1;
  if (n > SIZE_MAX - page) return 0;
  return (n + page - 1) & ~(page - 1);
}

void *ll__tmem_map(size_t want, size_t *got) {
  size_t len = page_round(want);
  if (len == 0 || ll__tmem_fail) return NULL;
  void *p = ll__mmap_alloc(len);
  if (p == NULL) return NULL;
  mapped += len;
  *got = len;
  return p;
}

void ll__tmem_unmap(void *p, size_t len) {
  if (p == NULL) return;
  ll__mmap_free(p, len);
  mapped -= len;
}

void *ll__tmem_arena_alloc(size_t n) {
  if (ll__tmem_fail) return NULL;
  if (intern_arena == NULL && (intern_arena = ll__arena_new()) == NULL) return NULL;
  return ll__arena_alloc(intern_arena, n);
}

size_t ll__tmem_bytes(void) {
  return mapped + (intern_arena != NULL ? ll__arena_bytes(intern_arena) : 0);
}

void ll__tmem_arena_reset(void) {
  ll__arena_free(intern_arena);
  intern_arena = NULL;
}
