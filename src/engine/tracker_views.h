/* tracker_views.h - the tracker's per-traceback accounting turned into public frames and snapshot traces (tracker_views.c). */
#ifndef LEAKLAB_TRACKER_VIEWS_H
#define LEAKLAB_TRACKER_VIEWS_H
/*
 * Contract: called with the tracker's mutex held; reads the intern tables, never changes them.
 * What is built lives in the caller's arena (a snapshot is one arena, strings included); the
 * only other memory is a transient mapping freed before returning. 0 or LL_ENOMEM.
 */
#include <stdint.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "intern.h"

/* Which of a traceback's counters a snapshot shows. */
typedef enum ll__view {
  LL__VIEW_CURRENT,   /* live now */
  LL__VIEW_PEAK,      /* live at the peak: pk_* when pk_gen is the current generation */
  LL__VIEW_TEMPORARY, /* temporaries since start */
  LL__VIEW_ALLOCATIONS, /* every allocation since start, freed or not */
} ll__view_t;

/* A location key as a frame: symbolic keys name their interned strings (owned by the tracker),
 * native ones are an ip with filename "<unknown>" and function "". */
void ll__view_frame(const ll__intern_t *in, uint64_t key, ll_frame_t *f);

/* snap->ntraces and snap->traces: one trace per traceback whose `view` count is nonzero, frames
 * and strings copied into `a`. gen: the tracker's peak generation (LL__VIEW_PEAK). */
int ll__view_traces(const ll__intern_t *in, ll__view_t view, uint64_t gen, ll__arena_t *a,
                    ll_snapshot_t *snap);

#endif
