/* reach.c - the exit scan: index the live blocks by address, mark from the roots, classify as memcheck does, aggregate per traceback. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "intern.h"
#include "livetable.h"
#include "reach_priv.h"

#define PAGE 4096u

/* ---- memory -------------------------------------------------------------------------------- */

/* Size of a mapping made by ll__reach_map(): kept in front of it so free needs only the pointer. */
void *ll__reach_map(size_t len) {
  size_t *p = ll__mmap_alloc(len + 16);
  if (p == NULL) return NULL;
  p[0] = len + 16;
  return p + 2;
}

void ll__reach_unmap(void *q) {
  if (q == NULL) return;
  size_t *p = (size_t *)q - 2;
  ll__mmap_free(p, p[0]);
}

/* A table every page of which is written at once: mapped with its pages (one call instead of
 * a fault per page: 0.1 s on method_cache's 2.5 M blocks). */
static void *map_filled(size_t len) {
  size_t *p = mmap(NULL, len + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  p[0] = len + 16;
  return p + 2;
}

/* ---- pair maps ----------------------------------------------------------------------------- */

static uint64_t pair_hash(uint64_t a, uint64_t b) {
  uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a << 6));
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

static int pm_init(ll__pairmap_t *m, size_t cap) {
  m->keys = ll__reach_map(cap * 2 * sizeof *m->keys);
  m->vals = ll__reach_map(cap * sizeof *m->vals);
  if (m->keys == NULL || m->vals == NULL) return -1;
  memset(m->vals, 0xff, cap * sizeof *m->vals);
  m->cap = cap;
  m->count = 0;
  return 0;
}

static void pm_free(ll__pairmap_t *m) {
  ll__reach_unmap(m->keys);
  ll__reach_unmap(m->vals);
  m->keys = NULL;
  m->vals = NULL;
}

static size_t pm_slot(const ll__pairmap_t *m, uint64_t a, uint64_t b) {
  size_t i = pair_hash(a, b) & (m->cap - 1);
  while (m->vals[i] != LL__RNONE && (m->keys[2 * i] != a || m->keys[2 * i + 1] != b)) i = (i + 1) & (m->cap - 1);
  return i;
}

/* Value of (a, b), or LL__RNONE; with `add` (a fresh value when absent), the value stored. -2 as
 * uint32: no memory. */
static uint32_t pm_get(ll__pairmap_t *m, uint64_t a, uint64_t b, uint32_t add) {
  size_t i = pm_slot(m, a, b);
  if (m->vals[i] != LL__RNONE || add == LL__RNONE) return m->vals[i];
  if ((m->count + 1) * 2 > m->cap) {
    ll__pairmap_t g;
    if (pm_init(&g, m->cap * 2) != 0) {
      pm_free(&g);
      return LL__RNONE - 1;
    }
    for (size_t k = 0; k < m->cap; k++) {
      if (m->vals[k] == LL__RNONE) continue;
      size_t j = pm_slot(&g, m->keys[2 * k], m->keys[2 * k + 1]);
      g.keys[2 * j] = m->keys[2 * k];
      g.keys[2 * j + 1] = m->keys[2 * k + 1];
      g.vals[j] = m->vals[k];
    }
    g.count = m->count;
    pm_free(m);
    *m = g;
    i = pm_slot(m, a, b);
  }
  m->keys[2 * i] = a;
  m->keys[2 * i + 1] = b;
  m->vals[i] = add;
  m->count++;
  return add;
}

/* ---- the block index ------------------------------------------------------------------------ */

/* The wide blocks by start: few, insertion sort. */
static void sort_wide(ll__rblk_t *b, size_t n) {
  for (size_t i = 1; i < n; i++) {
    ll__rblk_t v = b[i];
    size_t k = i;
    for (; k > 0 && b[k - 1].start > v.start; k--) b[k] = b[k - 1];
    b[k] = v;
  }
}

