/* html.h - internal: the HTML report, one offline page (chart, flamegraphs, lines, summary) from what the CLI loaded. */
#ifndef LEAKLAB_REPORT_HTML_H
#define LEAKLAB_REPORT_HTML_H
/*
 * Contract: ll__report_html writes one self-contained HTML page: the embedded page (html_assets.h)
 * with the report's data inlined as JSON in <script type="application/json" id="leaklab-data">.
 * It reads only what the input holds (snapshots, statistics, plain arrays); loading a capture's
 * sections is the caller's job. Returns 0, LL_EINVAL for a malformed input, LL_ENOMEM, or
 * LL_EIO when writing fails.
 *
 * The JSON (version 1):
 *   {version, program, native_default (bool: the library-frame toggle's initial state),
 *    chain: [{pid, program, peak, end, total_allocations, total_bytes}]  (exec chain, oldest first),
 *    summary: {peak_bytes, end_bytes, total_allocations, total_bytes, untracked_allocations,
 *              untracked_bytes, how ("exit" | "_exit" | "signal" | null), signal,
 *              jemalloc: {allocated, active, resident, mapped} | null,
 *              budget: {limit_bytes, limit_leaks_bytes (each a number or null)} | null},
 *    timeline: {t_ns[], current[], high[] (the live bytes at each point, and the high-water mark
 *               reached since the previous one), peak_index (the point whose high is the peak),
 *               lines: [{key, values[], growth}] (each top line's live bytes at the same
 *               points, when the capture carries per-line series, and its growth verdict or
 *               null), other: [] | null (the rest, summed)},
 *    frames: ["function (file:line)", ...]  (names the trees point into),
 *    moments: [{at, total_bytes, total_blocks,
 *               trees: {own: {callers, inverted}, native: {callers, inverted} | null},
 *               lines: [[file, line, function, size, count, usable], ...]  (every line, largest
 *                      first: lineno statistics of the default attribution)}],
 *    histogram: [{lo, hi (inclusive), count, bytes}]  (non-empty buckets of every allocation),
 *    reach: {total: [bytes[4], blocks[4]],
 *            lines: [[frame, bytes[4], blocks[4], chain], ...]} | null
 *           (the exit scan, when the capture has one: memcheck's four kinds in its order -
 *           definitely, indirectly, possibly lost, still reachable - for the whole program and
 *           per line of the program's own code, frame an index into frames (the same index the
 *           trees use for that line), chain what holds the line up to its root, as --retainers
 *           prints it, "" when nothing does)}
 * A tree node is an array, [name, bytes (its whole subtree), blocks, [children, largest first]]
 * (no children: three items), name an index into frames or, for the root ("<at>") and merged
 * nodes, a string: arrays keep a 50k-traceback capture's page about half the size of objects. "callers" trees go from the
 * outermost frame down to the allocating line, "inverted" ones from the allocating line up to
 * its callers; "own" trees hold the program's own frames (the text report's attribution),
 * "native" ones every frame. Children under min_share of their moment's bytes are merged
 * into one ["(N small)", ...] node per parent, so big captures stay small; the lines stay whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <leaklab/leaklab.h>
#include <leaklab/report.h>

typedef struct ll_html_point {
  uint64_t t_ns, current, high;
} ll_html_point_t;

typedef struct ll_html_series {
  const char *key;         /* "file.c:12 (function)" */
  const uint64_t *values;  /* one per point */
  const char *growth;      /* its growth verdict ("grows", "bounded", "released"), or NULL */
} ll_html_series_t;

typedef struct ll_html_stage {
  uint32_t pid;
  const char *program;
  uint64_t peak, end, total_allocations, total_bytes;
} ll_html_stage_t;

typedef struct ll_html_moment {
  ll_at_t at;
  const ll_snapshot_t *own;    /* default attribution: trees "own" */
  const ll_snapshot_t *native; /* every frame (trees "native"), or NULL */
  const ll_stats_t *lines;     /* the table: lineno statistics */
} ll_html_moment_t;

typedef struct ll_html_input {
  const ll_snapshot_t *head;   /* the summary's figures (any moment: they are the run's) */
  int native_default;
  const ll_html_stage_t *chain;
  size_t nchain;
  const char *how;             /* "exit", "_exit", "signal" or NULL */
  int signal;
  const ll_jemalloc_stats_t *jemalloc; /* or NULL */
  const uint64_t *budget_bytes;        /* check's --limit-memory, or NULL */
  const uint64_t *leak_limit_bytes;    /* check's --limit-leaks, or NULL */
  const ll_html_point_t *points;
  size_t npoint;
  const ll_html_series_t *series;      /* per-line series, nseries of them, or NULL */
  size_t nseries;
  const uint64_t *other;               /* with series: the rest, per point; or NULL */
  const uint64_t *hist_counts, *hist_bytes; /* nbucket each (bucket 0: size 0, bucket i: sizes
                                               [2^(i-1), 2^i)), or NULL */
  size_t nbucket;
  const ll_html_moment_t *moments;
  size_t nmoment;
  const ll_reach_info_t *reach; /* the exit scan (own-code attribution), or NULL */
  double min_share;            /* 0: keep every node */
} ll_html_input_t;

int ll__report_html(FILE *out, const ll_html_input_t *in);

#endif
