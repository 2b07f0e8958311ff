/* snapfilter.c - snapshot filters (tracemalloc's Filter and filter_traces): which traces a snapshot keeps, copied into a new one. */
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "containers.h"
#include "snapshot.h"

typedef struct fctx {
  const ll_filter_t *filters;
  size_t nfilter;
  size_t ninclusive;
  ll__ptab_t match_cache; /* filename pointer -> bit i set when filters[i] (i < 64) globs it */
  int oom;
} fctx_t;

/* Does filters[i]'s glob match this filename? fnmatch is the costly part and a snapshot has
 * few distinct file names, so results for the first 64 filters are cached per pointer. */
static int name_match(fctx_t *c, size_t i, const char *filename) {
  if (i >= 64) return fnmatch(c->filters[i].filename_pattern, filename, 0) == 0;
  uint64_t mask;
  if (!ll__ptab_get(&c->match_cache, filename, &mask)) {
    mask = 0;
    size_t lim = c->nfilter < 64 ? c->nfilter : 64;
    for (size_t k = 0; k < lim; k++)
      if (fnmatch(c->filters[k].filename_pattern, filename, 0) == 0) mask |= (uint64_t)1 << k;
    if (ll__ptab_put(&c->match_cache, filename, mask) != 0) c->oom = 1;
  }
  return (int)((mask >> i) & 1u);
}

/* tracemalloc's Filter._match_frame_impl, on frames[0] only or on any frame. */
static int filter_hits(fctx_t *c, size_t i, const ll_traceback_t *tb) {
  const ll_filter_t *f = &c->filters[i];
  uint32_t n;
  const ll_frame_t *fr = ll__tb_frames(tb, &n);
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
  ll__ptab_t done;
} copier_t;

static const char *copy_str(copier_t *c, const char *s) {
  uint64_t v;
  if (s == NULL) return NULL;
  if (ll__ptab_get(&c->done, s, &v)) return (const char *)(uintptr_t)v;
  char *d = ll__arena_strdup(c->arena, s);
  if (d == NULL || ll__ptab_put(&c->done, s, (uint64_t)(uintptr_t)d) != 0) return NULL;
  return d;
}

static ll_traceback_t *copy_tb(copier_t *c, const ll_traceback_t *src) {
  uint32_t n;
  const ll_frame_t *fr = ll__tb_frames(src, &n);
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
  if (!ll__snap_valid(snap) || out == NULL || (nfilter > 0 && filters == NULL)) return LL_EINVAL;
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
  if (s == NULL || !ll__mul_ok(nkeep, sizeof(ll_trace_t), &bytes)) goto cleanup;
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
  ll__ptab_free(&cp.done);
  ll__ptab_free(&fc.match_cache);
  ll__mmap_free(keep, snap->ntraces);
  return rc;
}