/* LSD radix sort of packed records by key, 11 bits a pass (a pass's 2048 destinations stay in
 * the TLB), skipping the digits every key shares. The sorted copy is in a or b: returned. */
#define KRADIX 11
#define KPASSES ((LL__LT_KEY_BITS + KRADIX - 1) / KRADIX)
static ll__rrec_t *sort_recs(ll__rrec_t *a, ll__rrec_t *b, size_t n, uint32_t *cnt) {
  enum { NB = 1u << KRADIX };
  memset(cnt, 0, KPASSES * NB * sizeof *cnt);
  for (size_t i = 0; i < n; i++) {
    uint64_t k = a[i].a & LL__LT_KEY_MASK;
    for (unsigned ps = 0; ps < KPASSES; ps++) cnt[ps * NB + ((k >> (ps * KRADIX)) & (NB - 1))]++;
  }
  ll__rrec_t *src = a, *dst = b;
  for (unsigned ps = 0; ps < KPASSES; ps++) {
    uint32_t *c = cnt + ps * NB, sum = 0;
    int shared = 0;
    for (uint32_t d = 0; d < NB; d++) {
      shared |= c[d] == n;
      uint32_t k = c[d];
      c[d] = sum;
      sum += k;
    }
    if (shared) continue;
    for (size_t i = 0; i < n; i++) dst[c[((src[i].a & LL__LT_KEY_MASK) >> (ps * KRADIX)) & (NB - 1)]++] = src[i];
    ll__rrec_t *t = src;
    src = dst;
    dst = t;
  }
  return src;
}

static inline uint64_t rec_start(const ll__rpriv_t *p, const ll__rrec_t *r) {
  return (r->a & LL__RREC_WIDE) ? p->wide[r->b].start : (r->a & LL__LT_KEY_MASK) << 3;
}

/* A block's requested and usable bytes and traceback. */
static inline void rec_of(const ll__rpriv_t *p, size_t j, uint64_t *size, uint64_t *usable, uint32_t *tb) {
  const ll__rrec_t *r = &p->rec[j];
  if (r->a & LL__RREC_WIDE) {
    const ll__rblk_t *w = &p->wide[r->b];
    *size = w->size;
    *usable = w->usable;
    *tb = w->tb;
    return;
  }
  *size = r->b & LL__LT_SIZE_MASK;
  *usable = *size + (r->a >> LL__LT_SLACK_SHIFT);
  *tb = (uint32_t)(r->b >> LL__LT_SIZE_BITS);
}

/* The packed records sorted in `sorted`, the wide blocks merged in by start into `out`. */
static void merge_wide(const ll__rpriv_t *p, const ll__rrec_t *sorted, size_t np, ll__rrec_t *out) {
  size_t i = 0, k = 0, o = 0;
  while (i < np || k < p->nwide) {
    if (k == p->nwide || (i < np && rec_start(p, &sorted[i]) < p->wide[k].start)) out[o++] = sorted[i++];
    else out[o++] = (ll__rrec_t){LL__RREC_WIDE, k++};
  }
}

/* Close the cluster of blocks [first, end) spanning [base, cend): its page index at idx + *off. */
static void close_cluster(ll__rpriv_t *p, size_t first, size_t end, uint64_t cend, size_t *off) {
  ll__rcluster_t *k = &p->cl[p->ncl++];
  k->base = p->se[first].s & ~(uint64_t)(LL__RGRAN - 1);
  k->npages = (cend - k->base + LL__RGRAN - 1) / LL__RGRAN;
  k->off = *off;
  size_t j = first;
  for (uint64_t pg = 0; pg <= k->npages; pg++) {
    uint64_t pos = k->base + pg * LL__RGRAN;
    while (j < end && p->se[j].s < pos) j++;
    p->idx[(*off)++] = (uint32_t)j;
  }
  if (k->base + k->npages * LL__RGRAN > p->hi) p->hi = k->base + k->npages * LL__RGRAN;
}

