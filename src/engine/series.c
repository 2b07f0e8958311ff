/* series.c - per-traceback memory over time on the allocation clock and the total's steps, bounded, the peak always kept. */
#include "series.h"

#include <string.h>
#include <time.h>

#define NO_POINT UINT32_MAX

ll__series_t *ll__series_new(void) {
  size_t got;
  ll__series_t *s = ll__tmem_map(sizeof *s, &got);
  if (s == NULL) return NULL;
  s->bytes = got;
  s->stride = s->next = s->step_mul = 1;
  s->peak_pt = NO_POINT;
  return s;
}

void ll__series_free(ll__series_t *s) {
  if (s != NULL) ll__tmem_unmap(s, s->bytes);
}

void ll__series_clear(ll__series_t *s, ll__intern_t *in) {
  if (s == NULL) return;
  for (uint32_t c = 0; c < s->ncols; c++)
    if (s->col_tb[c] < in->ntb) in->tbs[s->col_tb[c]].col = 0;
  s->npts = s->ncols = 0;
  s->stride = s->next = s->step_mul = 1;
  s->by_clock = s->by_step = 0;
  s->seen_peak = 0;
  s->peak_pt = NO_POINT;
}

void ll__series_add_col(ll__series_t *s, ll__intern_t *in, uint32_t id) {
  ll__tb_t *tb = &in->tbs[id];
  if (s == NULL || tb->col != 0) return;
  if (s->ncols == LL__SERIES_COLS) {
    tb->col = LL__TB_NO_COL; /* stays in "other"; never asks again */
    return;
  }
  s->col_tb[s->ncols] = id;
  /* Earlier points knew it below the threshold: it was part of "other" there. */
  for (uint32_t p = 0; p < s->npts; p++) s->val[p][s->ncols] = 0;
  tb->col = ++s->ncols;
}

/* Every second point goes (the later of each pair stays), except the peak's point, which
 * stays in place of its partner: the peak is never lost. */
static void keep(ll__series_t *s, uint32_t from, uint32_t to) {
  if (from == to) return;
  s->pt[to] = s->pt[from];
  memcpy(s->val[to], s->val[from], s->ncols * sizeof s->val[0][0]);
}

static void halve(ll__series_t *s) {
  uint32_t peak = s->peak_pt, k = 0;
  s->peak_pt = NO_POINT;
  for (uint32_t i = 0; i < s->npts; i += 2) {
    /* The pair (i, i + 1), or the odd last point alone (the newest: kept). */
    uint32_t from = i + 1 < s->npts && i != peak ? i + 1 : i;
    keep(s, from, k);
    if (from == peak) s->peak_pt = k;
    k++;
  }
  s->npts = k;
  s->stride *= 2;
  if (s->by_step > s->by_clock && s->step_mul < (1u << 20)) s->step_mul *= 2;
  s->by_clock = s->by_step = 0;
}

/* The events' time as the recorder gave it (ll__series_event_time), process-local: the helper
 * process that applies the program's events has its own, the program none. */
static uint64_t g_event_ns;

void ll__series_event_time(uint64_t t_ns) {
  if (t_ns > g_event_ns) g_event_ns = t_ns;
}

/* The recorder's stamp, else now (the precise clock: points are few, and a coarse tick of 4 ms
 * is a large part of a short run). */
uint64_t ll__series_time(void) {
  if (g_event_ns != 0) return g_event_ns;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A traceback's bytes at the peak: tb_value's rule (pk values when it changed since). */
static uint64_t at_peak(const ll__tb_t *tb, uint64_t gen) {
  return tb->pk_gen == gen ? tb->pk_size : tb->cur_size;
}

void ll__series_sample(ll__series_t *s, const ll__intern_t *in, const ll__series_now_t *now,
                       int force) {
  if (s == NULL || (!force && now->clock < s->next)) return;
  if (now->clock >= s->next)
    s->by_clock++;
  else if (force == LL__SERIES_STEPPED)
    s->by_step++;
  uint64_t t = ll__series_time();
  int new_peak = now->peak > s->seen_peak && now->peak > 0;
  /* Room for the peak's point and this one. */
  while (s->npts + 2 > LL__SERIES_POINTS) halve(s);
  /* The peak's own point, unless this one is it: a point taken by the allocation that made the
   * peak is the peak's moment, the final point (the end of the run) never is. */
  if (new_peak && (now->peak != now->current || force == LL__SERIES_FINAL)) {
    uint32_t p = s->npts++;
    const ll__series_pt_t *prev = p > 0 ? &s->pt[p - 1] : NULL;
    uint64_t pt_t = t;
    if (now->peak_t != 0) {
      /* Dated by the tracker: between the last point and now. */
      pt_t = now->peak_t < t ? now->peak_t : t;
      if (prev != NULL && pt_t < prev->t_ns) pt_t = prev->t_ns;
    } else if (prev != NULL && now->peak_clock == now->clock) {
      /* No allocation since: the clock cannot say (frees, or a pause, came after it). */
      pt_t = prev->t_ns;
    } else if (prev != NULL && now->clock > prev->clock && now->peak_clock >= prev->clock) {
      pt_t = prev->t_ns + (uint64_t)((double)(t - prev->t_ns) *
                                     (double)(now->peak_clock - prev->clock) /
                                     (double)(now->clock - prev->clock));
    }
    s->pt[p] = (ll__series_pt_t){pt_t, now->peak_clock, now->peak};
    for (uint32_t c = 0; c < s->ncols; c++)
      s->val[p][c] = at_peak(&in->tbs[s->col_tb[c]], now->gen);
    s->peak_pt = p;
  }
  uint32_t p = s->npts++;
  s->pt[p] = (ll__series_pt_t){t, now->clock, now->current};
  for (uint32_t c = 0; c < s->ncols; c++) s->val[p][c] = in->tbs[s->col_tb[c]].cur_size;
  if (new_peak && now->peak == now->current && force != LL__SERIES_FINAL) s->peak_pt = p;
  if (new_peak) s->seen_peak = now->peak;
  s->next = now->clock + s->stride;
}

int ll__series_copy(const ll__series_t *s, const ll__intern_t *in, ll__arena_t *a,
                    ll__series_copy_t *out) {
  ll__series_point_t *pts = ll__arena_alloc(a, (s->npts + 1) * sizeof *pts);
  uint64_t *val = ll__arena_alloc(a, ((size_t)s->npts * s->ncols + 1) * sizeof *val);
  ll__series_col_t *cols = ll__arena_alloc(a, (s->ncols + 1) * sizeof *cols);
  if (pts == NULL || val == NULL || cols == NULL) return LL_ENOMEM;
  for (uint32_t p = 0; p < s->npts; p++) {
    pts[p] = (ll__series_point_t){s->pt[p].t_ns, s->pt[p].clock, s->pt[p].total};
    memcpy(&val[(size_t)p * s->ncols], s->val[p], s->ncols * sizeof *val);
  }
  for (uint32_t c = 0; c < s->ncols; c++) {
    const ll__tb_t *tb = &in->tbs[s->col_tb[c]];
    uint64_t *ips = ll__arena_alloc(a, (tb->nframe + 1) * sizeof *ips);
    if (ips == NULL) return LL_ENOMEM;
    for (uint32_t j = 0; j < tb->nframe; j++)
      ips[j] = tb->keys[j] & LL__KEY_SYM ? 0 : tb->keys[j];
    cols[c] = (ll__series_col_t){tb->nframe, tb->total_nframe, ips};
  }
  *out = (ll__series_copy_t){s->stride, s->npts, s->ncols, s->peak_pt, pts, val, cols, a};
  return 0;
}
