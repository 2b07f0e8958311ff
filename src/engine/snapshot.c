/* snapshot.c - snapshot and statistics objects: freeing, and the traceback rules filters and statistics share. */
#include <leaklab/leaklab.h>

#include "arena.h"
#include "snapshot.h"

void ll_snapshot_free(ll_snapshot_t *snap) {
  if (snap != NULL) ll__arena_free(snap->ll__arena);
}

void ll_stats_free(ll_stats_t *stats) {
  if (stats != NULL) ll__arena_free(stats->ll__arena);
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