/* Clusters: a new one where the gap to everything before exceeds LL__RGAP. Two passes: sizes, then
 * the index itself. */
static int build_index(ll__rpriv_t *p) {
  size_t ncl = 0, nidx = 0;
  uint64_t base = 0, cend = 0;
  for (size_t i = 0; i < p->n; i++) {
    uint64_t e = p->se[i].e;
    if (i == 0 || p->se[i].s > cend + LL__RGAP) {
      if (i > 0) nidx += (cend - base + LL__RGRAN - 1) / LL__RGRAN + 1;
      ncl++;
      base = p->se[i].s & ~(uint64_t)(LL__RGRAN - 1);
      cend = e;
    } else if (e > cend) {
      cend = e;
    }
  }
  if (p->n > 0) nidx += (cend - base + LL__RGRAN - 1) / LL__RGRAN + 1;
  p->cl = ll__reach_map((ncl + 1) * sizeof *p->cl);
  p->idx = ll__reach_map((nidx + 1) * sizeof *p->idx);
  if (p->cl == NULL || p->idx == NULL) return -1;
  size_t off = 0, first = 0;
  for (size_t i = 0; i < p->n; i++) {
    uint64_t e = p->se[i].e;
    if (i == 0 || p->se[i].s > cend + LL__RGAP) {
      if (i > 0) close_cluster(p, first, i, cend, &off);
      first = i;
      cend = e;
    } else if (e > cend) {
      cend = e;
    }
  }
  if (p->n > 0) close_cluster(p, first, p->n, cend, &off);
  p->nidx = off;
  p->lo = p->n > 0 ? p->se[0].s : 0;
  return 0;
}

/* ---- roots and cliques --------------------------------------------------------------------- */

/* A big block the program may have unmapped meanwhile (another thread still running frees
 * without recording once the tracker is frozen): only read while still mapped. */
int ll__reach_readable(uint64_t start, uint64_t end) {
  if (end - start < 65536) return 1;
  uintptr_t pg = (uintptr_t)start & ~(uintptr_t)(PAGE - 1);
  return msync((void *)pg, (size_t)(end - pg), MS_ASYNC) == 0;
}

/* /proc/self/pagemap's entry bits: the page is in memory, or in swap. Neither: never touched
 * (or discarded), so it reads as zeros. */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_BATCH 512

/* From page `pg` (an index) on, below `last`: the first page whose state differs from `want`
 * (touched or not); last when none does, or the map cannot be read (then every page counts as
 * touched: the block is read whole, as without the map). */
static uint64_t pm_until(int fd, uint64_t pg, uint64_t last, int want, int *failed) {
  uint64_t buf[PM_BATCH];
  while (pg < last) {
    size_t n = last - pg < PM_BATCH ? (size_t)(last - pg) : PM_BATCH;
    ssize_t got = pread(fd, buf, n * sizeof buf[0], (off_t)(pg * sizeof buf[0]));
    if (got < (ssize_t)sizeof buf[0]) {
      *failed = 1;
      return want ? last : pg;
    }
    n = (size_t)got / sizeof buf[0];
    for (size_t i = 0; i < n; i++)
      if (((buf[i] & (PM_PRESENT | PM_SWAPPED)) != 0) != want) return pg + i;
    pg += n;
  }
  return last;
}

