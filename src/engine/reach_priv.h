/* reach_priv.h - the exit scan's shared state between reach.c (index, roots, cliques, totals) and reach_mark.c (the marking by levels). */
#ifndef LEAKLAB_REACH_PRIV_H
#define LEAKLAB_REACH_PRIV_H
/*
 * Contract: internal to src/engine/reach*.c. The blocks are sorted by address, so a block's
 * index orders blocks by address; the lookups (ll__reach_page, ll__reach_in_page) read only the
 * cluster and page index and the spans. Every table is mmap'd (ll__reach_map): no malloc.
 */
#include <stddef.h>
#include <stdint.h>

#include "livetable.h"
#include "reach.h"

/* A block of the live table's overflow ("wide") part. */
typedef struct ll__rblk {
  uint64_t start, size, usable;
  uint32_t tb, pad_;
} ll__rblk_t;

/* A block's record, in address order: a live-table slot as packed there (livetable.h: key and
 * slack in a, its overflow bits cleared; size and traceback in b) or, with LL__RREC_WIDE in a,
 * b indexes the wide blocks. Sorting these 16 bytes is half the traffic of the unpacked form. */
typedef struct ll__rrec {
  uint64_t a, b;
} ll__rrec_t;
#define LL__RREC_WIDE (1ull << LL__LT_OVF_SHIFT)
#define LL__RNONE UINT32_MAX
#define LL__RROOT_BIT 0x80000000u /* a holder that is a root word; also a level entry's "definite" */

/* Block states (low 2 bits), what it was scanned as (so a block is read at most twice), and
 * whether the level being scanned marked it (cleared when the next level is taken). */
enum { LL__S_UNREACHED = 0, LL__S_POSSIBLE = 1, LL__S_REACHABLE = 2, LL__S_INDIRECT = 3, LL__S_MASK = 3,
       LL__S_DONE_POSSIBLE = 4, LL__S_DONE_REACHABLE = 8, LL__S_FRESH = 16 };

/* A run of blocks with no gap over LL__RGAP between them, indexed per LL__RGRAN bytes:
 * idx[off + k] is the first block starting at or after base + k * LL__RGRAN (k = 0..npages).
 * 512 bytes keep a lookup to one or two cache lines of spans in a dense heap. A page's global
 * number is off + k: idx[g] and idx[g + 1] bound its blocks, and numbers grow with addresses. */
#define LL__RGRAN 512u
#define LL__RGAP (64u * 1024u)
typedef struct ll__rcluster {
  uint64_t base, npages;
  size_t off;
} ll__rcluster_t;

typedef struct ll__rspan {
  uint64_t s, e;
} ll__rspan_t;

typedef struct ll__rootword {
  uint64_t addr;
  uint32_t kind, thread;
} ll__rootword_t;

/* A root range as the caller named it; read in ll__reach_finish, in priority order. */
typedef struct ll__rootrange {
  uint64_t lo, hi;
  uint32_t kind, thread;
} ll__rootrange_t;

/* Pair -> index, open addressing, grown at half load (edges; roots per traceback). */
typedef struct ll__pairmap {
  uint64_t *keys; /* 2 words per slot; slot empty when vals[i] == LL__RNONE */
  uint32_t *vals;
  size_t cap, count;
} ll__pairmap_t;

/* A word read in a block of the level being scanned, on its way to the block it points into:
 * w (bit 63: read in a still reachable block), the block holding it, the page w falls in. */
typedef struct ll__rcand {
  uint64_t w;
  uint32_t holder, g;
} ll__rcand_t;
#define LL__RDEF_BIT (1ull << 63)

typedef struct ll__rpriv {
  ll__rrec_t *rec;
  ll__rblk_t *wide;
  size_t nwide;
  ll__rspan_t *se;  /* the sorted blocks' [start, start + max(size, 1)), side by side: a lookup
                       reads only these; a block's state (LL__S_*) rides in the top byte of its
                       end (addresses are below 2^56), so marking costs no other load */
  uint32_t *holder; /* per block: a block index, LL__RROOT_BIT | a root word index, or NONE */
  size_t n;
  uint32_t *cur, *next, *tmp; /* the level being scanned, the next one (each block enters the
                                 levels at most twice in all), sort scratch; cur is the
                                 cliques' stack at the end */
  size_t ncur, nnext;
  ll__rcand_t *cand, *cand_tmp; /* words waiting for their lookup, chunk at a time */
  size_t ncand, chunk, small;
  uint32_t *cnt;  /* radix sort counts */
  unsigned gbits; /* bits of the largest page number */
  ll__rcluster_t *cl;
  size_t ncl;
  uint32_t *idx;
  size_t nidx;
  uint64_t lo, hi; /* lowest start, highest end */
  ll__rootword_t *rw;
  size_t nrw;
  ll__rootrange_t *rr;
  size_t nrr, rr_cap;
  int nomem;
  ll__pairmap_t edges, roots;
  size_t edge_cap, root_cap;
  uint8_t *nroot_tb; /* distinct root words kept per traceback */
  int pm_fd;         /* /proc/self/pagemap, opened at the first big block and kept for the
                        scan (one open per scan, not per block); -1 not yet, -2 unreadable */
} ll__rpriv_t;

#define LL__REND_MASK ((1ull << 56) - 1)
static inline uint8_t ll__rst_get(const ll__rpriv_t *p, size_t j) { return (uint8_t)(p->se[j].e >> 56); }
static inline void ll__rst_set(ll__rpriv_t *p, size_t j, uint8_t s) {
  p->se[j].e = (p->se[j].e & LL__REND_MASK) | (uint64_t)s << 56;
}

