/* series.h - each big traceback's live bytes over the run, sampled on the allocation clock and at every step of the total. */
#ifndef LEAKLAB_SERIES_H
#define LEAKLAB_SERIES_H
/*
 * Contract: called by the tracker with its lock held (or single-threaded), never mallocs (its
 * table comes from ll__tmem_map, so it is shared with the helper process like every table).
 *
 * What is kept: a point every `stride` allocations (the allocation clock: deterministic, the
 * same in the program's thread and in the helper process, and what growth verdicts judge by),
 * and a point whenever the total moved by a step (peak / LL__SERIES_STEP) from the last one, up
 * or down, frees included: so between two points the total stays within a step of the first
 * one's, and the series read as a step function (each point's values held until the next
 * point) draws declines and plateaus where they were, whatever the allocations did.
 * Each point holds the time, the clock, the total live bytes and the live bytes of every
 * column. A column is a traceback that held more than 1/200 of the peak so far at some
 * allocation (so every traceback that ever holds 0.5% of the final peak is one: the threshold
 * only rises); before it became a column its bytes were under the threshold and count in
 * "other" (total minus the columns). At most LL__SERIES_COLS columns; later ones stay in other.
 * When the points fill, every second one is dropped and the stride doubles, and so does the
 * step when steps made most of the points since the last time (a saw-tooth that runs for
 * long): the future rate halves with the density, so the whole run stays drawn, and a run
 * keeps between LL__SERIES_POINTS / 2 and LL__SERIES_POINTS points whatever its length.
 * The peak: whenever the peak rose since the last point, the next sample first adds the peak
 * moment itself (each column's value at the peak, the clock when it was reached), so the exact
 * peak is always one of the points and is never dropped. Its time: interpolated on the clock
 * between the points around it; when nothing was allocated after it (frees only, or a pause
 * before them), the last point's time (the peak is less than a step above that point).
 */
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "engine.h"
#include "intern.h"
#include "tracker_mem.h"

#define LL__SERIES_POINTS 512
#define LL__SERIES_COLS 256
#define LL__SERIES_SHARE 200 /* a column holds more than peak / LL__SERIES_SHARE */
#define LL__SERIES_STEP 256  /* a point whenever the total moved by peak / LL__SERIES_STEP */

typedef struct ll__series_pt {
  uint64_t t_ns;  /* CLOCK_MONOTONIC when its event happened (ll__series_event_time), else when
                     sampled; the peak point: interpolated on the clock */
  uint64_t clock; /* allocations made so far */
  uint64_t total; /* live bytes */
} ll__series_pt_t;

typedef struct ll__series {
  uint64_t stride, next;    /* sample when the clock reaches next */
  uint64_t step_mul;        /* the step is (peak / LL__SERIES_STEP + 1) times this */
  uint32_t by_clock, by_step; /* points of each kind since the last halving */
  uint64_t seen_peak;       /* the peak the last point knew of */
  uint32_t npts, ncols;
  uint32_t peak_pt;         /* the point holding the peak; UINT32_MAX: none yet */
  uint32_t pad_;
  size_t bytes;             /* mapped length (whole pages) */
  uint32_t col_tb[LL__SERIES_COLS];
  ll__series_pt_t pt[LL__SERIES_POINTS];
  uint64_t val[LL__SERIES_POINTS][LL__SERIES_COLS];
} ll__series_t;

/* What the tracker knows at a sample. */
typedef struct ll__series_now {
  uint64_t clock, current, peak;
  uint64_t peak_clock; /* the clock when the peak was reached */
  uint64_t peak_t;     /* when it was reached (ll__series_time at a rise of the peak at most
                          LL__SERIES_PEAK_DATE allocations before it), 0: not known */
  uint64_t gen;        /* the tracker's peak generation (tb_value's rule) */
} ll__series_now_t;

/* The tracker dates a rise of the peak (ll__series_time) when its last dating is this many
 * allocations old: one clock read per 64 allocations of a heap that grows, none in the helper
 * process (it has the program's stamps). */
#define LL__SERIES_PEAK_DATE 64
/* When the events being applied happened: the recorder's stamp (ll__series_event_time), else
 * CLOCK_MONOTONIC now. */
uint64_t ll__series_time(void);

/* A fresh series in tracker memory (NULL when none could be mapped: no series, recording goes
 * on). */
ll__series_t *ll__series_new(void);
void ll__series_free(ll__series_t *s);
/* Forget every point and column (clear_traces); columns' tracebacks keep their marks cleared. */
void ll__series_clear(ll__series_t *s, ll__intern_t *in);
/* Make traceback id a column (its bytes crossed the threshold); no-op when full. */
void ll__series_add_col(ll__series_t *s, ll__intern_t *in, uint32_t id);
/* Take the point(s) due at now; force: LL__SERIES_STEPPED also when the clock does not call
 * for one (the total moved by a step), LL__SERIES_FINAL always (the end of the run). */
#define LL__SERIES_STEPPED 1
#define LL__SERIES_FINAL 2
void ll__series_sample(ll__series_t *s, const ll__intern_t *in, const ll__series_now_t *now,
                       int force);
/* A copy of the series (ll__take_series's answer) in arena a, columns named by their
 * tracebacks' return addresses. 0 or LL_ENOMEM. */
int ll__series_copy(const ll__series_t *s, const ll__intern_t *in, ll__arena_t *a,
                    ll__series_copy_t *out);

#endif
