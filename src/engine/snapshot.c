/* snapshot.c - snapshot and statistics objects: freeing, views derived from a snapshot, and the traceback rules filters and statistics share. */
#include <leaklab/leaklab.h>

#include "arena.h"
#include "snapshot.h"

void ll_snapshot_free(ll_snapshot_t *snap) {
  if (snap != NULL) ll__arena_free(snap->ll__arena);
}

void ll_stats_free(ll_stats_t *stats) {
  if (stats != NULL) ll__arena_free(stats->ll__arena);
}

int ll__snapshot_derive(const ll_snapshot_t *src, ll_at_t at, ll_snapshot_t **out, ll_trace_t **traces) {
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  ll_snapshot_t *s = ll__arena_alloc(a, sizeof *s);
  ll_trace_t *tr = ll__arena_alloc(a, (src->ntraces + 1) * sizeof *tr); /* +1: never 0 bytes */
  if (s == NULL || tr == NULL) {
    ll__arena_free(a);
    return LL_ENOMEM;
  }
  *s = *src;
  s->at = at;
  s->ll__arena = a;
  s->traces = tr;
  s->ntraces = 0;
  *out = s;
  *traces = tr;
  return 0;
}

/* A traceback with no frames is shown as one unknown frame, so every key has a frames[0]. */
static const ll_frame_t unknown_frame = {"<unknown>", "", 0, 0};

const ll_frame_t *ll__tb_frames(const ll_traceback_t *tb, uint32_t *n) {
  if (tb == NULL || tb->nframe == 0 || tb->frames == NULL) {
    *n = 1;
    return &unknown_frame;
  }
  *n = tb->nframe;
  return tb->frames;
}

int ll__snap_valid(const ll_snapshot_t *s) {
  return s != NULL && (s->ntraces == 0 || s->traces != NULL);
}
