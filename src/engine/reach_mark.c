/* reach_mark.c - the exit scan's marking: breadth first by levels, each level's blocks read in address order, the words they hold looked up in address order. */
#include <string.h>

#include "reach_priv.h"

/* Why levels: a queue visits blocks in the order they were found, all over the heap, and each
 * lookup lands on a random page of the index; both miss the caches and the TLB on a big heap
 * (0.3 GB/s on 614 MiB). A level sorted by address is read front to back, and a chunk of the
 * words it holds, sorted by the page they point into, is looked up front to back too. The
 * result is the queue's rule with its ties made explicit: see reach.h. */
#define CHUNK (1u << 20) /* words looked up at a time: 16 MiB of candidates, twice */
#define SMALL 512u       /* fewer: looked up one by one, in holder order, no sort */
#define RADIX 11
#define RBUCKETS (1u << RADIX)
#define RPASSES 3 /* 33 bits: block indices (below 2^31) and page numbers (below 2^32) */

static size_t g_chunk = CHUNK, g_small = SMALL;

void ll__reach_tune(size_t chunk, size_t small) {
  g_chunk = chunk > 0 ? chunk : CHUNK;
  g_small = small > 0 ? small : SMALL;
}

static unsigned bits_of(uint64_t v) {
  unsigned b = 1;
  while (b < 64 && (v >> b) != 0) b++;
  return b;
}

int ll__reach_mark_init(ll__rpriv_t *p) {
  size_t cap = 2 * p->n + 2;
  p->chunk = g_chunk;
  p->small = g_small;
  p->cur = ll__reach_map(cap * sizeof *p->cur);
  p->next = ll__reach_map(cap * sizeof *p->next);
  p->tmp = ll__reach_map(cap * sizeof *p->tmp);
  p->cand = ll__reach_map(p->chunk * sizeof *p->cand);
  p->cand_tmp = ll__reach_map(p->chunk * sizeof *p->cand_tmp);
  p->cnt = ll__reach_map(RPASSES * RBUCKETS * sizeof *p->cnt);
  if (p->cur == NULL || p->next == NULL || p->tmp == NULL || p->cand == NULL || p->cand_tmp == NULL ||
      p->cnt == NULL)
    return -1;
  p->gbits = bits_of(p->nidx);
  return 0;
}

/* Counts of each digit of each pass, read in one go; then the exclusive prefix sums. */
#define RDIGIT(v, pass) (((v) >> ((pass) * RADIX)) & (RBUCKETS - 1))
static void radix_counts(uint32_t *cnt, unsigned passes) {
  for (unsigned ps = 0; ps < passes; ps++) {
    uint32_t sum = 0, *c = cnt + ps * RBUCKETS;
    for (uint32_t d = 0; d < RBUCKETS; d++) {
      uint32_t k = c[d];
      c[d] = sum;
      sum += k;
    }
  }
}

/* The level's block indices in ascending order (duplicates kept). */
static void sort_level(ll__rpriv_t *p) {
  uint32_t *a = p->cur;
  size_t n = p->ncur;
  if (n < 64) {
    for (size_t i = 1; i < n; i++) {
      uint32_t v = a[i];
      size_t k = i;
      for (; k > 0 && a[k - 1] > v; k--) a[k] = a[k - 1];
      a[k] = v;
    }
    return;
  }
  unsigned passes = (bits_of(p->n) + RADIX - 1) / RADIX;
  memset(p->cnt, 0, passes * RBUCKETS * sizeof *p->cnt);
  for (size_t i = 0; i < n; i++)
    for (unsigned ps = 0; ps < passes; ps++) p->cnt[ps * RBUCKETS + RDIGIT(a[i], ps)]++;
  radix_counts(p->cnt, passes);
  for (unsigned ps = 0; ps < passes; ps++) {
    uint32_t *c = p->cnt + ps * RBUCKETS, *src = p->cur, *dst = p->tmp;
    for (size_t i = 0; i < n; i++) dst[c[RDIGIT(src[i], ps)]++] = src[i];
    p->cur = dst;
    p->tmp = src;
  }
}

/* Candidates by page, stable: within a page, in the order they were read (holder order). */
static void sort_cands(ll__rpriv_t *p) {
  size_t n = p->ncand;
  unsigned passes = (p->gbits + RADIX - 1) / RADIX;
  memset(p->cnt, 0, passes * RBUCKETS * sizeof *p->cnt);
  for (size_t i = 0; i < n; i++)
    for (unsigned ps = 0; ps < passes; ps++) p->cnt[ps * RBUCKETS + RDIGIT(p->cand[i].g, ps)]++;
  radix_counts(p->cnt, passes);
  for (unsigned ps = 0; ps < passes; ps++) {
    uint32_t *c = p->cnt + ps * RBUCKETS;
    ll__rcand_t *src = p->cand, *dst = p->cand_tmp;
    for (size_t i = 0; i < n; i++) dst[c[RDIGIT(src[i].g, ps)]++] = src[i];
    p->cand = dst;
    p->cand_tmp = src;
  }
}

