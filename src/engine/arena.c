/* arena.c - private mmap-backed bump arenas (see arena.h); the tracker's memory never uses malloc. */
#include "arena.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LL__CHUNK_MIN (64 * 1024)

typedef struct ll__chunk {
  struct ll__chunk *next;
  size_t size; /* mapped bytes, header included */
} ll__chunk_t;

struct ll__arena {
  const ll__arena_mem_t *mem;
  ll__chunk_t *chunks; /* the first chunk holds the arena itself */
  char *cur;
  char *end;
  size_t mapped;
  size_t refs; /* ll__arena_free calls still to come, less one */
};

static size_t page_round(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n > SIZE_MAX - page) return 0;
  return (n + page - 1) & ~(page - 1);
}

void *ll__mmap_alloc(size_t size) {
  size_t len = page_round(size);
  if (len == 0) return NULL;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void ll__mmap_free(void *p, size_t size) {
  if (p != NULL) munmap(p, page_round(size));
}

int ll__mmap_share(void *obj, size_t len) {
  void *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return -1;
  memcpy(sh, obj, len);
  /* Moving the shared pages over obj replaces its private pages in one step. */
  if (mremap(sh, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, obj) != obj) {
    munmap(sh, len);
    return -1;
  }
  return 0;
}

/* mmap's own chunks grow: a report's symbolised snapshots of a 467k-traceback capture filled
 * ~25k chunks of 64 KiB, and unmapping them was a quarter of its samples on a 2-vCPU VM. */
static const ll__arena_mem_t default_mem = {ll__mmap_alloc, ll__mmap_free, (size_t)32 << 20};

/* A chunk for `need` bytes, in an arena that has mapped `mapped` so far. */
static ll__chunk_t *chunk_new(const ll__arena_mem_t *mem, size_t need, size_t mapped) {
  size_t bare = need + sizeof(ll__chunk_t) + 16, least = LL__CHUNK_MIN, want;
  if (bare < need) return NULL;
  if (bare < least) bare = least;
  if (mem->grow_to > least && mapped > least) least = mapped < mem->grow_to ? mapped : mem->grow_to;
  want = page_round(bare < least ? least : bare);
  if (want == 0) return NULL;
  ll__chunk_t *c = mem->map(want);
  if (c == NULL && want > page_round(bare)) /* no room for the grown size (a capped RLIMIT_AS) */
    c = mem->map(want = page_round(bare));
  if (c == NULL) return NULL;
#ifdef MADV_HUGEPAGE
  /* A grown chunk is filled front to back at once: huge pages spare a fault per 4 KiB and the
   * TLB misses of reading gigabytes of frames back (advice only). */
  if (mem->grow_to != 0 && want >= ((size_t)2 << 20)) (void)madvise(c, want, MADV_HUGEPAGE);
#endif
  c->next = NULL;
  c->size = want;
  return c;
}

static char *align16(char *p) { return (char *)(((uintptr_t)p + 15) & ~(uintptr_t)15); }

ll__arena_t *ll__arena_new(void) { return ll__arena_new_with(&default_mem); }

ll__arena_t *ll__arena_new_with(const ll__arena_mem_t *mem) {
  ll__chunk_t *c = chunk_new(mem, sizeof(ll__arena_t), 0);
  if (c == NULL) return NULL;
  ll__arena_t *a = (ll__arena_t *)align16((char *)(c + 1));
  a->mem = mem;
  a->chunks = c;
  a->cur = align16((char *)(a + 1));
  a->end = (char *)c + c->size;
  a->mapped = c->size;
  return a;
}

void *ll__arena_alloc(ll__arena_t *a, size_t n) {
  if (n == 0) n = 1;
  char *p = align16(a->cur);
  if (p > a->end || (size_t)(a->end - p) < n) {
    ll__chunk_t *c = chunk_new(a->mem, n, a->mapped);
    if (c == NULL) return NULL;
    c->next = a->chunks->next; /* keep the arena's own chunk first */
    a->chunks->next = c;
    a->mapped += c->size;
    p = align16((char *)(c + 1));
    a->end = (char *)c + c->size;
  }
  a->cur = p + n;
  return p; /* fresh mmap pages are zero and bump memory is never reused */
}

char *ll__arena_strdup(ll__arena_t *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = ll__arena_alloc(a, n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

size_t ll__arena_bytes(const ll__arena_t *a) { return a->mapped; }

void ll__arena_ref(ll__arena_t *a) { a->refs++; }

void ll__arena_free(ll__arena_t *a) {
  if (a == NULL) return;
  if (a->refs > 0) {
    a->refs--;
    return;
  }
  const ll__arena_mem_t *mem = a->mem;
  ll__chunk_t *c = a->chunks->next;
  while (c != NULL) {
    ll__chunk_t *next = c->next;
    mem->unmap(c, c->size);
    c = next;
  }
  c = a->chunks;
  mem->unmap(c, c->size);
}
