/* cli_html.c - `--format html` and `run --html`: load every moment and section of a capture (check's budget too) and hand them to the HTML reporter. */
#include "cli.h"
#include "cli_growth.h"
#include "arena.h"
#include "html.h"

#include <stdlib.h>
#include <string.h>

/* Flamegraph nodes under this share of their moment are merged ("(N small)"): a 50k-traceback
 * capture stays a few MB; the table of lines keeps everything. */
#define HTML_MIN_SHARE 0.001

/* The order the page offers the moments in; any other the file holds comes after. */
static const ll_at_t g_order[] = {LL_AT_PEAK, LL_AT_END, LL_AT_LEAKS, LL_AT_TEMPORARY, LL_AT_CURRENT};

/* Lines stacked on the chart (the rest is "other"). */
#define HTML_MAX_BANDS 8

typedef struct html_load {
  ll__arena_t *arena;
  ll__series_loaded_t series; /* memory over time per line, when the capture has it */
  int has_series;              /* sites hold the series' lines (it had points) */
  ll__site_set_t sites;
  ll_html_series_t bands[HTML_MAX_BANDS];
  char keys[HTML_MAX_BANDS][512];
  ll_html_moment_t moments[32];
  ll_snapshot_t *snaps[64];
  ll_stats_t *stats[32];
  size_t nmoment, nsnap;
  ll_html_point_t *points;
  ll_html_stage_t *chain;
  ll__reach_load_t reach; /* the exit scan, own-code attribution (the page's kinds and chains) */
} html_load_t;

static void html_load_free(html_load_t *h) {
  if (h->has_series) ll__site_set_free(&h->sites);
  if (h->series.arena != NULL) ll__series_loaded_free(&h->series); /* loaded, drawn or not */
  for (size_t i = 0; i < h->nmoment; i++)
    if (h->stats[i] != NULL) ll_stats_free(h->stats[i]);
  for (size_t i = 0; i < h->nsnap; i++) ll_snapshot_free(h->snaps[i]);
  free(h->points);
  free(h->chain);
  ll__reach_load_free(&h->reach);
  if (h->arena != NULL) ll__arena_free(h->arena);
}

/* A section accessor's answer (capture_read.h): 0 when decoded or absent, else an exit status
 * after the error line naming the section. */
static int section_status(const char *file, int rc, const char *what) {
  return rc == 0 || rc == LL_ENOVIEW ? 0 : ll__runtime_error(file, rc, what);
}

/* Moments ats[0..n) in their two attributions (own code; every frame when the file has native
 * frames), symbolised together, and each table's statistics. 0 or an exit status. */
static int load_moments(html_load_t *h, const char *file, const ll_capture_t *cap,
                        const ll_at_t *ats, size_t n, unsigned mask, const ll__report_args_t *ra,
                        int has_native, int native_default) {
  ll_snapshot_t *own[LL_AT__COUNT] = {0}, *all[LL_AT__COUNT] = {0};
  int status = ll__load_filtered_many(file, cap, ats, n, mask, ra, own, has_native ? all : NULL);
  for (size_t i = 0; i < n; i++) { /* freed with h, whatever happened */
    if (own[i] != NULL) h->snaps[h->nsnap++] = own[i];
    if (all[i] != NULL) h->snaps[h->nsnap++] = all[i];
  }
  if (status != 0) return status;
  for (size_t i = 0; i < n; i++) {
    ll_html_moment_t *m = &h->moments[h->nmoment];
    memset(m, 0, sizeof *m);
    m->at = ats[i];
    m->own = own[i];
    m->native = has_native ? all[i] : NULL;
    /* The table is the text report's: the attribution the capture (or --native) asks for. */
    const ll_snapshot_t *shown = native_default && m->native != NULL ? m->native : m->own;
    int rc = ll_snapshot_statistics(shown, LL_GROUP_LINENO, 0, &h->stats[h->nmoment]);
    if (rc < 0) return ll__runtime_error(file, rc, NULL);
    m->lines = h->stats[h->nmoment];
    h->nmoment++;
  }
  return 0;
}