/* Look the waiting words up, in page order, and mark what they point into. */
static void flush(ll__rpriv_t *p) {
  if (p->ncand >= p->small && p->ncand > 1) sort_cands(p); /* else in the order read */
  for (size_t i = 0; i < p->ncand; i++) {
    /* Pages ahead: their index entry, then their first span (sparse, so not streamed). */
    if (i + 16 < p->ncand) __builtin_prefetch(&p->idx[p->cand[i + 16].g]);
    if (i + 8 < p->ncand) __builtin_prefetch(&p->se[p->idx[p->cand[i + 8].g]]);
    const ll__rcand_t *c = &p->cand[i];
    uint64_t w = c->w & ~LL__RDEF_BIT;
    long j = ll__reach_in_page(p, c->g, w);
    if (j >= 0) ll__reach_mark(p, (size_t)j, w, c->holder, (c->w & LL__RDEF_BIT) != 0);
  }
  p->ncand = 0;
}

/* ll__reach_page, trying the cluster of the last word first (a block's pointers mostly point
 * near each other). */
static inline long page_near(const ll__rpriv_t *p, uint64_t w, size_t *last) {
  const ll__rcluster_t *c = &p->cl[*last];
  if (w >= c->base && w - c->base < c->npages * LL__RGRAN) return (long)(c->off + (w - c->base) / LL__RGRAN);
  size_t a = 0, z = p->ncl;
  while (z - a > 1) {
    size_t m = (a + z) / 2;
    if (p->cl[m].base <= w) a = m;
    else z = m;
  }
  c = &p->cl[a];
  if (w < c->base || w - c->base >= c->npages * LL__RGRAN) return -1;
  *last = a;
  return (long)(c->off + (w - c->base) / LL__RGRAN);
}

/* Sorted, tagged with what each block is scanned as (its state now, at the level's start,
 * whatever this level's marks do to it: they queue it for the next one); blocks already
 * scanned as that are dropped. Each block is in the list once (marked once by the last
 * level: ll__reach_mark). */
static void take_level(ll__rpriv_t *p) {
  sort_level(p);
  size_t k = 0;
  for (size_t i = 0; i < p->ncur; i++) {
    uint32_t j = p->cur[i];
    uint8_t s = ll__rst_get(p, j) & ~LL__S_FRESH;
    int def = (s & LL__S_MASK) == LL__S_REACHABLE;
    if ((s & LL__S_DONE_REACHABLE) || (!def && (s & LL__S_DONE_POSSIBLE))) {
      ll__rst_set(p, j, s);
      continue;
    }
    ll__rst_set(p, j, (uint8_t)(s | (def ? LL__S_DONE_REACHABLE : LL__S_DONE_POSSIBLE)));
    p->cur[k++] = j | (def ? LL__RROOT_BIT : 0);
  }
  p->ncur = k;
}

/* Read the level's blocks in address order. A word pointing near the block holding it (its
 * block's entries are in cache) is looked up at once; the others wait for their chunk's sort
 * (ll__reach_mark makes the order irrelevant to the result). */
#define NEAR (16u * 1024u)
static void scan_level(ll__rpriv_t *p, uint64_t *scanned) {
  size_t last = 0;
  uint64_t lo = p->lo, hi = p->hi;
  for (size_t i = 0; i < p->ncur; i++) {
    uint32_t j = p->cur[i] & ~LL__RROOT_BIT;
    int definite = (p->cur[i] & LL__RROOT_BIT) != 0;
    uint64_t def = definite ? LL__RDEF_BIT : 0;
    /* Blocks ahead: the entry of the 32nd, the first lines of the 16th (the hardware follows a
     * stream only once it has seen a few lines of it). */
    if (i + 32 < p->ncur) __builtin_prefetch(&p->se[p->cur[i + 32] & ~LL__RROOT_BIT]);
    if (i + 16 < p->ncur) {
      const ll__rspan_t *f = &p->se[p->cur[i + 16] & ~LL__RROOT_BIT];
      uint64_t fe = (f->e & LL__REND_MASK) < f->s + 512 ? (f->e & LL__REND_MASK) : f->s + 512;
      for (uint64_t x = f->s & ~(uint64_t)63; x < fe; x += 64) __builtin_prefetch((const void *)(uintptr_t)x);
    }
    uint64_t start = p->se[j].s, end = p->se[j].e & LL__REND_MASK;
    const uint64_t *a, *z;
    ll__rruns_t runs;
    ll__reach_runs(&runs, p, start, end);
    while (ll__reach_next_run(&runs, scanned, &a, &z))
      for (; a < z; a++) {
        uint64_t w = *a;
        if (w < lo || w >= hi) continue;
        long g = page_near(p, w, &last);
        if (g < 0) continue;
        if (w - start + NEAR < 2 * NEAR + (end - start)) {
          long t = ll__reach_in_page(p, (size_t)g, w);
          if (t >= 0) ll__reach_mark(p, (size_t)t, w, j, definite);
          continue;
        }
        p->cand[p->ncand++] = (ll__rcand_t){w | def, j, (uint32_t)g};
        if (p->ncand == p->chunk) flush(p);
      }
  }
  flush(p);
}

void ll__reach_propagate(ll__rpriv_t *p, uint64_t *scanned) {
  while (p->nnext > 0) {
    uint32_t *t = p->cur;
    p->cur = p->next;
    p->next = t;
    p->ncur = p->nnext;
    p->nnext = 0;
    take_level(p);
    scan_level(p, scanned);
  }
}
