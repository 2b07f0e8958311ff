/* cli_html.c - `--format html` and `run --html`: load every moment and section of a capture (check's budget too) and hand them to the HTML reporter. */
#include "cli.h"
#include "arena.h"
#include "capture_format.h"
#include "html.h"
#include "snapfile.h"

#include <stdlib.h>
#include <string.h>

/* Flamegraph nodes under this share of their moment are merged ("(N small)"): a 50k-traceback
 * capture stays a few MB; the table of lines keeps everything. */
#define HTML_MIN_SHARE 0.001

/* The order the page offers the moments in; any other the file holds comes after. */
static const ll_at_t g_order[] = {LL_AT_PEAK, LL_AT_END, LL_AT_LEAKS, LL_AT_TEMPORARY, LL_AT_CURRENT};

typedef struct html_load {
  ll__arena_t *arena;
  ll_html_moment_t moments[32];
  ll_snapshot_t *snaps[64];
  ll_stats_t *stats[32];
  size_t nmoment, nsnap;
  ll_html_point_t *points;
  ll_html_stage_t *chain;
} html_load_t;

static void html_load_free(html_load_t *h) {
  for (size_t i = 0; i < h->nmoment; i++)
    if (h->stats[i] != NULL) ll_stats_free(h->stats[i]);
  for (size_t i = 0; i < h->nsnap; i++) ll_snapshot_free(h->snaps[i]);
  free(h->points);
  free(h->chain);
  if (h->arena != NULL) ll__arena_free(h->arena);
}

/* One section's bytes, or *data NULL when the file has none; 0 or an exit status. */
static int section(const char *file, uint32_t type, ll__arena_t *arena, const void **data,
                   size_t *len) {
  int rc = ll__snapfile_read_section(file, type, arena, data, len);
  if (rc == LL_ENOVIEW) *data = NULL;
  return rc == 0 || rc == LL_ENOVIEW ? 0 : ll__runtime_error(file, rc, NULL);
}

/* Moment `at` in its two attributions (own code; every frame when the file has native frames)
 * and the table's statistics. 0 or an exit status. */
