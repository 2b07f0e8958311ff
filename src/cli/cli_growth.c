/* cli_growth.c - a capture's memory over time per site, symbolised, and the growth report that report and check print. */
#include "cli.h"
#include "cli_growth.h"
#include "arena.h"
#include "growth_report.h"
#include "symbolize.h"

#include <stdlib.h>
#include <string.h>

void ll__series_loaded_free(ll__series_loaded_t *s) {
  ll_snapshot_free(s->cols);
  ll__arena_free(s->arena);
  ll_capture_close(s->cap);
  free(s->tbs);
  memset(s, 0, sizeof *s);
}

/* The columns as a snapshot of native frames, so the symboliser names them as it names any
 * moment's tracebacks (one trace per column, in order). */
static int columns_snapshot(ll__arena_t *a, const ll_cap_lines_t *l, ll_snapshot_t *snap) {
  ll_trace_t *traces = ll__arena_alloc(a, ((size_t)l->ncols + 1) * sizeof *traces);
  if (traces == NULL) return LL_ENOMEM;
  for (uint32_t c = 0; c < l->ncols; c++) {
    ll_traceback_t *tb = ll__arena_alloc(a, sizeof *tb);
    ll_frame_t *fr = ll__arena_alloc(a, (size_t)l->cols[c].nframe * sizeof *fr);
    if (tb == NULL || fr == NULL) return LL_ENOMEM;
    for (uint32_t f = 0; f < l->cols[c].nframe; f++)
      fr[f] = (ll_frame_t){"<unknown>", "", 0, l->cols[c].ips[f]};
    *tb = (ll_traceback_t){l->cols[c].nframe, l->cols[c].total_nframe, fr};
    traces[c] = (ll_trace_t){tb, 0, 0, 1};
  }
  memset(snap, 0, sizeof *snap);
  snap->at = LL_AT_PEAK;
  snap->ntraces = l->ncols;
  snap->traces = traces;
  snap->program = "";
  return 0;
}

int ll__load_series(const char *path, const ll_capture_t *cap, int native,
                    ll__series_loaded_t *out) {
  ll_symbolizer_t *sym = NULL;
  ll_snapshot_t raw;
  const ll_cap_lines_t *lines;
  const ll_cap_module_t *mods;
  const ll_cap_process_t *facts;
  size_t nmod;
  int rc, status = 0;

  memset(out, 0, sizeof *out);
  if ((out->arena = ll__arena_new()) == NULL) return ll__runtime_error(path, LL_ENOMEM, NULL);
  if (cap == NULL) {
    if ((rc = ll_capture_open(path, &out->cap)) != 0) goto fail;
    cap = out->cap;
  }
  rc = ll_capture_lines(cap, &lines);
  if (rc == LL_ENOVIEW) {
    status = -1; /* recorded before leaklab kept memory over time per line, or not a capture */
    goto done;
  }
  if (rc != 0) goto fail;
  out->lines = *lines;
  if ((rc = ll_capture_modules(cap, &mods, &nmod)) != 0) goto fail;
  /* The program (the image that wrote the capture: the last stage of its process chain) and
   * whether it was recorded with --native, the default attribution when native < 0. */
  const char *program = "";
  if (ll_capture_process(cap, &facts) == 0 && facts->nstage > 0)
    program = facts->stages[facts->nstage - 1].program;
  if (native < 0) native = ll_capture_native(cap);
  if ((rc = columns_snapshot(out->arena, &out->lines, &raw)) != 0) goto fail;
  if ((rc = ll_symbolizer_new(mods, nmod, &sym)) != 0) goto fail;
  if ((rc = ll_symbolize_snapshot(sym, &raw, native, &out->cols)) != 0) goto fail;
  if ((out->tbs = calloc(out->lines.ncols + 1, sizeof *out->tbs)) == NULL) {
    rc = LL_ENOMEM;
    goto fail;
  }
  for (uint32_t c = 0; c < out->lines.ncols; c++) out->tbs[c] = out->cols->traces[c].traceback;
  const ll_cap_lines_t *l = &out->lines;
  out->in = (ll__series_in_t){l->npts, l->ncols, l->clock, l->t_ns, l->total, l->val, out->tbs,
                              l->peak_pt == UINT32_MAX ? l->npts : l->peak_pt, program};
  goto done;
fail:
  status = ll__runtime_error(path, rc, " (memory over time per line)");
done:
  ll_symbolizer_free(sym);
  if (status != 0) ll__series_loaded_free(out);
  return status;
}

uint64_t ll__growth_default_min(const ll__series_in_t *in) {
  uint64_t peak = 0; /* the peak moment is one of the points */
  for (size_t p = 0; p < in->npts; p++)
    if (in->total[p] > peak) peak = in->total[p];
  return peak / 100;
}

void ll__print_growing(const char *path, const ll_capture_t *cap, int native) {
  ll__series_loaded_t s;
  ll__site_set_t set;
  if (ll__load_series(path, cap, native, &s) != 0) return; /* the report above stands alone */
  if (ll__series_by_site(&s.in, LL_GROUP_LINENO, &set) == 0) {
    uint64_t min = ll__growth_default_min(&s.in);
    size_t n = 0;
    for (size_t i = 0; i < set.n; i++)
      n += set.sites[i].growth.high >= min && set.sites[i].growth.kind == LL_GROWTH_GROWS;
    if (n > 0) {
      fputs("leaklab: still growing at the end of the run (leaklab report --growth):\n", stderr);
      ll__growth_write_growing(stderr, &set, min);
    }
    ll__site_set_free(&set);
  }
  ll__series_loaded_free(&s);
}

int ll__emit_growth(const char *path, const ll__series_loaded_t *s, ll_group_t group,
                    int64_t min_given, ll_format_t format, FILE *out, size_t *ngrow) {
  ll__site_set_t set;
  const ll__series_in_t in = s->in;
  int rc = ll__series_by_site(&in, group, &set);
  if (rc != 0) return ll__runtime_error(path, rc, NULL);
  /* A noticeable share: 1% of the peak unless the user said. */
  uint64_t min = min_given >= 0 ? (uint64_t)min_given : ll__growth_default_min(&in);
  rc = ll__growth_write(out, &in, &set, min, format);
  if (ngrow != NULL) {
    *ngrow = 0;
    for (size_t i = 0; i < set.n; i++)
      *ngrow += set.sites[i].growth.high >= min && set.sites[i].growth.kind == LL_GROWTH_GROWS;
  }
  ll__site_set_free(&set);
  return rc != 0 ? ll__runtime_error(path, rc, NULL) : 0;
}
