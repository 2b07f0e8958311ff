/* preload_capture.c - writing the capture file: the snapshots and every section, once, at the end. */
#include "preload_capture.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "capture_format.h"
#include "capture_reach.h"
#include "capture_write.h"
#include "engine.h"
#include "preload_async.h"
#include "preload_chain.h"
#include "preload_jemalloc.h"
#include "preload_leaks.h"
#include "preload_limits.h"
#include "preload_modules.h"
#include "preload_scan.h"
#include "preload_stack.h"
#include "preload_state.h"
#include "preload_timeline.h"
#include "snapfile.h"

static char g_path[4096];
static uint32_t g_flags;
/* Static: a crash on a small stack must still be able to write; one writer at a time. */
static ll_cap_histogram_t hist;
static unsigned char hist_buf[LL_CAP_HISTOGRAM_LEN];
_Static_assert(LL__HIST_BUCKETS == LL_CAP_HIST_BUCKETS, "the engine's size classes are the section's");

void ll__pl_capture_set_path(const char *path) {
  size_t n = strlen(path);
  if (n >= sizeof g_path) n = sizeof g_path - 1;
  memcpy(g_path, path, n);
  g_path[n] = '\0';
}

void ll__pl_capture_set_flags(uint32_t flags) { g_flags = flags; }
void ll__pl_capture_add_flags(uint32_t flags) { g_flags |= flags; }

/* The HISTOGRAM section: allocation counts and bytes by size class over the run. */
static size_t histogram_section(const void **data) {
  ll__get_size_histogram(hist.counts, hist.bytes);
  ll_cap_encode_histogram(hist_buf, &hist);
  *data = hist_buf;
  return sizeof hist_buf;
}

/* The LINES and TIMELINE sections: the engine's memory over time per traceback, and its totals
 * (the same points, on the program's clock), encoded into *len bytes of pages of our own (the
 * caller unmaps them): LINES' *lines_len bytes at *data, then TIMELINE's *tl_len at *tl. 0, or
 * an LL_E* code (LL_ENOVIEW: the engine kept no series). */
static int series_sections(void **data, size_t *len, size_t *lines_len, const void **tl,
                           size_t *tl_len) {
  ll__series_copy_t s;
  /* The last point is when the program stopped, not now (after the exit scan). */
  if (ll__pl_timeline_stop_ns() != 0) ll__series_event_time(ll__pl_timeline_stop_ns());
  int rc = ll__take_series(&s);
  if (rc != 0) return rc;
  uint64_t *t = ll__arena_alloc(s.arena, (s.npts + 1) * sizeof *t);
  uint64_t *clk = ll__arena_alloc(s.arena, (s.npts + 1) * sizeof *clk);
  uint64_t *tot = ll__arena_alloc(s.arena, (s.npts + 1) * sizeof *tot);
  ll_cap_lines_col_t *cols = ll__arena_alloc(s.arena, (s.ncols + 1) * sizeof *cols);
  ll_cap_point_t *pts = ll__arena_alloc(s.arena, (s.npts + 1) * sizeof *pts);
  uint64_t t0 = ll__pl_timeline_origin();
  rc = LL_ENOMEM;
  if (t == NULL || clk == NULL || tot == NULL || cols == NULL || pts == NULL) goto done;
  for (uint32_t i = 0; i < s.npts; i++) {
    t[i] = s.pts[i].t_ns;
    clk[i] = s.pts[i].clock;
    tot[i] = s.pts[i].total;
    /* The peak is a point of its own: each point's high is its total. */
    pts[i] = (ll_cap_point_t){t[i] > t0 ? t[i] - t0 : 0, tot[i], tot[i]};
  }
  for (uint32_t c = 0; c < s.ncols; c++)
    cols[c] = (ll_cap_lines_col_t){s.cols[c].nframe, s.cols[c].total_nframe, s.cols[c].ips};
  ll_cap_lines_t l = {s.npts, s.ncols, s.peak_pt, s.stride, cols, t, clk, tot, s.val};
  size_t llen = ll_cap_lines_size(&l), pad = (8 - llen % 8) % 8;
  *lines_len = llen;
  *tl_len = ll_cap_timeline_size(s.npts);
  *len = llen + pad + *tl_len;
  if ((*data = ll__mmap_alloc(*len)) == NULL) goto done;
  ll_cap_encode_lines(*data, &l, t0);
  *tl = (unsigned char *)*data + llen + pad;
  ll_cap_encode_timeline((unsigned char *)*tl, &(ll_cap_timeline_t){0, pts, s.npts});
  rc = 0;
done:
  ll__series_copy_free(&s);
  return rc;
}