static int load_moment(html_load_t *h, const char *file, ll_at_t at, unsigned mask,
                       const ll__report_args_t *ra, int has_native, int native_default) {
  ll__report_args_t own = *ra, all = *ra;
  ll_html_moment_t *m = &h->moments[h->nmoment];
  ll_snapshot_t *snap;
  int status, rc;

  own.native = 0;
  all.native = 1;
  memset(m, 0, sizeof *m);
  m->at = at;
  if ((status = ll__load_filtered(file, at, mask, &own, &snap)) != 0) return status;
  h->snaps[h->nsnap++] = snap;
  m->own = snap;
  if (has_native) {
    if ((status = ll__load_filtered(file, at, mask, &all, &snap)) != 0) return status;
    h->snaps[h->nsnap++] = snap;
    m->native = snap;
  }
  /* The table is the text report's: the attribution the capture (or --native) asks for. */
  const ll_snapshot_t *shown = native_default && m->native != NULL ? m->native : m->own;
  rc = ll_snapshot_statistics(shown, LL_GROUP_LINENO, 0, &h->stats[h->nmoment]);
  if (rc < 0) return ll__runtime_error(file, rc, NULL);
  m->lines = h->stats[h->nmoment];
  h->nmoment++;
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

int ll__emit_html(const char *file, unsigned mask, const ll__report_args_t *ra) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  html_load_t h;
  ll_html_input_t in;
  ll_cap_process_t proc;
  ll_cap_histogram_t hist;
  ll_jemalloc_stats_t je;
  ll_cap_budget_t limits;
  const void *data;
  size_t len;
  int status, rc, has_proc = 0, has_native;
  FILE *f;

  memset(&h, 0, sizeof h);
  memset(&in, 0, sizeof in);
  if ((h.arena = ll__arena_new()) == NULL) return ll__runtime_error(file, LL_ENOMEM, NULL);

  /* A module map means native frames: the page can show library frames too. */
  if ((status = section(file, LL_CAP_SEC_MODULES, h.arena, &data, &len)) != 0) goto cleanup;
  has_native = data != NULL;
  if ((status = section(file, LL_CAP_SEC_PROCESS, h.arena, &data, &len)) != 0) goto cleanup;
  if (data != NULL) {
    if ((rc = ll_cap_decode_process(data, len, h.arena, &proc)) != 0) {
      status = ll__runtime_error(file, rc, " (process section)");
      goto cleanup;
    }
    has_proc = 1;
  }
  in.native_default = ra->native >= 0 ? ra->native : has_proc && (proc.flags & LL_CAP_F_NATIVE);

  unsigned left = mask & ((1u << LL_AT__COUNT) - 1);
  for (size_t i = 0; i < sizeof g_order / sizeof g_order[0]; i++) {
    if (!(left & (1u << g_order[i]))) continue;
    left &= ~(1u << g_order[i]);
    if ((status = load_moment(&h, file, g_order[i], mask, ra, has_native, in.native_default)) != 0)
      goto cleanup;
  }
  for (int a = 0; a < LL_AT__COUNT; a++)
    if ((left & (1u << a)) &&
        (status = load_moment(&h, file, (ll_at_t)a, mask, ra, has_native, in.native_default)) != 0)
      goto cleanup;
  in.moments = h.moments;
  in.nmoment = h.nmoment;
  in.head = h.moments[0].own; /* ll__file_views made sure there is one */

  if (has_proc && proc.nstage > 0) {
    if ((h.chain = calloc(proc.nstage, sizeof *h.chain)) == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < proc.nstage; i++) {
      const ll_cap_stage_t *s = &proc.stages[i];
      h.chain[i] = (ll_html_stage_t){s->pid, s->program, s->peak, s->end, s->total_allocations,
                                     s->total_bytes};
    }
    in.chain = h.chain;
    in.nchain = proc.nstage;
  }
  if (has_proc) {
    in.how = how_name(proc.how);
    in.signal = proc.signal;
  }

  if ((status = section(file, LL_CAP_SEC_TIMELINE, h.arena, &data, &len)) != 0) goto cleanup;
  if (data != NULL) {
    ll_cap_point_t *pts;
    uint64_t interval;
    size_t n;
    if ((rc = ll_cap_decode_timeline(data, len, h.arena, &interval, &pts, &n)) != 0) {
      status = ll__runtime_error(file, rc, " (timeline section)");
      goto cleanup;
    }
    if ((h.points = calloc(n + 1, sizeof *h.points)) == NULL) {
      status = ll__runtime_error(file, LL_ENOMEM, NULL);
      goto cleanup;
    }
    for (size_t i = 0; i < n; i++) h.points[i] = (ll_html_point_t){pts[i].t_ns, pts[i].current, pts[i].high};
    in.points = h.points;
    in.npoint = n;
  }

  if ((status = section(file, LL_CAP_SEC_HISTOGRAM, h.arena, &data, &len)) != 0) goto cleanup;
  if (data != NULL) {
    if ((rc = ll_cap_decode_histogram(data, len, &hist)) != 0) {
      status = ll__runtime_error(file, rc, " (histogram section)");
      goto cleanup;
    }
    in.hist_counts = hist.counts;
    in.hist_bytes = hist.bytes;
    in.nbucket = LL_CAP_HIST_BUCKETS;
  }

  int has_je = ll__load_jemalloc(file, &je);
  if (has_je > 1) {
    status = has_je;
    goto cleanup;
  }
  in.jemalloc = has_je == 1 ? &je : NULL;
  /* The limits `check` held the run to, when it recorded this capture. */
  if ((status = section(file, LL_CAP_SEC_BUDGET, h.arena, &data, &len)) != 0) goto cleanup;
  if (data != NULL) {
    if ((rc = ll_cap_decode_budget(data, len, &limits)) != 0) {
      status = ll__runtime_error(file, rc, " (budget section)");
      goto cleanup;
    }
    if (limits.flags & LL_CAP_BUDGET_MEMORY) in.budget_bytes = &limits.limit_memory;
    if (limits.flags & LL_CAP_BUDGET_LEAKS) in.leak_limit_bytes = &limits.limit_leaks;
  }
  in.min_share = HTML_MIN_SHARE;

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