int ll__reach_next_run(ll__rruns_t *r, uint64_t *scanned, const uint64_t **a, const uint64_t **z) {
  if (r->at == 0) { /* first call */
    if (!ll__reach_readable(r->start, r->end)) return 0;
    r->at = r->start;
    r->whole = r->end - r->start < 65536;
    if (!r->whole && *r->pm_fd == -1) {
      *r->pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
      if (*r->pm_fd < 0) *r->pm_fd = -2;
    }
    if (*r->pm_fd < 0) r->whole = 1;
  }
  uint64_t lo = r->at, hi = r->end;
  if (lo >= hi) {
    r->at = r->end;
    return 0;
  }
  if (!r->whole) {
    uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), last = (r->end + ps - 1) / ps;
    int failed = 0;
    uint64_t pg = pm_until(*r->pm_fd, lo / ps, last, 0, &failed); /* skip the untouched */
    if (!failed) {
      if (pg >= last) {
        r->at = r->end;
        return 0;
      }
      if (pg * ps > lo) lo = pg * ps;
      uint64_t stop = pm_until(*r->pm_fd, pg, last, 1, &failed); /* then read the touched */
      if (!failed && stop * ps < hi) hi = stop * ps;
    }
    if (failed) { /* the map stopped answering: this block's rest whole, and every later one */
      close(*r->pm_fd);
      *r->pm_fd = -2;
      r->whole = 1;
      lo = r->at;
      hi = r->end;
    }
  }
  r->at = hi;
  ll__reach_words(lo, hi, a, z);
  *scanned += (uint64_t)(*z - *a) * 8;
  return 1;
}

/* glibc's malloc keeps pointers to chunk headers in its state (in libc's data: the top chunk,
 * the bins), and a header sits 8 bytes before the end of the usable part of the block below
 * it, which a block asking for all of its usable size covers. Such a word from a global is
 * the allocator's, not the program's. */
static int chunk_header(const ll__rpriv_t *p, uint64_t w) {
  long j = ll__reach_find(p, w);
  if (j < 0 || w == p->se[j].s) return 0;
  uint64_t size, usable;
  uint32_t tb;
  rec_of(p, (size_t)j, &size, &usable, &tb);
  return usable >= 8 && w == p->se[j].s + usable - 8;
}

void ll__reach_root(ll__reach_t *r, uintptr_t lo, uintptr_t hi, uint32_t kind, uint32_t thread) {
  ll__rpriv_t *p = r->ll__priv;
  if (p == NULL || hi <= lo || kind > LL__ROOT_REGISTER) return;
  if (p->nrr == p->rr_cap) {
    size_t cap = p->rr_cap > 0 ? 2 * p->rr_cap : 64;
    ll__rootrange_t *g = ll__reach_map(cap * sizeof *g);
    if (g == NULL) {
      p->nomem = 1;
      return;
    }
    if (p->nrr > 0) memcpy(g, p->rr, p->nrr * sizeof *g);
    ll__reach_unmap(p->rr);
    p->rr = g;
    p->rr_cap = cap;
  }
  p->rr[p->nrr++] = (ll__rootrange_t){lo, hi, kind, thread};
}

/* Mark from one root range's words, in address order. */
static void scan_root(ll__reach_t *r, ll__rpriv_t *p, const ll__rootrange_t *o) {
  const uint64_t *a, *z;
  ll__rruns_t runs; /* a big .bss is read only where it was touched */
  ll__reach_runs(&runs, p, o->lo, o->hi);
  /* Not readable: another thread's stack, gone since it was named. */
  while (ll__reach_next_run(&runs, &r->root_scanned, &a, &z))
    for (; a < z; a++) {
      uint64_t w = *(const volatile uint64_t *)a;
      if (w < p->lo || w >= p->hi) continue;
      if (o->kind == LL__ROOT_GLOBAL && chunk_header(p, w)) continue;
      long j = ll__reach_find(p, w);
      if (j < 0) continue;
      p->rw[p->nrw] = (ll__rootword_t){(uint64_t)(uintptr_t)a, o->kind, o->thread};
      if (ll__reach_mark(p, (size_t)j, w, LL__RROOT_BIT | (uint32_t)p->nrw, 1)) p->nrw++;
    }
}

/* memcheck's cliques: each block still unreached, in address order, reaches the unreached
 * blocks it points to (depth first); they become indirectly lost. The levels' first list is
 * the stack (each block enters it once). */
