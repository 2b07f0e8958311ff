/* reach.c - the exit scan: index the live blocks by address, mark from the roots, classify as memcheck does, aggregate per traceback. */
#include "reach.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "intern.h"
#include "livetable.h"

/* A live block, sorted by start. */
typedef struct blk {
  uint64_t start, size, usable;
  uint32_t tb, pad_;
} blk_t;
#define NONE UINT32_MAX
#define ROOT_BIT 0x80000000u

/* Block states (low 2 bits) and what it was scanned as (so a block is read at most twice). */
enum { S_UNREACHED = 0, S_POSSIBLE = 1, S_REACHABLE = 2, S_INDIRECT = 3, S_MASK = 3,
       S_DONE_POSSIBLE = 4, S_DONE_REACHABLE = 8 };

/* A run of blocks with no gap over GAP between them, indexed per GRAN bytes: idx[off + k] is
 * the first block starting at or after base + k * GRAN (k = 0..npages). 512 bytes keep a
 * lookup to one or two cache lines of spans in a dense heap. */
#define PAGE 4096u
#define GRAN 512u
#define GAP (64u * 1024u)
typedef struct cluster {
  uint64_t base, npages;
  size_t off;
} cluster_t;

typedef struct span {
  uint64_t s, e;
} span_t;

typedef struct rootword {
  uint64_t addr;
  uint32_t kind, thread;
} rootword_t;

/* A root range as the caller named it; read in ll__reach_finish, in priority order. */
typedef struct rootrange {
  uint64_t lo, hi;
  uint32_t kind, thread;
} rootrange_t;

/* Pair -> index, open addressing, grown at half load (edges; roots per traceback). */
typedef struct pairmap {
  uint64_t *keys; /* 2 words per slot; slot empty when vals[i] == NONE */
  uint32_t *vals;
  size_t cap, count;
} pairmap_t;

typedef struct priv {
  blk_t *b;
  span_t *se;       /* the sorted blocks' [start, start + max(size, 1)), side by side: a lookup
                       reads only these; a block's state (S_*) rides in the top byte of its
                       end (addresses are below 2^56), so marking costs no other load */
  uint32_t *holder; /* per block: a block index, ROOT_BIT | a root word index, or NONE */
  size_t n;
  uint32_t *q; /* BFS queue (each block enters at most twice), then the clique stack */
  size_t qhead, qtail;
  cluster_t *cl;
  size_t ncl;
  uint32_t *idx;
  size_t nidx;
  uint64_t lo, hi; /* lowest start, highest end */
  rootword_t *rw;
  size_t nrw;
  rootrange_t *rr;
  size_t nrr, rr_cap;
  int nomem;
  pairmap_t edges, roots;
  size_t edge_cap, root_cap;
  uint8_t *nroot_tb; /* distinct root words kept per traceback */
} priv_t;

#define END_MASK ((1ull << 56) - 1)
static inline uint8_t st_get(const priv_t *p, size_t j) { return (uint8_t)(p->se[j].e >> 56); }
static inline void st_set(priv_t *p, size_t j, uint8_t s) {
  p->se[j].e = (p->se[j].e & END_MASK) | (uint64_t)s << 56;
}

/* ---- memory -------------------------------------------------------------------------------- */

/* Size of a mapping made by map(): kept in front of it so free needs only the pointer. */
static void *map(size_t len) {
  size_t *p = ll__mmap_alloc(len + 16);
  if (p == NULL) return NULL;
  p[0] = len + 16;
  return p + 2;
}

static void unmap(void *q) {
  if (q == NULL) return;
  size_t *p = (size_t *)q - 2;
  ll__mmap_free(p, p[0]);
}

/* ---- pair maps ----------------------------------------------------------------------------- */

static uint64_t pair_hash(uint64_t a, uint64_t b) {
  uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a << 6));
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

static int pm_init(pairmap_t *m, size_t cap) {
  m->keys = map(cap * 2 * sizeof *m->keys);
  m->vals = map(cap * sizeof *m->vals);
  if (m->keys == NULL || m->vals == NULL) return -1;
  memset(m->vals, 0xff, cap * sizeof *m->vals);
  m->cap = cap;
  m->count = 0;
  return 0;
}