static const char *how_name(uint32_t how) {
  switch (how) {
  case LL_CAP_END_EXIT: return "exit";
  case LL_CAP_END__EXIT: return "_exit";
  case LL_CAP_END_SIGNAL: return "signal";
  default: return NULL;
  }
}

int ll__emit_html(const char *file, const ll_capture_t *cap, unsigned mask,
                  const ll__report_args_t *ra) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  html_load_t h;
  ll_html_input_t in;
  const ll_cap_module_t *mods;
  const ll_cap_process_t *proc;
  const ll_cap_timeline_t *tl;
  const ll_cap_histogram_t *hist;
  const ll_cap_budget_t *limits;
  ll_jemalloc_stats_t je;
  size_t nmod;
  int status, rc, has_proc = 0, has_native;
  FILE *f;

  memset(&h, 0, sizeof h);
  memset(&in, 0, sizeof in);
  if ((h.arena = ll__arena_new()) == NULL) return ll__runtime_error(file, LL_ENOMEM, NULL);

  /* A module map means native frames: the page can show library frames too. */
  has_native = ll_capture_modules(cap, &mods, &nmod) != LL_ENOVIEW;
  rc = ll_capture_process(cap, &proc);
  if ((status = section_status(file, rc, " (process section)")) != 0) goto cleanup;
  has_proc = rc == 0;
  in.native_default = ra->native >= 0 ? ra->native : ll_capture_native(cap);

  /* The page's order first, then any other moment the file holds. */
  unsigned left = mask & ((1u << LL_AT__COUNT) - 1);
  ll_at_t ats[LL_AT__COUNT];
  size_t nat = 0;
  for (size_t i = 0; i < sizeof g_order / sizeof g_order[0]; i++)
    if (left & (1u << g_order[i])) {
      left &= ~(1u << g_order[i]);
      ats[nat++] = g_order[i];
    }
  for (int a = 0; a < LL_AT__COUNT; a++)
    if (left & (1u << a)) ats[nat++] = (ll_at_t)a;
  if ((status = load_moments(&h, file, cap, ats, nat, mask, ra, has_native, in.native_default)) != 0)
    goto cleanup;
  in.moments = h.moments;
  in.nmoment = h.nmoment;
  in.head = h.moments[0].own; /* ll__open_capture made sure there is one */

  if (has_proc && proc->nstage > 0) {
    if ((h.chain = calloc(proc->nstage, sizeof *h.chain)) == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < proc->nstage; i++) {
      const ll_cap_stage_t *s = &proc->stages[i];
      h.chain[i] = (ll_html_stage_t){s->pid, s->program, s->peak, s->end, s->total_allocations,
                                     s->total_bytes};
    }
    in.chain = h.chain;
    in.nchain = proc->nstage;
  }
  if (has_proc) {
    in.how = how_name(proc->how);
    in.signal = proc->signal;
  }

  rc = ll_capture_timeline(cap, &tl);
  if ((status = section_status(file, rc, " (timeline section)")) != 0) goto cleanup;
  if (rc == 0) {
    const ll_cap_point_t *pts = tl->points;
    size_t n = tl->npoint;
    if ((h.points = calloc(n + 1, sizeof *h.points)) == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < n; i++) h.points[i] = (ll_html_point_t){pts[i].t_ns, pts[i].current, pts[i].high};
    in.points = h.points;
    in.npoint = n;
  }

  /* Memory over time per line: its points replace the timeline's (a few hundred, on the
   * allocation clock, the peak moment exactly one of them), and the top lines stack under the
   * total, each with its growth verdict. */
  if ((status = ll__load_series(file, cap, in.native_default, &h.series)) > 0) goto cleanup;
  if (status == 0 && h.series.in.npts > 0) {
    const ll__series_in_t *sv = &h.series.in;
    h.has_series = 1;
    if ((rc = ll__series_by_site(sv, LL_GROUP_LINENO, &h.sites)) != 0) {
      status = ll__runtime_error(file, rc, NULL);
      goto cleanup;
    }
    free(h.points);
    if ((h.points = calloc(sv->npts + 1, sizeof *h.points)) == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < sv->npts; i++)
      h.points[i] = (ll_html_point_t){sv->t_ns[i], sv->total[i], sv->total[i]};
    in.points = h.points;
    in.npoint = sv->npts;
    size_t nb = h.sites.n < HTML_MAX_BANDS ? h.sites.n : HTML_MAX_BANDS;
    /* Verdicts as `report --growth` gives them, for the lines it judges. */
    uint64_t min = ll__growth_default_min(sv);
    for (size_t b = 0; b < nb; b++) {
      const ll__site_series_t *site = &h.sites.sites[b];
      const ll_frame_t *fr = site->key->nframe > 0 ? &site->key->frames[0] : NULL;
      if (fr != NULL && fr->function != NULL && fr->function[0] != '\0')
        snprintf(h.keys[b], sizeof h.keys[b], "%s:%u (%s)", fr->filename, fr->lineno, fr->function);
      else
        snprintf(h.keys[b], sizeof h.keys[b], "%s:%u", fr != NULL ? fr->filename : "<unknown>",
                 fr != NULL ? fr->lineno : 0);
      h.bands[b] = (ll_html_series_t){
          h.keys[b], site->bytes,
          site->growth.high >= min ? ll__growth_name(site->growth.kind) : NULL};
    }
    /* "other": the total less the bands shown (the lines not shown join it). */
    uint64_t *other = ll__arena_alloc(h.arena, (sv->npts + 1) * sizeof *other);
    if (other == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < sv->npts; i++) {
      uint64_t sum = 0;
      for (size_t b = 0; b < nb; b++) sum += h.bands[b].values[i];
      other[i] = sv->total[i] > sum ? sv->total[i] - sum : 0;
    }
    in.series = h.bands;
    in.nseries = nb;
    in.other = other;
  }
  status = 0;

  rc = ll_capture_histogram(cap, &hist);
  if ((status = section_status(file, rc, " (histogram section)")) != 0) goto cleanup;
  if (rc == 0) {
    in.hist_counts = hist->counts;
    in.hist_bytes = hist->bytes;
    in.nbucket = LL_CAP_HIST_BUCKETS;
  }

  int has_je = ll__load_jemalloc(file, cap, &je);
  if (has_je > 1) {
    status = has_je;
    goto cleanup;
  }
  in.jemalloc = has_je == 1 ? &je : NULL;
  /* The limits `check` held the run to, when it recorded this capture. */
  rc = ll_capture_budget(cap, &limits);
  if ((status = section_status(file, rc, " (budget section)")) != 0) goto cleanup;
  if (rc == 0) {
    if (limits->flags & LL_CAP_BUDGET_MEMORY) in.budget_bytes = &limits->limit_memory;
    if (limits->flags & LL_CAP_BUDGET_LEAKS) in.leak_limit_bytes = &limits->limit_leaks;
  }
  in.min_share = HTML_MIN_SHARE;
  /* The exit scan's kinds and chains, attributed as the own-code trees are. */
  if ((status = ll__load_reach_cap(file, cap, 0, &h.reach)) != 0) goto cleanup;
  if (h.reach.found) in.reach = &h.reach.info;

  if ((f = ll__open_output(ra->output)) == NULL) {
    status = LL__EXIT_RUNTIME;
    goto cleanup;
  }
  rc = ll__report_html(f, &in);
  status = ll__close_output(f, name);
  if (rc < 0 && status == LL__EXIT_OK) status = ll__runtime_error(name, rc, NULL);
cleanup:
  html_load_free(&h);
  return status;
}