int ll__pl_write_capture(int how, int sig, int partial) {
  ll_snapshot_t *peak = NULL, *end = NULL, *leaks = NULL, *tmp = NULL, *all = NULL, *lost = NULL,
                *reach = NULL;
  const ll_snapshot_t *snaps[7];
  ll__section_t sec[7];
  size_t nsnap = 0, nsec = 0;
  const void *data;
  size_t len;
  void *lines = NULL;
  size_t lines_len = 0, lines_only = 0;
  const void *tl = NULL;
  size_t tl_len = 0;
  int rc;

  /* From a signal handler, or from the helper after the program ended (its exit included):
   * no lock of the program's may be taken, and its maps are not this process's to read. */
  int late = how == LL_CAP_END_SIGNAL || ll__pl_helper;
  ll__pl_limits_for_capture(); /* a program at its RLIMIT_AS: the reserve is the writer's */
  if (ll__pl_async_holes() != 0)
    ll__pl_say("leaklab: a thread died inside leaklab with an event half-queued; the figures miss "
               "that event\n");
  if (!partial) {
    if ((rc = ll_take_peak_snapshot(&peak)) != 0) goto cleanup;
    if ((rc = ll_take_snapshot(&end)) != 0) goto cleanup;
    end->at = LL_AT_END;
    if ((rc = ll__pl_leaks_snapshot(end, &leaks)) != 0) goto cleanup;
    if ((rc = ll__take_temporary_snapshot(&tmp)) != 0) goto cleanup;
    if ((rc = ll__take_allocations_snapshot(&all)) != 0) goto cleanup;
    /* The exit scan (leak kinds, holders): left out, not fatal, when it cannot be done. */
    const void *rdata;
    size_t rlen;
    if (ll__pl_scan(how == LL_CAP_END_SIGNAL, &rdata, &rlen) == 0 &&
        ll__pl_scan_views(end, &lost, &reach) == 0) {
      sec[nsec++] = (ll__section_t){LL_CAP_SEC_REACH, 0, rdata, rlen};
      snaps[nsnap++] = lost;
      snaps[nsnap++] = reach;
    }
    snaps[nsnap++] = peak;
    snaps[nsnap++] = end;
    snaps[nsnap++] = leaks;
    snaps[nsnap++] = tmp;
    snaps[nsnap++] = all;
    len = histogram_section(&data);
    sec[nsec++] = (ll__section_t){LL_CAP_SEC_HISTOGRAM, 0, data, len};
    /* Not from a signal handler: mallctl takes jemalloc's locks. */
    if (!late && ll__pl_jemalloc_section(&data, &len) == 0)
      sec[nsec++] = (ll__section_t){LL_CAP_SEC_JEMALLOC, 0, data, len};
    /* Without them (no memory for them) the capture still has everything else. */
    if (series_sections(&lines, &lines_len, &lines_only, &tl, &tl_len) == 0) {
      sec[nsec++] = (ll__section_t){LL_CAP_SEC_LINES, 0, lines, lines_only};
      sec[nsec++] = (ll__section_t){LL_CAP_SEC_TIMELINE, 0, tl, tl_len};
    }
  }

  rc = late ? ll__pl_modules_encode(&data, &len)
                                : ll__pl_modules_snapshot(&data, &len);
  if (rc != 0) goto cleanup;
  sec[nsec++] = (ll__section_t){LL_CAP_SEC_MODULES, 0, data, len};

  ll_cap_process_t facts = {
      .pid = (uint32_t)ll__pl_pid,
      .ppid = ll__pl_helper ? 0 : (uint32_t)getppid(),
      .how = (uint32_t)how,
      .signal = sig,
      .flags = g_flags | (partial ? LL_CAP_F_PARTIAL : 0) |
               (ll__pl_async_lost() ? LL_CAP_F_HELPER_LOST | LL_CAP_F_PARTIAL : 0) |
               (ll__pl_helper ? LL_CAP_F_KILLED : 0),
      .frames = (uint32_t)ll__pl_stack_frames(),
      .unwind = (uint32_t)ll__pl_unwind_mode(),
  };
  len = ll__pl_chain_section(&facts, partial, &data);
  if (len == 0) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  sec[nsec++] = (ll__section_t){LL_CAP_SEC_PROCESS, 0, data, len};

  rc = ll__snapfile_write(g_path, snaps, nsnap, sec, nsec);

cleanup:
  if (rc != 0) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "leaklab: could not write the capture %s: %s\n", g_path,
                     ll_strerror(rc));
    if (n > 0) ll__pl_say(msg); /* snprintf truncates, always terminated */
    ll__pl_mark(LL_SAY_WRITE_FAILED); /* so leaklab run does not guess another cause */
  }
  ll__mmap_free(lines, lines_len);
  ll_snapshot_free(reach);
  ll_snapshot_free(lost);
  ll__pl_scan_release();
  ll_snapshot_free(leaks);
  ll_snapshot_free(tmp);
  ll_snapshot_free(all);
  ll_snapshot_free(end);
  ll_snapshot_free(peak);
  return rc;
}
