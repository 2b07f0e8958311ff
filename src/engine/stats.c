/* stats.c - snapshot statistics and compare (tracemalloc's statistics / compare_to): group, accumulate, sort. */
#include <stdint.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "containers.h"
#include "ktab.h"
#include "snapshot.h"

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
  ll__vec_t accs;    /* kacc_t per key id (frame id, or sequence id for traceback grouping) */
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
    if (ll__vec_push(&c->accs, sizeof(kacc_t)) == NULL) return NULL;
  return (kacc_t *)c->accs.p + key;
}

static void acc_add(kacc_t *a, int side, const ll_trace_t *t) {
  a->side[side].size += t->size;
  a->side[side].usable += t->usable;
  a->side[side].count += t->count;
}

static int add_trace(sctx_t *c, int side, const ll_trace_t *t) {
  uint32_t n;
  const ll_frame_t *fr = ll__tb_frames(t->traceback, &n);
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
  if (st == NULL || !ll__mul_ok(nkeys, sizeof(ll_stat_t), &bytes)) goto cleanup;
  ll_stat_t *items = ll__arena_alloc(arena, bytes);
  if (items == NULL || !ll__mul_ok(nkeys, sizeof(ll_traceback_t), &bytes)) goto cleanup;
  ll_traceback_t *tbs = ll__arena_alloc(arena, bytes);
  if (tbs == NULL || !ll__mul_ok(nframes, sizeof(ll_frame_t), &bytes)) goto cleanup;
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
  if (!ll__snap_valid(snap) || (old != NULL && !ll__snap_valid(old)) || out == NULL) return LL_EINVAL;
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
  ll__vec_free(&c.accs);
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
