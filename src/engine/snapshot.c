/* snapshot.c - snapshot filters, statistics and compare (tracemalloc's semantics), key tables. */
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "snapfile.h"

/* ==== small mmap-backed containers (the engine never calls malloc) ========================== */

/* A growable byte vector. Fresh mmap pages are zero and nothing is ever popped, so bytes pushed
 * are zero until written. */
typedef struct vec {
  void *p;
  size_t len; /* bytes used */
  size_t cap; /* bytes mapped */
} vec_t;

static void *vec_push(vec_t *v, size_t n) {
  if (v->cap - v->len < n) {
    size_t ncap = v->cap ? v->cap : 64 * 1024;
    while (ncap - v->len < n) {
      if (ncap > SIZE_MAX / 2) return NULL;
      ncap *= 2;
    }
    void *np = ll__mmap_alloc(ncap);
    if (np == NULL) return NULL;
    if (v->len) memcpy(np, v->p, v->len);
    ll__mmap_free(v->p, v->cap);
    v->p = np;
    v->cap = ncap;
  }
  void *r = (char *)v->p + v->len;
  v->len += n;
  return r;
}

static void vec_free(vec_t *v) {
  ll__mmap_free(v->p, v->cap);
  v->p = NULL;
  v->len = v->cap = 0;
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint32_t hash_bytes(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001B3ULL;
    h = (h << 29) | (h >> 35);
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n > 0) memcpy(&w, p, n);
  h = mix64(h ^ w);
  return (uint32_t)(h ^ (h >> 32));
}

/* Open-addressing table of ids keyed by content: slots keep the hash so growing never touches
 * the entries; id1 = id + 1, 0 marks an empty slot. */
typedef struct slot {
  uint32_t hash;
  uint32_t id1;
} slot_t;

typedef struct htab {
  slot_t *s;
  size_t cap; /* power of two */
  size_t used;
} htab_t;

/* Make room for one more entry (load factor <= 3/4). */
static int htab_reserve(htab_t *h) {
  if (h->cap != 0 && (h->used + 1) * 4 <= h->cap * 3) return 0;
  size_t ncap = h->cap ? h->cap * 2 : 1024;
  if (ncap > SIZE_MAX / sizeof(slot_t)) return -1;
  slot_t *ns = ll__mmap_alloc(ncap * sizeof *ns);
  if (ns == NULL) return -1;
  for (size_t i = 0; i < h->cap; i++) {
    if (h->s[i].id1 == 0) continue;
    size_t j = h->s[i].hash & (ncap - 1);
    while (ns[j].id1 != 0) j = (j + 1) & (ncap - 1);
    ns[j] = h->s[i];
  }
  ll__mmap_free(h->s, h->cap * sizeof(slot_t));
  h->s = ns;
  h->cap = ncap;
  return 0;
}

static void htab_free(htab_t *h) {
  ll__mmap_free(h->s, h->cap * sizeof(slot_t));
  h->s = NULL;
  h->cap = h->used = 0;
}

/* Pointer-keyed table of 64-bit values (caches: string pointer -> id, -> copy, -> match mask). */
typedef struct pslot {
  uintptr_t key; /* 0: empty */
  uint64_t val;
} pslot_t;

typedef struct ptab {
  pslot_t *s;
  size_t cap;
  size_t used;
} ptab_t;

static size_t ptr_hash(uintptr_t p) { return (size_t)mix64((uint64_t)p); }