static void pm_free(pairmap_t *m) {
  unmap(m->keys);
  unmap(m->vals);
  m->keys = NULL;
  m->vals = NULL;
}

static size_t pm_slot(const pairmap_t *m, uint64_t a, uint64_t b) {
  size_t i = pair_hash(a, b) & (m->cap - 1);
  while (m->vals[i] != NONE && (m->keys[2 * i] != a || m->keys[2 * i + 1] != b)) i = (i + 1) & (m->cap - 1);
  return i;
}

/* Value of (a, b), or NONE; with `add` (a fresh value when absent), the value stored. -2 as
 * uint32: no memory. */
static uint32_t pm_get(pairmap_t *m, uint64_t a, uint64_t b, uint32_t add) {
  size_t i = pm_slot(m, a, b);
  if (m->vals[i] != NONE || add == NONE) return m->vals[i];
  if ((m->count + 1) * 2 > m->cap) {
    pairmap_t g;
    if (pm_init(&g, m->cap * 2) != 0) {
      pm_free(&g);
      return NONE - 1;
    }
    for (size_t k = 0; k < m->cap; k++) {
      if (m->vals[k] == NONE) continue;
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

/* LSD radix sort by start (8-aligned, below 2^51: three 16-bit digits of start >> 3). */
static int sort_blocks(blk_t *b, size_t n) {
  blk_t *tmp = map(n * sizeof *tmp);
  size_t *count = map(65536 * sizeof *count);
  if (tmp == NULL || count == NULL) {
    unmap(tmp);
    unmap(count);
    return -1;
  }
  blk_t *src = b, *dst = tmp;
  for (int pass = 0; pass < 4; pass++) {
    int shift = 3 + 16 * pass;
    memset(count, 0, 65536 * sizeof *count);
    for (size_t i = 0; i < n; i++) count[(src[i].start >> shift) & 0xffff]++;
    size_t sum = 0;
    for (size_t d = 0; d < 65536; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) dst[count[(src[i].start >> shift) & 0xffff]++] = src[i];
    blk_t *t = src;
    src = dst;
    dst = t;
  }
  /* Four passes: the sorted copy is back in b. */
  unmap(tmp);
  unmap(count);
  return 0;
}

static uint64_t blk_end(const blk_t *b) { return b->start + (b->size > 0 ? b->size : 1); }

/* Close the cluster of blocks [first, end) spanning [base, cend): its page index at idx + *off. */
static void close_cluster(priv_t *p, size_t first, size_t end, uint64_t cend, size_t *off) {
  cluster_t *k = &p->cl[p->ncl++];
  k->base = p->b[first].start & ~(uint64_t)(GRAN - 1);
  k->npages = (cend - k->base + GRAN - 1) / GRAN;
  k->off = *off;
  size_t j = first;
  for (uint64_t pg = 0; pg <= k->npages; pg++) {
    uint64_t pos = k->base + pg * GRAN;
    while (j < end && p->b[j].start < pos) j++;
    p->idx[(*off)++] = (uint32_t)j;
  }
  if (k->base + k->npages * GRAN > p->hi) p->hi = k->base + k->npages * GRAN;
}

/* Clusters: a new one where the gap to everything before exceeds GAP. Two passes: sizes, then
 * the index itself. */
static int build_index(priv_t *p) {
  size_t ncl = 0, nidx = 0;
  uint64_t base = 0, cend = 0;
  for (size_t i = 0; i < p->n; i++) {
    uint64_t e = blk_end(&p->b[i]);
    if (i == 0 || p->b[i].start > cend + GAP) {
      if (i > 0) nidx += (cend - base + GRAN - 1) / GRAN + 1;
      ncl++;
      base = p->b[i].start & ~(uint64_t)(GRAN - 1);
      cend = e;
    } else if (e > cend) {
      cend = e;
    }
  }
  if (p->n > 0) nidx += (cend - base + GRAN - 1) / GRAN + 1;
  p->cl = map((ncl + 1) * sizeof *p->cl);
  p->idx = map((nidx + 1) * sizeof *p->idx);
  if (p->cl == NULL || p->idx == NULL) return -1;
  size_t off = 0, first = 0;
  for (size_t i = 0; i < p->n; i++) {
    uint64_t e = blk_end(&p->b[i]);
    if (i == 0 || p->b[i].start > cend + GAP) {
      if (i > 0) close_cluster(p, first, i, cend, &off);
      first = i;
      cend = e;
    } else if (e > cend) {
      cend = e;
    }
  }
  if (p->n > 0) close_cluster(p, first, p->n, cend, &off);
  p->nidx = off;
  p->lo = p->n > 0 ? p->b[0].start : 0;
  return 0;
}

/* Index of the block whose [start, start + max(size, 1)) holds w, or -1. */
static inline long find(const priv_t *p, uint64_t w) {
  if (w < p->lo || w >= p->hi) return -1;
  size_t a = 0, z = p->ncl;
  while (z - a > 1) {
    size_t m = (a + z) / 2;
    if (p->cl[m].base <= w) a = m;
    else z = m;
  }
  const cluster_t *c = &p->cl[a];
  if (w < c->base) return -1;
  uint64_t pg = (w - c->base) / GRAN;
  if (pg >= c->npages) return -1;
  uint32_t lo = p->idx[c->off + pg], hi = p->idx[c->off + pg + 1];
  const span_t *st = p->se;
  while (lo < hi) {
    uint32_t m = lo + (hi - lo) / 2;
    if (st[m].s <= w) lo = m + 1;
    else hi = m;
  }
  if (lo == 0) return -1;
  return w < (p->se[lo - 1].e & END_MASK) ? (long)(lo - 1) : -1;
}

/* ---- marking --------------------------------------------------------------------------------- */

/* One word w seen in something of the given definiteness (a root, or a still-reachable block):
 * upgrade the block it points into as memcheck does. 1 when the block changed. */
static inline int mark(priv_t *p, uint64_t w, uint32_t holder, int definite) {
  long j = find(p, w);
  if (j < 0) return 0;
  uint8_t s0 = st_get(p, (size_t)j), s = s0 & S_MASK;
  int start = w == p->se[j].s;
  if (definite && start) {
    if (s == S_REACHABLE) return 0;
  } else if (s != S_UNREACHED) {
    return 0;
  }
  st_set(p, (size_t)j, (uint8_t)((s0 & ~S_MASK) | (definite && start ? S_REACHABLE : S_POSSIBLE)));
  p->holder[j] = holder;
  p->q[p->qtail++] = (uint32_t)j;
  return 1;
}

/* Aligned words fully inside [lo, hi). */
static inline void words(uint64_t lo, uint64_t hi, const uint64_t **a, const uint64_t **z) {
  lo = (lo + 7) & ~(uint64_t)7;
  hi &= ~(uint64_t)7;
  if (hi < lo) hi = lo;
  *a = (const uint64_t *)(uintptr_t)lo;
  *z = (const uint64_t *)(uintptr_t)hi;
}

/* A big block the program may have unmapped meanwhile (another thread still running frees
 * without recording once the tracker is frozen): only read while still mapped. */
static int readable(uint64_t start, uint64_t end) {
  if (end - start < 65536) return 1;
  uintptr_t pg = (uintptr_t)start & ~(uintptr_t)(PAGE - 1);
  return msync((void *)pg, (size_t)(end - pg), MS_ASYNC) == 0;
}

/* glibc's malloc keeps pointers to chunk headers in its state (in libc's data: the top chunk,
 * the bins), and a header sits 8 bytes before the end of the usable part of the block below
 * it, which a block asking for all of its usable size covers. Such a word from a global is
 * the allocator's, not the program's. */
static int chunk_header(const priv_t *p, uint64_t w) {
  long j = find(p, w);
  return j >= 0 && w != p->se[j].s && p->b[j].usable >= 8 && w == p->se[j].s + p->b[j].usable - 8;
}

void ll__reach_root(ll__reach_t *r, uintptr_t lo, uintptr_t hi, uint32_t kind, uint32_t thread) {
  priv_t *p = r->ll__priv;
  if (p == NULL || hi <= lo || kind > LL__ROOT_REGISTER) return;
  if (p->nrr == p->rr_cap) {
    size_t cap = p->rr_cap > 0 ? 2 * p->rr_cap : 64;
    rootrange_t *g = map(cap * sizeof *g);
    if (g == NULL) {
      p->nomem = 1;
      return;
    }
    if (p->nrr > 0) memcpy(g, p->rr, p->nrr * sizeof *g);
    unmap(p->rr);
    p->rr = g;
    p->rr_cap = cap;
  }
  p->rr[p->nrr++] = (rootrange_t){lo, hi, kind, thread};
}

/* Mark from one root range's words. */
static void scan_root(ll__reach_t *r, priv_t *p, const rootrange_t *o) {
  const uint64_t *a, *z;
  if (!readable(o->lo, o->hi)) return; /* another thread's stack, gone since it was named */
  words(o->lo, o->hi, &a, &z);
  r->root_scanned += (uint64_t)(z - a) * 8;
  for (; a < z; a++) {
    uint64_t w = *(const volatile uint64_t *)a;
    if (w < p->lo || w >= p->hi) continue;
    if (o->kind == LL__ROOT_GLOBAL && chunk_header(p, w)) continue;
    p->rw[p->nrw] = (rootword_t){(uint64_t)(uintptr_t)a, o->kind, o->thread};
    if (mark(p, w, ROOT_BIT | (uint32_t)p->nrw, 1)) p->nrw++;
  }
}

static void scan_block(priv_t *p, uint32_t j, uint64_t *scanned) {
  uint8_t s = st_get(p, j);
  int definite = (s & S_MASK) == S_REACHABLE;
  if ((s & S_DONE_REACHABLE) || (!definite && (s & S_DONE_POSSIBLE))) return;
  st_set(p, j, (uint8_t)(s | (definite ? S_DONE_REACHABLE : S_DONE_POSSIBLE)));
  uint64_t start = p->se[j].s, end = p->se[j].e & END_MASK;
  if (!readable(start, end)) return;
  const uint64_t *a, *z;
  words(start, end, &a, &z);
  *scanned += (uint64_t)(z - a) * 8;
  for (; a < z; a++) {
    uint64_t w = *a;
    if (w < p->lo || w >= p->hi) continue;
    mark(p, w, j, definite);
  }
}

/* memcheck's cliques: each block still unreached, in address order, reaches the unreached
 * blocks it points to (depth first); they become indirectly lost. */
static void cliques(priv_t *p, uint64_t *scanned) {
  for (size_t leader = 0; leader < p->n; leader++) {
    if ((st_get(p, leader) & S_MASK) != S_UNREACHED) continue;
    size_t top = 0;
    p->q[top++] = (uint32_t)leader;
    while (top > 0) {
      uint32_t j = p->q[--top];
      uint64_t start = p->se[j].s, end = p->se[j].e & END_MASK;
      if (!readable(start, end)) continue;
      const uint64_t *a, *z;
      words(start, end, &a, &z);
      *scanned += (uint64_t)(z - a) * 8;
      for (; a < z; a++) {
        uint64_t w = *a;
        if (w < p->lo || w >= p->hi) continue;
        long c = find(p, w);
        if (c < 0 || (size_t)c == leader || (st_get(p, (size_t)c) & S_MASK) != S_UNREACHED) continue;
        st_set(p, (size_t)c, (uint8_t)((st_get(p, (size_t)c) & ~S_MASK) | S_INDIRECT));
        p->holder[c] = j;
        p->q[top++] = (uint32_t)c;
      }
    }
  }
}

/* ---- the public half ------------------------------------------------------------------------- */

static void free_priv(priv_t *p) {
  if (p == NULL) return;
  unmap(p->b);
  unmap(p->se);
  unmap(p->holder);
  unmap(p->q);
  unmap(p->cl);
  unmap(p->idx);
  unmap(p->rw);
  unmap(p->rr);
  unmap(p->nroot_tb);
  pm_free(&p->edges);
  pm_free(&p->roots);
  unmap(p);
}

void ll__reach_free(ll__reach_t *r) {
  if (r == NULL) return;
  free_priv(r->ll__priv);
  unmap(r->tbs);
  unmap(r->end_index);
  unmap(r->edges);
  unmap(r->roots);
  unmap(r);
}

int ll__reach_begin(ll__reach_t **out) {
  const ll__livetab_t *t = ll__tracker_live();
  ll__reach_t *r = map(sizeof *r);
  priv_t *p = map(sizeof *p);
  if (r == NULL || p == NULL) {
    unmap(r);
    unmap(p);
    return LL_ENOMEM;
  }
  r->ll__priv = p;
  size_t n = ll__live_count(t);
  p->b = map((n + 1) * sizeof *p->b);
  p->q = map((2 * n + 2) * sizeof *p->q);
  p->rw = map((2 * n + 2) * sizeof *p->rw);
  if (p->b == NULL || p->q == NULL || p->rw == NULL) goto nomem;
  size_t k = 0;
  for (size_t i = 0; i < t->cap && k < n; i++) {
    uint64_t a = t->slots[i].a, bw = t->slots[i].b, key = a & LL__LT_KEY_MASK;
    if (key == 0) continue;
    uint64_t size = bw & LL__LT_SIZE_MASK;
    p->b[k++] = (blk_t){key << 3, size, size + (a >> LL__LT_SLACK_SHIFT),
                        (uint32_t)(bw >> LL__LT_SIZE_BITS), 0};
  }
  for (size_t i = 0; i < t->wcap && k < n; i++)
    if (t->wide[i].ptr != 0)
      p->b[k++] = (blk_t){t->wide[i].ptr, t->wide[i].size, t->wide[i].usable, t->wide[i].tb, 0};
  p->n = k;
  if (sort_blocks(p->b, k) != 0) goto nomem;
  p->se = map((k + 1) * sizeof *p->se);
  p->holder = map((k + 1) * sizeof *p->holder);
  if (p->se == NULL || p->holder == NULL) goto nomem;
  for (size_t i = 0; i < k; i++) {
    p->se[i] = (span_t){p->b[i].start, blk_end(&p->b[i])};
    p->holder[i] = NONE;
  }
  if (build_index(p) != 0) goto nomem;
  *out = r;
  return 0;
nomem:
  ll__reach_free(r);
  return LL_ENOMEM;
}

static int aggregate(ll__reach_t *r, priv_t *p) {
  const ll__intern_t *in = ll__tracker_intern();
  r->ntb = in->ntb;
  r->tbs = map((r->ntb + 1) * sizeof *r->tbs);
  r->end_index = map((r->ntb + 1) * sizeof *r->end_index);
  p->nroot_tb = map(r->ntb + 1);
  if (r->tbs == NULL || r->end_index == NULL || p->nroot_tb == NULL) return -1;
  /* The end snapshot lists the tracebacks with live blocks in id order (tracker.c's build). */
  uint32_t e = 0;
  for (size_t i = 0; i < r->ntb; i++) r->end_index[i] = in->tbs[i].cur_count > 0 ? e++ : NONE;
  r->nend = e;
  if (pm_init(&p->edges, 1024) != 0 || pm_init(&p->roots, 1024) != 0) return -1;
  p->edge_cap = p->root_cap = 1024;
  r->edges = map(p->edge_cap * sizeof *r->edges);
  r->roots = map(p->root_cap * sizeof *r->roots);
  if (r->edges == NULL || r->roots == NULL) return -1;

  static const int kind_of[4] = {LL__REACH_DEFINITE, LL__REACH_POSSIBLE, LL__REACH_REACHABLE,
                                 LL__REACH_INDIRECT};
  for (size_t j = 0; j < p->n; j++) {
    const blk_t *b = &p->b[j];
    if (b->tb >= r->ntb) continue;
    int k = kind_of[st_get(p, j) & S_MASK];
    ll__reach_tb_t *t = &r->tbs[b->tb];
    t->bytes[k] += b->size;
    t->usable[k] += b->usable;
    t->blocks[k]++;
    r->total_bytes[k] += b->size;
    r->total_blocks[k]++;
    uint32_t hold = p->holder[j];
    if (hold == NONE) continue;
    if (hold & ROOT_BIT) {
      const rootword_t *w = &p->rw[hold & ~ROOT_BIT];
      /* Past the per-traceback limit, blocks add to the traceback's last root entry. */
      uint32_t v = pm_get(&p->roots, b->tb, w->addr, NONE);
      if (v == NONE) {
        int full = p->nroot_tb[b->tb] >= LL__REACH_ROOTS_PER_TB;
        uint64_t key = full ? UINT64_MAX : w->addr;
        if (full) v = pm_get(&p->roots, b->tb, key, NONE);
        if (v == NONE) {
          if (r->nroot == p->root_cap) {
            ll__reach_root_t *g = map(2 * p->root_cap * sizeof *g);
            if (g == NULL) return -1;
            memcpy(g, r->roots, p->root_cap * sizeof *g);
            unmap(r->roots);
            r->roots = g;
            p->root_cap *= 2;
          }
          v = pm_get(&p->roots, b->tb, key, (uint32_t)r->nroot);
          if (v == NONE - 1) return -1;
          if (!full) p->nroot_tb[b->tb]++;
          r->roots[r->nroot++] = (ll__reach_root_t){b->tb, w->kind, w->thread, 0, w->addr, 0, 0};
        }
      }
      r->roots[v].blocks++;
      r->roots[v].bytes += b->size;
    } else {
      uint32_t h = p->b[hold].tb;
      uint32_t v = pm_get(&p->edges, h, b->tb, (uint32_t)r->nedge);
      if (v == NONE - 1) return -1;
      if (v == r->nedge) {
        if (r->nedge == p->edge_cap) {
          ll__reach_edge_t *g = map(2 * p->edge_cap * sizeof *g);
          if (g == NULL) return -1;
          memcpy(g, r->edges, p->edge_cap * sizeof *g);
          unmap(r->edges);
          r->edges = g;
          p->edge_cap *= 2;
        }
        r->edges[r->nedge++] = (ll__reach_edge_t){h, b->tb, 0, 0};
      }
      r->edges[v].blocks++;
      r->edges[v].bytes += b->size;
    }
  }
  return 0;
}

/* Breadth-first from what is queued until nothing is left. */
static void propagate(priv_t *p, uint64_t *scanned) {
  /* Blocks come off the queue in no address order: fetch a few ahead (their entries, then
   * their first bytes) while the current one is read. */
  while (p->qhead < p->qtail) {
    if (p->qhead + 16 < p->qtail) {
      uint32_t f = p->q[p->qhead + 16];
      __builtin_prefetch(&p->se[f]);
    }
    if (p->qhead + 8 < p->qtail) __builtin_prefetch((const void *)(uintptr_t)p->se[p->q[p->qhead + 8]].s);
    scan_block(p, p->q[p->qhead++], scanned);
  }
}

int ll__reach_finish(ll__reach_t *r) {
  priv_t *p = r->ll__priv;
  uint64_t scanned = 0;
  /* Roots by priority, each kind marked and followed to the end before the next is read: a
   * block any global reaches is held through globals (memory a run's timing does not change),
   * whatever a stack or a register happens to hold; within a kind, in the order named. The
   * kinds themselves do not depend on this order (the marking's fixpoint is the same). */
  static const uint32_t order[] = {LL__ROOT_GLOBAL, LL__ROOT_TLS, LL__ROOT_STACK, LL__ROOT_REGISTER};
  for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
    for (size_t i = 0; i < p->nrr; i++)
      if (p->rr[i].kind == order[o]) scan_root(r, p, &p->rr[i]);
    propagate(p, &scanned);
  }
  cliques(p, &scanned);
  r->heap_scanned = scanned;
  int rc = p->nomem == 0 && aggregate(r, p) == 0 ? 0 : LL_ENOMEM;
  free_priv(p);
  r->ll__priv = NULL;
  return rc;
}