static void cliques(ll__rpriv_t *p, uint64_t *scanned) {
  for (size_t leader = 0; leader < p->n; leader++) {
    if ((ll__rst_get(p, leader) & LL__S_MASK) != LL__S_UNREACHED) continue;
    size_t top = 0;
    p->cur[top++] = (uint32_t)leader;
    while (top > 0) {
      uint32_t j = p->cur[--top];
      const uint64_t *a, *z;
      ll__rruns_t runs;
      ll__reach_runs(&runs, p, p->se[j].s, p->se[j].e & LL__REND_MASK);
      while (ll__reach_next_run(&runs, scanned, &a, &z))
        for (; a < z; a++) {
          uint64_t w = *a;
          if (w < p->lo || w >= p->hi) continue;
          long c = ll__reach_find(p, w);
          if (c < 0 || (size_t)c == leader || (ll__rst_get(p, (size_t)c) & LL__S_MASK) != LL__S_UNREACHED) continue;
          ll__rst_set(p, (size_t)c, (uint8_t)((ll__rst_get(p, (size_t)c) & ~LL__S_MASK) | LL__S_INDIRECT));
          p->holder[c] = j;
          p->cur[top++] = (uint32_t)c;
        }
    }
  }
}

/* ---- the public half ------------------------------------------------------------------------- */

static void free_priv(ll__rpriv_t *p) {
  if (p == NULL) return;
  ll__reach_unmap(p->rec);
  ll__reach_unmap(p->wide);
  ll__reach_unmap(p->se);
  ll__reach_unmap(p->holder);
  ll__reach_unmap(p->cur);
  ll__reach_unmap(p->next);
  ll__reach_unmap(p->tmp);
  ll__reach_unmap(p->cand);
  ll__reach_unmap(p->cand_tmp);
  ll__reach_unmap(p->cnt);
  ll__reach_unmap(p->cl);
  ll__reach_unmap(p->idx);
  ll__reach_unmap(p->rw);
  ll__reach_unmap(p->rr);
  ll__reach_unmap(p->nroot_tb);
  pm_free(&p->edges);
  pm_free(&p->roots);
  if (p->pm_fd >= 0) close(p->pm_fd);
  ll__reach_unmap(p);
}

void ll__reach_free(ll__reach_t *r) {
  if (r == NULL) return;
  free_priv(r->ll__priv);
  ll__reach_unmap(r->tbs);
  ll__reach_unmap(r->end_index);
  ll__reach_unmap(r->edges);
  ll__reach_unmap(r->roots);
  ll__reach_unmap(r);
}