void *ll__reach_map(size_t len);
void ll__reach_unmap(void *q);
/* Whether [start, end) may be read: a big block is checked still mapped (msync). */
int ll__reach_readable(uint64_t start, uint64_t end);

/* The global number of the page holding w, or -1 when w is in no cluster. */
static inline long ll__reach_page(const ll__rpriv_t *p, uint64_t w) {
  if (w < p->lo || w >= p->hi) return -1;
  size_t a = 0, z = p->ncl;
  while (z - a > 1) {
    size_t m = (a + z) / 2;
    if (p->cl[m].base <= w) a = m;
    else z = m;
  }
  const ll__rcluster_t *c = &p->cl[a];
  if (w < c->base) return -1;
  uint64_t pg = (w - c->base) / LL__RGRAN;
  return pg < c->npages ? (long)(c->off + pg) : -1;
}

/* Index of the block of page g whose [start, start + max(size, 1)) holds w, or -1. */
static inline long ll__reach_in_page(const ll__rpriv_t *p, size_t g, uint64_t w) {
  uint32_t lo = p->idx[g], hi = p->idx[g + 1];
  const ll__rspan_t *st = p->se;
  while (lo < hi) {
    uint32_t m = lo + (hi - lo) / 2;
    if (st[m].s <= w) lo = m + 1;
    else hi = m;
  }
  if (lo == 0) return -1;
  return w < (st[lo - 1].e & LL__REND_MASK) ? (long)(lo - 1) : -1;
}

static inline long ll__reach_find(const ll__rpriv_t *p, uint64_t w) {
  long g = ll__reach_page(p, w);
  return g < 0 ? -1 : ll__reach_in_page(p, (size_t)g, w);
}

/* Word w, seen in a root or a reached block (definite: a root, or a still reachable block),
 * points into block j: upgrade j as memcheck does, queue it for the next level the first time
 * this level marks it. Within a level the result does not depend on the order the words are
 * looked up in: of the words that give j its state, the lowest holder wins (blocks are read
 * in index order, a root's words in the order named). 1 when j's holder became `holder`. */
static inline int ll__reach_mark(ll__rpriv_t *p, size_t j, uint64_t w, uint32_t holder, int definite) {
  uint8_t s0 = ll__rst_get(p, j), s = s0 & LL__S_MASK;
  int strong = definite && w == p->se[j].s;
  if (s0 & LL__S_FRESH) {
    if (strong && s == LL__S_POSSIBLE) {
      ll__rst_set(p, j, (uint8_t)((s0 & ~LL__S_MASK) | LL__S_REACHABLE));
    } else if (!(strong ? s == LL__S_REACHABLE : s == LL__S_POSSIBLE) || holder >= p->holder[j]) {
      return 0;
    }
    p->holder[j] = holder;
    return 1;
  }
  if (strong) {
    if (s == LL__S_REACHABLE) return 0;
  } else if (s != LL__S_UNREACHED) {
    return 0;
  }
  ll__rst_set(p, j, (uint8_t)((s0 & ~LL__S_MASK) | LL__S_FRESH | (strong ? LL__S_REACHABLE : LL__S_POSSIBLE)));
  p->holder[j] = holder;
  p->next[p->nnext++] = (uint32_t)j;
  return 1;
}

/* Aligned words fully inside [lo, hi). */
static inline void ll__reach_words(uint64_t lo, uint64_t hi, const uint64_t **a, const uint64_t **z) {
  lo = (lo + 7) & ~(uint64_t)7;
  hi &= ~(uint64_t)7;
  if (hi < lo) hi = lo;
  *a = (const uint64_t *)(uintptr_t)lo;
  *z = (const uint64_t *)(uintptr_t)hi;
}

/* A block read run by run: a big one (ll__reach_readable's size) only where its pages were
 * ever touched (ll__reach_next_run); `at`: where the next run starts, 0 before the first. */
typedef struct ll__rruns {
  uint64_t start, end, at;
  int *pm_fd; /* the scan's pagemap descriptor (ll__rpriv_t's pm_fd) */
  int whole;  /* this block is read whole from `at` on (small, or the map failed) */
} ll__rruns_t;

static inline void ll__reach_runs(ll__rruns_t *r, ll__rpriv_t *p, uint64_t start, uint64_t end) {
  *r = (ll__rruns_t){start, end, 0, &p->pm_fd, 0};
}
/* The next run of [start, end)'s aligned words that may hold a nonzero word, counted in
 * *scanned; 0 when none is left (or the block cannot be read). Why: a page the program never
 * touched (neither present nor swapped out) holds zeros, so no pointer; reading it would fault
 * it in, and on some kernels each such page then counts in the program's RSS (xz -9 reserves
 * 673 MiB and touches little: its exit scan took 0.24 -> 2.0 s and 10 MB -> 698 MB RSS). */
int ll__reach_next_run(ll__rruns_t *r, uint64_t *scanned, const uint64_t **a, const uint64_t **z);

/* Scratch for the marking (levels, candidate chunks). 0 or -1. */
int ll__reach_mark_init(ll__rpriv_t *p);
/* Level after level from what the roots queued (p->next), until nothing is left. */
void ll__reach_propagate(ll__rpriv_t *p, uint64_t *scanned);

#endif
