/* tracker_mem.c - the tracker's own memory: counted mmap mappings and one intern arena, optionally in one shared region. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "tracker_mem.h"

int ll__tmem_fail;

/* Page-aligned and page-sized, so ll__tmem_share can make exactly these pages shared. */
static struct __attribute__((aligned(4096))) {
  size_t mapped;             /* bytes of live ll__tmem_map mappings */
  ll__arena_t *intern_arena; /* strings, locations' keys, traceback keys */
  /* Shared region (asynchronous recording): every mapping is carved from it, bump only. */
  char *region;
  size_t region_used, region_cap;
  int sealed; /* the region's unused part was given back: new mappings are private */
} M;

static size_t page_round(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n == 0) n = 1;
  if (n > SIZE_MAX - page) return 0;
  return (n + page - 1) & ~(page - 1);
}

/* Pages from the region when there is one: never reused, so they are zero when handed out. */
static void *raw_map(size_t len) {
  if (M.region == NULL) return ll__mmap_alloc(len);
  len = page_round(len);
  if (len == 0) return NULL;
  if (len > M.region_cap - M.region_used) return M.sealed ? ll__mmap_alloc(len) : NULL;
  void *p = M.region + M.region_used;
  M.region_used += len;
  return p;
}

/* A region range gives its pages back (MADV_REMOVE frees shared memory's backing pages). */
static void raw_unmap(void *p, size_t len) {
  if (M.region != NULL && (char *)p >= M.region && (char *)p < M.region + M.region_cap)
    madvise(p, page_round(len), MADV_REMOVE);
  else
    ll__mmap_free(p, len);
}

/* Fixed 64 KiB chunks: the intern arena's mapped bytes count as the tracker's memory. */
static const ll__arena_mem_t arena_mem = {raw_map, raw_unmap, 0};

void ll__tmem_seal(void) {
  if (M.region == NULL || M.sealed) return;
  size_t used = page_round(M.region_used);
  if (used < M.region_cap) munmap(M.region + used, M.region_cap - used);
  if (used < M.region_cap) M.region_cap = used;
  M.sealed = 1;
}

int ll__tmem_share(size_t reserve) {
  if (M.region != NULL) return 0;
  if (M.mapped != 0 || M.intern_arena != NULL) return -1; /* tables already live privately */
  reserve = page_round(reserve);
  if (reserve == 0) return -1;
  void *r = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (r == MAP_FAILED) return -1;
  if (ll__mmap_share(&M, sizeof M) != 0) {
    munmap(r, reserve);
    return -1;
  }
  M.region = r;
  M.region_used = 0;
  M.region_cap = reserve;
  return 0;
}

void *ll__tmem_map(size_t want, size_t *got) {
  size_t len = page_round(want);
  if (len == 0 || ll__tmem_fail) return NULL;
  void *p = raw_map(len);
  if (p == NULL) return NULL;
  M.mapped += len;
  *got = len;
  return p;
}

void ll__tmem_unmap(void *p, size_t len) {
  if (p == NULL) return;
  raw_unmap(p, len);
  M.mapped -= len;
}

void *ll__tmem_arena_alloc(size_t n) {
  if (ll__tmem_fail) return NULL;
  if (M.intern_arena == NULL && (M.intern_arena = ll__arena_new_with(&arena_mem)) == NULL) return NULL;
  return ll__arena_alloc(M.intern_arena, n);
}

size_t ll__tmem_bytes(void) {
  return M.mapped + (M.intern_arena != NULL ? ll__arena_bytes(M.intern_arena) : 0);
}

void ll__tmem_arena_reset(void) {
  ll__arena_free(M.intern_arena);
  M.intern_arena = NULL;
}