int ll__reach_begin(ll__reach_t **out) {
  const ll__livetab_t *t = ll__tracker_live();
  ll__reach_t *r = ll__reach_map(sizeof *r);
  ll__rpriv_t *p = ll__reach_map(sizeof *p);
  if (r == NULL || p == NULL) {
    ll__reach_unmap(r);
    ll__reach_unmap(p);
    return LL_ENOMEM;
  }
  r->ll__priv = p;
  p->pm_fd = -1;
  size_t n = ll__live_count(t), nw = 0, np = 0;
  for (size_t i = 0; i < t->wcap; i++) nw += t->wide[i].ptr != 0;
  /* Two arrays of n records: the sort's two sides; then the records and the spans. */
  ll__rrec_t *ra = map_filled((n + 1) * sizeof *ra), *rb = map_filled((n + 1) * sizeof *rb);
  uint32_t *cnt = ll__reach_map(KPASSES * (1u << KRADIX) * sizeof *cnt);
  p->wide = ll__reach_map((nw + 1) * sizeof *p->wide);
  p->rw = ll__reach_map((2 * n + 2) * sizeof *p->rw);
  p->rec = ra;
  p->se = (ll__rspan_t *)rb;
  if (ra == NULL || rb == NULL || cnt == NULL || p->wide == NULL || p->rw == NULL || n >= LL__RROOT_BIT) {
    ll__reach_unmap(cnt);
    goto nomem; /* indices below 2^31 */
  }
  for (size_t i = 0; i < t->cap && np < n; i++) {
    const ll__live_t *s = &t->slots[i & ~(size_t)(LL__LT_BUCKET - 1)];
    unsigned k = (unsigned)(i % LL__LT_BUCKET);
    uint64_t a = ll__lt_a(s, k);
    if ((a & LL__LT_KEY_MASK) != 0) ra[np++] = (ll__rrec_t){a & ~LL__LT_OVF_MASK, ll__lt_b(s, k)};
  }
  size_t k = 0;
  for (size_t i = 0; i < t->wcap && np + k < n && k < nw; i++)
    if (t->wide[i].ptr != 0)
      p->wide[k++] = (ll__rblk_t){t->wide[i].ptr, t->wide[i].size, t->wide[i].usable, t->wide[i].tb, 0};
  p->nwide = nw = k;
  p->n = n = np + nw;
  ll__rrec_t *sorted = sort_recs(ra, rb, np, cnt), *spare = sorted == ra ? rb : ra;
  ll__reach_unmap(cnt);
  sort_wide(p->wide, nw);
  if (nw > 0) {
    merge_wide(p, sorted, np, spare);
    ll__rrec_t *t2 = sorted;
    sorted = spare;
    spare = t2;
  }
  p->rec = sorted;
  p->se = (ll__rspan_t *)spare; /* the same size as a record */
  p->holder = map_filled((n + 1) * sizeof *p->holder);
  if (p->holder == NULL) goto nomem;
  for (size_t i = 0; i < n; i++) {
    uint64_t size, usable, s = rec_start(p, &p->rec[i]);
    uint32_t tb;
    rec_of(p, i, &size, &usable, &tb);
    p->se[i] = (ll__rspan_t){s, s + (size > 0 ? size : 1)};
  }
  memset(p->holder, 0xff, (n + 1) * sizeof *p->holder);
  if (build_index(p) != 0 || ll__reach_mark_init(p) != 0) goto nomem;
  *out = r;
  return 0;
nomem:
  ll__reach_free(r);
  return LL_ENOMEM;
}