static int ptab_get(const ptab_t *t, const void *key, uint64_t *val) {
  if (t->cap == 0) return 0;
  uintptr_t k = (uintptr_t)key;
  for (size_t i = ptr_hash(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    if (t->s[i].key == k) {
      *val = t->s[i].val;
      return 1;
    }
    if (t->s[i].key == 0) return 0;
  }
}

/* Insert a key known to be absent. */
static int ptab_put(ptab_t *t, const void *key, uint64_t val) {
  if (t->cap == 0 || (t->used + 1) * 4 > t->cap * 3) {
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    if (ncap > SIZE_MAX / sizeof(pslot_t)) return -1;
    pslot_t *ns = ll__mmap_alloc(ncap * sizeof *ns);
    if (ns == NULL) return -1;
    for (size_t i = 0; i < t->cap; i++) {
      if (t->s[i].key == 0) continue;
      size_t j = ptr_hash(t->s[i].key) & (ncap - 1);
      while (ns[j].key != 0) j = (j + 1) & (ncap - 1);
      ns[j] = t->s[i];
    }
    ll__mmap_free(t->s, t->cap * sizeof(pslot_t));
    t->s = ns;
    t->cap = ncap;
  }
  uintptr_t k = (uintptr_t)key;
  size_t i = ptr_hash(k) & (t->cap - 1);
  while (t->s[i].key != 0) i = (i + 1) & (t->cap - 1);
  t->s[i].key = k;
  t->s[i].val = val;
  t->used++;
  return 0;
}

static void ptab_free(ptab_t *t) {
  ll__mmap_free(t->s, t->cap * sizeof(pslot_t));
  t->s = NULL;
  t->cap = t->used = 0;
}

/* ==== key tables ============================================================================ */

typedef struct kstr {
  const char *s;
  uint32_t len;
  uint32_t hash;
} kstr_t;

typedef struct kseq {
  uint64_t off; /* into seq_ids, in ids */
  uint32_t n;
  uint32_t tag;
} kseq_t;

/* Frames are the hottest lookups (one per frame of every traceback): their slots hold the key
 * itself, so a probe touches one cache line instead of a slot and then an entry. */
typedef struct fslot {
  ll__kframe_t k;
  uint32_t hash;
  uint32_t id1;
} fslot_t;

typedef struct ftab {
  fslot_t *s;
  size_t cap;
  size_t used;
} ftab_t;

struct ll__ktab {
  vec_t strs; /* kstr_t */
  htab_t strs_h;
  ptab_t strs_p; /* pointer cache: snapshots intern their strings, so most lookups stop here */
  vec_t frames;  /* ll__kframe_t */
  ftab_t frames_h;
  vec_t seqs;    /* kseq_t */
  vec_t seq_ids; /* uint32_t */
  htab_t seqs_h;
};

ll__ktab_t *ll__ktab_new(void) { return ll__mmap_alloc(sizeof(ll__ktab_t)); }

void ll__ktab_free(ll__ktab_t *t) {
  if (t == NULL) return;
  vec_free(&t->strs);
  htab_free(&t->strs_h);
  ptab_free(&t->strs_p);
  vec_free(&t->frames);
  ll__mmap_free(t->frames_h.s, t->frames_h.cap * sizeof(fslot_t));
  vec_free(&t->seqs);
  vec_free(&t->seq_ids);
  htab_free(&t->seqs_h);
  ll__mmap_free(t, sizeof *t);
}

uint32_t ll__ktab_str(ll__ktab_t *t, const char *s) {
  uint64_t cached;
  if (ptab_get(&t->strs_p, s, &cached)) return (uint32_t)cached;
  size_t len = strlen(s);
  if (len > UINT32_MAX) return LL__KTAB_NONE;
  uint32_t h = hash_bytes(s, len);
  if (htab_reserve(&t->strs_h) != 0) return LL__KTAB_NONE;
  const kstr_t *all = t->strs.p;
  size_t mask = t->strs_h.cap - 1, i = h & mask;
  uint32_t id;
  for (;; i = (i + 1) & mask) {
    slot_t *sl = &t->strs_h.s[i];
    if (sl->id1 == 0) {
      id = (uint32_t)(t->strs.len / sizeof(kstr_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      kstr_t *e = vec_push(&t->strs, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      e->s = s;
      e->len = (uint32_t)len;
      e->hash = h;
      sl->hash = h;
      sl->id1 = id + 1;
      t->strs_h.used++;
      break;
    }
    if (sl->hash == h) {
      const kstr_t *e = &all[sl->id1 - 1];
      if (e->len == len && memcmp(e->s, s, len) == 0) {
        id = sl->id1 - 1;
        break;
      }
    }
  }
  if (ptab_put(&t->strs_p, s, id) != 0) return LL__KTAB_NONE;
  return id;
}

static int ftab_reserve(ftab_t *h) {
  if (h->cap != 0 && (h->used + 1) * 4 <= h->cap * 3) return 0;
  size_t ncap = h->cap ? h->cap * 2 : 1024;
  if (ncap > SIZE_MAX / sizeof(fslot_t)) return -1;
  fslot_t *ns = ll__mmap_alloc(ncap * sizeof *ns);
  if (ns == NULL) return -1;
  for (size_t i = 0; i < h->cap; i++) {
    if (h->s[i].id1 == 0) continue;
    size_t j = h->s[i].hash & (ncap - 1);
    while (ns[j].id1 != 0) j = (j + 1) & (ncap - 1);
    ns[j] = h->s[i];
  }
  ll__mmap_free(h->s, h->cap * sizeof(fslot_t));
  h->s = ns;
  h->cap = ncap;
  return 0;
}

uint32_t ll__ktab_frame(ll__ktab_t *t, const ll__kframe_t *f) {
  uint32_t h = hash_bytes(f, sizeof *f);
  if (ftab_reserve(&t->frames_h) != 0) return LL__KTAB_NONE;
  size_t mask = t->frames_h.cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    fslot_t *sl = &t->frames_h.s[i];
    if (sl->id1 == 0) {
      uint32_t id = (uint32_t)(t->frames.len / sizeof(ll__kframe_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      ll__kframe_t *e = vec_push(&t->frames, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      *e = *f;
      sl->k = *f;
      sl->hash = h;
      sl->id1 = id + 1;
      t->frames_h.used++;
      return id;
    }
    if (sl->hash == h && memcmp(&sl->k, f, sizeof *f) == 0) return sl->id1 - 1;
  }
}

uint32_t ll__ktab_seq(ll__ktab_t *t, const uint32_t *ids, uint32_t n, uint32_t tag) {
  uint32_t h = hash_bytes(ids, (size_t)n * sizeof *ids) ^ (uint32_t)mix64(((uint64_t)tag << 32) | n);
  if (htab_reserve(&t->seqs_h) != 0) return LL__KTAB_NONE;
  size_t mask = t->seqs_h.cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    slot_t *sl = &t->seqs_h.s[i];
    if (sl->id1 == 0) {
      uint32_t id = (uint32_t)(t->seqs.len / sizeof(kseq_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      uint64_t off = t->seq_ids.len / sizeof(uint32_t);
      uint32_t *dst = vec_push(&t->seq_ids, (size_t)n * sizeof *ids);
      if (dst == NULL) return LL__KTAB_NONE;
      if (n) memcpy(dst, ids, (size_t)n * sizeof *ids);
      kseq_t *e = vec_push(&t->seqs, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      e->off = off;
      e->n = n;
      e->tag = tag;
      sl->hash = h;
      sl->id1 = id + 1;
      t->seqs_h.used++;
      return id;
    }
    if (sl->hash == h) {
      const kseq_t *e = (const kseq_t *)t->seqs.p + (sl->id1 - 1);
      if (e->n == n && e->tag == tag &&
          (n == 0 || memcmp((const uint32_t *)t->seq_ids.p + e->off, ids, (size_t)n * sizeof *ids) == 0))
        return sl->id1 - 1;
    }
  }
}

size_t ll__ktab_nstr(const ll__ktab_t *t) { return t->strs.len / sizeof(kstr_t); }

const char *ll__ktab_str_at(const ll__ktab_t *t, uint32_t id, size_t *len) {
  const kstr_t *e = (const kstr_t *)t->strs.p + id;
  if (len != NULL) *len = e->len;
  return e->s;
}

size_t ll__ktab_nframe(const ll__ktab_t *t) { return t->frames.len / sizeof(ll__kframe_t); }

const ll__kframe_t *ll__ktab_frame_at(const ll__ktab_t *t, uint32_t id) {
  return (const ll__kframe_t *)t->frames.p + id;
}

size_t ll__ktab_nseq(const ll__ktab_t *t) { return t->seqs.len / sizeof(kseq_t); }

const uint32_t *ll__ktab_seq_at(const ll__ktab_t *t, uint32_t id, uint32_t *n, uint32_t *tag) {
  const kseq_t *e = (const kseq_t *)t->seqs.p + id;
  if (n != NULL) *n = e->n;
  if (tag != NULL) *tag = e->tag;
  return (const uint32_t *)t->seq_ids.p + e->off;
}

/* ==== freeing =============================================================================== */

void ll_snapshot_free(ll_snapshot_t *snap) {
  if (snap != NULL) ll__arena_free(snap->ll__arena);
}

void ll_stats_free(ll_stats_t *stats) {
  if (stats != NULL) ll__arena_free(stats->ll__arena);
}

/* A traceback with no frames is shown as one unknown frame, so every key has a frames[0]. */
static const ll_frame_t unknown_frame = {"<unknown>", "", 0, 0};

static const ll_frame_t *tb_frames(const ll_traceback_t *tb, uint32_t *n) {
  if (tb == NULL || tb->nframe == 0 || tb->frames == NULL) {
    *n = 1;
    return &unknown_frame;
  }
  *n = tb->nframe;
  return tb->frames;
}

static int snap_valid(const ll_snapshot_t *s) {
  return s != NULL && (s->ntraces == 0 || s->traces != NULL);
}

static int mul_ok(size_t a, size_t b, size_t *r) {
  if (b != 0 && a > SIZE_MAX / b) return 0;
  *r = a * b;
  return 1;
}

/* ==== filters =============================================================================== */

typedef struct fctx {
  const ll_filter_t *filters;
  size_t nfilter;
  size_t ninclusive;
  ptab_t match_cache; /* filename pointer -> bit i set when filters[i] (i < 64) globs it */
  int oom;
} fctx_t;

/* Does filters[i]'s glob match this filename? fnmatch is the costly part and a snapshot has
 * few distinct file names, so results for the first 64 filters are cached per pointer. */
static int name_match(fctx_t *c, size_t i, const char *filename) {
  if (i >= 64) return fnmatch(c->filters[i].filename_pattern, filename, 0) == 0;
  uint64_t mask;
  if (!ptab_get(&c->match_cache, filename, &mask)) {
    mask = 0;
    size_t lim = c->nfilter < 64 ? c->nfilter : 64;
    for (size_t k = 0; k < lim; k++)
      if (fnmatch(c->filters[k].filename_pattern, filename, 0) == 0) mask |= (uint64_t)1 << k;
    if (ptab_put(&c->match_cache, filename, mask) != 0) c->oom = 1;
  }
  return (int)((mask >> i) & 1u);
}

/* tracemalloc's Filter._match_frame_impl, on frames[0] only or on any frame. */
static int filter_hits(fctx_t *c, size_t i, const ll_traceback_t *tb) {
  const ll_filter_t *f = &c->filters[i];
  uint32_t n;
  const ll_frame_t *fr = tb_frames(tb, &n);
  uint32_t lim = f->all_frames ? n : 1;
  for (uint32_t j = 0; j < lim; j++) {
    if (f->lineno != 0 && fr[j].lineno != f->lineno) continue;
    if (name_match(c, i, fr[j].filename != NULL ? fr[j].filename : "<unknown>")) return 1;
  }
  return 0;
}

static int trace_kept(fctx_t *c, const ll_trace_t *t) {
  if (c->ninclusive > 0) {
    int any = 0;
    for (size_t i = 0; i < c->nfilter && !any; i++)
      if (c->filters[i].inclusive && filter_hits(c, i, t->traceback)) any = 1;
    if (!any) return 0;
  }
  for (size_t i = 0; i < c->nfilter; i++)
    if (!c->filters[i].inclusive && filter_hits(c, i, t->traceback)) return 0;
  return 1;
}

/* Copies strings into the new arena once per distinct source pointer. */
typedef struct copier {
  ll__arena_t *arena;
  ptab_t done;
} copier_t;

static const char *copy_str(copier_t *c, const char *s) {
  uint64_t v;
  if (s == NULL) return NULL;
  if (ptab_get(&c->done, s, &v)) return (const char *)(uintptr_t)v;
  char *d = ll__arena_strdup(c->arena, s);
  if (d == NULL || ptab_put(&c->done, s, (uint64_t)(uintptr_t)d) != 0) return NULL;
  return d;
}

static ll_traceback_t *copy_tb(copier_t *c, const ll_traceback_t *src) {
  uint32_t n;
  const ll_frame_t *fr = tb_frames(src, &n);
  ll_traceback_t *tb = ll__arena_alloc(c->arena, sizeof *tb);
  ll_frame_t *frames = ll__arena_alloc(c->arena, (size_t)n * sizeof *frames);
  if (tb == NULL || frames == NULL) return NULL;
  for (uint32_t j = 0; j < n; j++) {
    frames[j].filename = copy_str(c, fr[j].filename != NULL ? fr[j].filename : "<unknown>");
    frames[j].function = copy_str(c, fr[j].function != NULL ? fr[j].function : "");
    if (frames[j].filename == NULL || frames[j].function == NULL) return NULL;
    frames[j].lineno = fr[j].lineno;
    frames[j].ip = fr[j].ip;
  }
  tb->nframe = n;
  tb->total_nframe = src != NULL && src->nframe != 0 ? src->total_nframe : 1;
  tb->frames = frames;
  return tb;
}

int ll_snapshot_filter(const ll_snapshot_t *snap, const ll_filter_t *filters, size_t nfilter,
                       ll_snapshot_t **out) {
  if (!snap_valid(snap) || out == NULL || (nfilter > 0 && filters == NULL)) return LL_EINVAL;
  for (size_t i = 0; i < nfilter; i++)
    if (filters[i].filename_pattern == NULL) return LL_EINVAL;

  int rc = LL_ENOMEM;
  fctx_t fc = {.filters = filters, .nfilter = nfilter};
  copier_t cp = {0};
  unsigned char *keep = NULL;
  size_t nkeep = 0;
  for (size_t i = 0; i < nfilter; i++) fc.ninclusive += filters[i].inclusive != 0;

  /* One pass decides, so the kept traces array is allocated at its exact size. */
  if (snap->ntraces > 0 && (keep = ll__mmap_alloc(snap->ntraces)) == NULL) goto cleanup;
  for (size_t i = 0; i < snap->ntraces; i++) {
    keep[i] = (unsigned char)trace_kept(&fc, &snap->traces[i]);
    nkeep += keep[i];
  }
  if (fc.oom) goto cleanup;

  if ((cp.arena = ll__arena_new()) == NULL) goto cleanup;
  ll_snapshot_t *s = ll__arena_alloc(cp.arena, sizeof *s);
  size_t bytes;
  if (s == NULL || !mul_ok(nkeep, sizeof(ll_trace_t), &bytes)) goto cleanup;
  ll_trace_t *traces = ll__arena_alloc(cp.arena, bytes);
  if (traces == NULL) goto cleanup;
  *s = *snap; /* same metadata, as tracemalloc's filter_traces keeps */
  s->ll__arena = cp.arena;
  s->program = copy_str(&cp, snap->program != NULL ? snap->program : "");
  if (s->program == NULL) goto cleanup;
  size_t k = 0;
  for (size_t i = 0; i < snap->ntraces; i++) {
    if (!keep[i]) continue;
    traces[k] = snap->traces[i];
    if ((traces[k].traceback = copy_tb(&cp, snap->traces[i].traceback)) == NULL) goto cleanup;
    k++;
  }
  s->ntraces = nkeep;
  s->traces = traces;
  *out = s;
  cp.arena = NULL;
  rc = 0;
cleanup:
  ll__arena_free(cp.arena);
  ptab_free(&cp.done);
  ptab_free(&fc.match_cache);
  ll__mmap_free(keep, snap->ntraces);
  return rc;
}

/* ==== statistics and compare ================================================================ */

typedef struct acc {
  uint64_t size, usable, count;
} acc_t;

typedef struct kacc {
  acc_t side[2];         /* 0: the snapshot, 1: the old one (compare) */
  uint32_t total_nframe; /* largest seen, so merged traceback keys keep a stable value */
  uint32_t pad;
} kacc_t;

typedef struct sctx {
  ll__ktab_t *kt;
  ll_group_t group;
  int cumulative;
  vec_t accs;    /* kacc_t per key id (frame id, or sequence id for traceback grouping) */
  uint32_t *ids; /* scratch: one traceback's frames as words (traceback grouping) */
  uint32_t empty;
} sctx_t;

/* The identity of a frame in a key: tracemalloc compares (filename, lineno); the function
 * comes along (one line is in one function), and the address counts only for frames that were
 * never symbolised (no line, no function), which nothing else tells apart. */
static int frame_ident(sctx_t *c, const ll_frame_t *f, int filename_only, ll__kframe_t *k) {
  memset(k, 0, sizeof *k);
  k->filename = ll__ktab_str(c->kt, f->filename != NULL ? f->filename : "<unknown>");
  if (k->filename == LL__KTAB_NONE) return -1;
  if (filename_only) {
    k->function = c->empty;
    return 0;
  }
  const char *fn = f->function != NULL ? f->function : "";
  if ((k->function = ll__ktab_str(c->kt, fn)) == LL__KTAB_NONE) return -1;
  k->lineno = f->lineno;
  k->ip = (f->lineno == 0 && fn[0] == '\0') ? f->ip : 0;
  return 0;
}

static uint32_t frame_key(sctx_t *c, const ll_frame_t *f, int filename_only) {
  ll__kframe_t k;
  if (frame_ident(c, f, filename_only, &k) != 0) return LL__KTAB_NONE;
  return ll__ktab_frame(c->kt, &k);
}

/* A traceback key is the sequence of its frames' words (ll__kframe_t is 6 of them): one
 * lookup per traceback rather than one per frame. */
#define KF_WORDS (sizeof(ll__kframe_t) / sizeof(uint32_t))

static kacc_t *acc_at(sctx_t *c, uint32_t key) {
  if (key == LL__KTAB_NONE) return NULL;
  /* Key ids are dense and handed out in order, so at most one new entry is needed. */
  while (key >= c->accs.len / sizeof(kacc_t))
    if (vec_push(&c->accs, sizeof(kacc_t)) == NULL) return NULL;
  return (kacc_t *)c->accs.p + key;
}

static void acc_add(kacc_t *a, int side, const ll_trace_t *t) {
  a->side[side].size += t->size;
  a->side[side].usable += t->usable;
  a->side[side].count += t->count;
}

static int add_trace(sctx_t *c, int side, const ll_trace_t *t) {
  uint32_t n;
  const ll_frame_t *fr = tb_frames(t->traceback, &n);
  int by_file = c->group == LL_GROUP_FILENAME;
  kacc_t *a;
  if (c->cumulative) {
    for (uint32_t j = 0; j < n; j++) {
      /* As CPython's tracemalloc: once per frame, so a file (or a recursive line) that appears
       * several times in one traceback counts that many times. */
      if ((a = acc_at(c, frame_key(c, &fr[j], by_file))) == NULL) return LL_ENOMEM;
      acc_add(a, side, t);
    }
    return 0;
  }
  if (c->group != LL_GROUP_TRACEBACK) {
    if ((a = acc_at(c, frame_key(c, &fr[0], by_file))) == NULL) return LL_ENOMEM;
    acc_add(a, side, t);
    return 0;
  }
  if (n > LL_MAX_NFRAME) return LL_EINVAL;
  for (uint32_t j = 0; j < n; j++) {
    ll__kframe_t k;
    if (frame_ident(c, &fr[j], 0, &k) != 0) return LL_ENOMEM;
    memcpy(c->ids + (size_t)j * KF_WORDS, &k, sizeof k);
  }
  if ((a = acc_at(c, ll__ktab_seq(c->kt, c->ids, n * (uint32_t)KF_WORDS, 0))) == NULL) return LL_ENOMEM;
  acc_add(a, side, t);
  uint32_t total = t->traceback != NULL && t->traceback->nframe != 0 ? t->traceback->total_nframe : 1;
  if (total > a->total_nframe) a->total_nframe = total;
  return 0;
}

static uint64_t mag(int64_t x) { return x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x; }

static int frame_cmp(const ll_frame_t *a, const ll_frame_t *b) {
  int r = strcmp(a->filename, b->filename);
  if (r != 0) return r;
  if (a->lineno != b->lineno) return a->lineno < b->lineno ? -1 : 1;
  if ((r = strcmp(a->function, b->function)) != 0) return r;
  if (a->ip != b->ip) return a->ip < b->ip ? -1 : 1;
  return 0;
}

static int key_cmp(const ll_traceback_t *a, const ll_traceback_t *b) {
  uint32_t n = a->nframe < b->nframe ? a->nframe : b->nframe;
  for (uint32_t i = 0; i < n; i++) {
    int r = frame_cmp(&a->frames[i], &b->frames[i]);
    if (r != 0) return r;
  }
  if (a->nframe != b->nframe) return a->nframe < b->nframe ? -1 : 1;
  return 0;
}

/* Does a come first? tracemalloc sorts descending by (size, count, key), compare_to by
 * (|size_diff|, size, |count_diff|, count, key). */
static int stat_before(const ll_stat_t *a, const ll_stat_t *b, int is_diff) {
  if (is_diff && mag(a->size_diff) != mag(b->size_diff)) return mag(a->size_diff) > mag(b->size_diff);
  if (a->size != b->size) return a->size > b->size;
  if (is_diff && mag(a->count_diff) != mag(b->count_diff))
    return mag(a->count_diff) > mag(b->count_diff);
  if (a->count != b->count) return a->count > b->count;
  return key_cmp(a->traceback, b->traceback) > 0;
}

/* Stable bottom-up merge sort: libc's qsort may allocate with malloc. */
static int sort_stats(ll_stat_t *items, size_t n, int is_diff) {
  if (n < 2) return 0;
  size_t bytes = n * sizeof *items;
  ll_stat_t *tmp = ll__mmap_alloc(bytes);
  if (tmp == NULL) return LL_ENOMEM;
  const size_t run = 16;
  for (size_t lo = 0; lo < n; lo += run) {
    size_t hi = lo + run < n ? lo + run : n;
    for (size_t i = lo + 1; i < hi; i++) {
      ll_stat_t x = items[i];
      size_t j = i;
      for (; j > lo && stat_before(&x, &items[j - 1], is_diff); j--) items[j] = items[j - 1];
      items[j] = x;
    }
  }
  ll_stat_t *src = items, *dst = tmp;
  for (size_t w = run; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = stat_before(&src[j], &src[i], is_diff) ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    ll_stat_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != items) memcpy(items, src, bytes);
  ll__mmap_free(tmp, bytes);
  return 0;
}

/* Turn the accumulated keys into a stats object in its own arena. */
static int build_stats(sctx_t *c, int is_diff, ll_stats_t **out) {
  int rc = LL_ENOMEM;
  size_t nkeys = c->accs.len / sizeof(kacc_t), nstr = ll__ktab_nstr(c->kt);
  const kacc_t *accs = c->accs.p;
  int by_tb = c->group == LL_GROUP_TRACEBACK;
  const char **copies = NULL;
  ll__arena_t *arena = NULL;
  size_t nframes = nkeys, bytes;

  if (by_tb) {
    nframes = 0;
    for (size_t k = 0; k < nkeys; k++) {
      uint32_t n;
      ll__ktab_seq_at(c->kt, (uint32_t)k, &n, NULL);
      nframes += n / KF_WORDS;
    }
  }
  if (nstr > 0 && (copies = ll__mmap_alloc(nstr * sizeof *copies)) == NULL) goto cleanup;
  if ((arena = ll__arena_new()) == NULL) goto cleanup;
  ll_stats_t *st = ll__arena_alloc(arena, sizeof *st);
  if (st == NULL || !mul_ok(nkeys, sizeof(ll_stat_t), &bytes)) goto cleanup;
  ll_stat_t *items = ll__arena_alloc(arena, bytes);
  if (items == NULL || !mul_ok(nkeys, sizeof(ll_traceback_t), &bytes)) goto cleanup;
  ll_traceback_t *tbs = ll__arena_alloc(arena, bytes);
  if (tbs == NULL || !mul_ok(nframes, sizeof(ll_frame_t), &bytes)) goto cleanup;
  ll_frame_t *frames = ll__arena_alloc(arena, bytes);
  if (frames == NULL) goto cleanup;

  size_t off = 0;
  for (size_t k = 0; k < nkeys; k++) {
    uint32_t n = 1;
    const uint32_t *words = NULL;
    if (by_tb) {
      words = ll__ktab_seq_at(c->kt, (uint32_t)k, &n, NULL);
      n /= (uint32_t)KF_WORDS;
    }
    for (uint32_t j = 0; j < n; j++) {
      ll__kframe_t kbuf;
      const ll__kframe_t *kf = &kbuf;
      if (by_tb) memcpy(&kbuf, words + (size_t)j * KF_WORDS, sizeof kbuf);
      else kf = ll__ktab_frame_at(c->kt, (uint32_t)k);
      uint32_t sid[2] = {kf->filename, kf->function};
      const char *s[2];
      for (int q = 0; q < 2; q++) {
        if (copies[sid[q]] == NULL &&
            (copies[sid[q]] = ll__arena_strdup(arena, ll__ktab_str_at(c->kt, sid[q], NULL))) == NULL)
          goto cleanup;
        s[q] = copies[sid[q]];
      }
      frames[off + j] = (ll_frame_t){s[0], s[1], kf->lineno, kf->ip};
    }
    tbs[k].nframe = n;
    tbs[k].total_nframe = by_tb ? accs[k].total_nframe : 1;
    tbs[k].frames = &frames[off];
    off += n;
    const acc_t *now = &accs[k].side[0], *old = &accs[k].side[1];
    items[k] = (ll_stat_t){.traceback = &tbs[k], .size = now->size, .usable = now->usable,
                           .count = now->count};
    if (is_diff) {
      /* Two's-complement wrap of the unsigned difference gives the signed change. */
      items[k].size_diff = (int64_t)(now->size - old->size);
      items[k].count_diff = (int64_t)(now->count - old->count);
    }
  }
  if ((rc = sort_stats(items, nkeys, is_diff)) != 0) goto cleanup;
  st->group = c->group;
  st->cumulative = c->cumulative;
  st->is_diff = is_diff;
  st->len = nkeys;
  st->items = items;
  st->ll__arena = arena;
  *out = st;
  arena = NULL;
  rc = 0;
cleanup:
  ll__arena_free(arena);
  ll__mmap_free(copies, nstr * sizeof *copies);
  return rc;
}

static int stats_run(const ll_snapshot_t *snap, const ll_snapshot_t *old, ll_group_t group,
                     int cumulative, ll_stats_t **out) {
  if (!snap_valid(snap) || (old != NULL && !snap_valid(old)) || out == NULL) return LL_EINVAL;
  if (group != LL_GROUP_LINENO && group != LL_GROUP_FILENAME && group != LL_GROUP_TRACEBACK)
    return LL_EINVAL;
  if (cumulative && group == LL_GROUP_TRACEBACK) return LL_EINVAL;

  int rc = LL_ENOMEM;
  sctx_t c = {.group = group, .cumulative = cumulative != 0};
  size_t ids_bytes = (size_t)LL_MAX_NFRAME * sizeof(ll__kframe_t);
  if ((c.kt = ll__ktab_new()) == NULL) goto cleanup;
  if ((c.empty = ll__ktab_str(c.kt, "")) == LL__KTAB_NONE) goto cleanup;
  if (group == LL_GROUP_TRACEBACK && (c.ids = ll__mmap_alloc(ids_bytes)) == NULL) goto cleanup;
  for (int side = 0; side < (old != NULL ? 2 : 1); side++) {
    const ll_snapshot_t *s = side == 0 ? snap : old;
    for (size_t i = 0; i < s->ntraces; i++)
      if ((rc = add_trace(&c, side, &s->traces[i])) != 0) goto cleanup;
  }
  rc = build_stats(&c, old != NULL, out);
cleanup:
  ll__mmap_free(c.ids, ids_bytes);
  vec_free(&c.accs);
  ll__ktab_free(c.kt);
  return rc;
}

int ll_snapshot_statistics(const ll_snapshot_t *snap, ll_group_t group, int cumulative,
                           ll_stats_t **out) {
  return stats_run(snap, NULL, group, cumulative, out);
}

int ll_snapshot_compare(const ll_snapshot_t *snap, const ll_snapshot_t *old, ll_group_t group,
                        int cumulative, ll_stats_t **out) {
  if (old == NULL) return LL_EINVAL;
  return stats_run(snap, old, group, cumulative, out);
}