static int aggregate(ll__reach_t *r, ll__rpriv_t *p) {
  const ll__intern_t *in = ll__tracker_intern();
  r->ntb = in->ntb;
  r->tbs = ll__reach_map((r->ntb + 1) * sizeof *r->tbs);
  r->end_index = ll__reach_map((r->ntb + 1) * sizeof *r->end_index);
  p->nroot_tb = ll__reach_map(r->ntb + 1);
  if (r->tbs == NULL || r->end_index == NULL || p->nroot_tb == NULL) return -1;
  /* The end snapshot lists the tracebacks with live blocks in id order (tracker.c's build). */
  uint32_t e = 0;
  for (size_t i = 0; i < r->ntb; i++) r->end_index[i] = in->tbs[i].cur_count > 0 ? e++ : LL__RNONE;
  r->nend = e;
  if (pm_init(&p->edges, 1024) != 0 || pm_init(&p->roots, 1024) != 0) return -1;
  p->edge_cap = p->root_cap = 1024;
  r->edges = ll__reach_map(p->edge_cap * sizeof *r->edges);
  r->roots = ll__reach_map(p->root_cap * sizeof *r->roots);
  if (r->edges == NULL || r->roots == NULL) return -1;

  static const int kind_of[4] = {LL__REACH_DEFINITE, LL__REACH_POSSIBLE, LL__REACH_REACHABLE,
                                 LL__REACH_INDIRECT};
  for (size_t j = 0; j < p->n; j++) {
    uint64_t size, usable;
    uint32_t tb;
    /* The holder's record, ahead: holders lie all over the table, and waiting for each one's
     * line cost 0.12 s of CPU on method_cache:leaky's 2.5 M blocks (0.05 s with this). */
    if (j + 16 < p->n && p->holder[j + 16] < LL__RROOT_BIT) __builtin_prefetch(&p->rec[p->holder[j + 16]]);
    rec_of(p, j, &size, &usable, &tb);
    if (tb >= r->ntb) continue;
    int k = kind_of[ll__rst_get(p, j) & LL__S_MASK];
    ll__reach_tb_t *t = &r->tbs[tb];
    t->bytes[k] += size;
    t->usable[k] += usable;
    t->blocks[k]++;
    r->total_bytes[k] += size;
    r->total_blocks[k]++;
    uint32_t hold = p->holder[j];
    if (hold == LL__RNONE) continue;
    if (hold & LL__RROOT_BIT) {
      const ll__rootword_t *w = &p->rw[hold & ~LL__RROOT_BIT];
      /* Past the per-traceback limit, blocks add to the traceback's last root entry. */
      uint32_t v = pm_get(&p->roots, tb, w->addr, LL__RNONE);
      if (v == LL__RNONE) {
        int full = p->nroot_tb[tb] >= LL__REACH_ROOTS_PER_TB;
        uint64_t key = full ? UINT64_MAX : w->addr;
        if (full) v = pm_get(&p->roots, tb, key, LL__RNONE);
        if (v == LL__RNONE) {
          if (r->nroot == p->root_cap) {
            ll__reach_root_t *g = ll__reach_map(2 * p->root_cap * sizeof *g);
            if (g == NULL) return -1;
            memcpy(g, r->roots, p->root_cap * sizeof *g);
            ll__reach_unmap(r->roots);
            r->roots = g;
            p->root_cap *= 2;
          }
          v = pm_get(&p->roots, tb, key, (uint32_t)r->nroot);
          if (v == LL__RNONE - 1) return -1;
          if (!full) p->nroot_tb[tb]++;
          r->roots[r->nroot++] = (ll__reach_root_t){tb, w->kind, w->thread, 0, w->addr, 0, 0};
        }
      }
      r->roots[v].blocks++;
      r->roots[v].bytes += size;
    } else {
      uint64_t hsize, husable;
      uint32_t h;
      rec_of(p, hold, &hsize, &husable, &h);
      uint32_t v = pm_get(&p->edges, h, tb, (uint32_t)r->nedge);
      if (v == LL__RNONE - 1) return -1;
      if (v == r->nedge) {
        if (r->nedge == p->edge_cap) {
          ll__reach_edge_t *g = ll__reach_map(2 * p->edge_cap * sizeof *g);
          if (g == NULL) return -1;
          memcpy(g, r->edges, p->edge_cap * sizeof *g);
          ll__reach_unmap(r->edges);
          r->edges = g;
          p->edge_cap *= 2;
        }
        r->edges[r->nedge++] = (ll__reach_edge_t){h, tb, 0, 0};
      }
      r->edges[v].blocks++;
      r->edges[v].bytes += size;
    }
  }
  return 0;
}

int ll__reach_finish(ll__reach_t *r) {
  ll__rpriv_t *p = r->ll__priv;
  uint64_t scanned = 0;
  /* Roots by priority, each kind marked and followed to the end before the next is read: a
   * block any global reaches is held through globals (memory a run's timing does not change),
   * whatever a stack or a register happens to hold; within a kind, in the order named. The
   * kinds themselves do not depend on this order (the marking's fixpoint is the same). */
  static const uint32_t order[] = {LL__ROOT_GLOBAL, LL__ROOT_TLS, LL__ROOT_STACK, LL__ROOT_REGISTER};
  for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
    for (size_t i = 0; i < p->nrr; i++)
      if (p->rr[i].kind == order[o]) scan_root(r, p, &p->rr[i]);
    ll__reach_propagate(p, &scanned);
  }
  cliques(p, &scanned);
  r->heap_scanned = scanned;
  int rc = p->nomem == 0 && aggregate(r, p) == 0 ? 0 : LL_ENOMEM;
  free_priv(p);
  r->ll__priv = NULL;
  return rc;
}
