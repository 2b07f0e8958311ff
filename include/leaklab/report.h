/* report.h - public reporters: tracemalloc's text lines exactly, JSON, collapsed stacks, and the format names. */
#ifndef LEAKLAB_REPORT_H
#define LEAKLAB_REPORT_H
/*
 * Contract: reporters only read snapshots and statistics; they never touch the live table.
 * Text is byte-for-byte tracemalloc's format (see ll_format_size / ll_format_stat). Functions
 * returning int return 0 on success or a negative LL_E* code (LL_EIO when writing fails).
 */
#include <leaklab/leaklab.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tracemalloc's _format_size: B, KiB, MiB, GiB, TiB; "%.1f" under 100 (not for B), "%.0f" under
 * 10 KiB-of-the-unit or at TiB. sign != 0 gives the "%+" form used by diffs. snprintf semantics:
 * returns the length the full text needs. */
LL_API int ll_format_size(char *buf, size_t len, double size, int sign);

/* One statistic as tracemalloc's Statistic/StatisticDiff __str__ prints it, no newline:
 *   "file.c:12: size=124 B, count=3, average=41 B"
 *   "file.c:12: size=124 B (+24 B), count=3 (+1), average=41 B"   (is_diff)
 * average= is omitted when count is 0. The key shown is traceback->frames[0]; a frame with no
 * line but a function (a library without debug information; MODULE+0xOFFSET in a stripped one)
 * reads "libfoo.so.1:0 (function): size=...". snprintf semantics. */
LL_API int ll_format_stat(char *buf, size_t len, const ll_stat_t *st, int is_diff);

typedef enum ll_format {
  LL_FORMAT_TEXT = 0,
  LL_FORMAT_JSON = 1,
  LL_FORMAT_MASSIF = 2, /* valgrind's massif.out: written from snapshots, not statistics (the
                           `leaklab report --format massif` verb); ll_report_write rejects it */
  LL_FORMAT_FOLDED = 3, /* collapsed stacks (ll_report_folded), from a snapshot's tracebacks */
  LL_FORMAT_PPROF = 4,  /* gzip'd profile.proto, written by the `leaklab` command only */
  LL_FORMAT_HTML = 5    /* one offline page of every moment of a capture (`leaklab report
                           --format html`, `run --html`); ll_report_write rejects it */
} ll_format_t;
/* Parse "text", "json", "massif", "folded", "pprof", "html"; -1 when unknown. */
LL_API int ll_format_parse(const char *name);

/* jemalloc's own figures (mallctl "stats.*", bytes) at the end of a recorded run. */
typedef struct ll_jemalloc_stats {
  uint64_t allocated; /* usable bytes of the application's live blocks (size classes) */
  uint64_t active;    /* bytes of pages holding them (whole pages) */
  uint64_t resident;  /* bytes of jemalloc's pages in RAM: active, its metadata, dirty pages */
  uint64_t mapped;    /* bytes of the extents jemalloc has mapped and in use */
} ll_jemalloc_stats_t;

/* What the exit scan found, for reporters (the CLI reads it from a capture's REACH section and
 * names the roots). Arrays index the traces of `end`, the symbolised end snapshot. Kinds are in
 * memcheck's order: definitely lost, indirectly lost, possibly lost, still reachable. */
#define LL_REACH_KINDS 4
typedef struct ll_reach_kinds {
  uint64_t bytes[LL_REACH_KINDS], blocks[LL_REACH_KINDS];
} ll_reach_kinds_t;
typedef struct ll_reach_edge {
  size_t holder, held; /* blocks of trace `held` first held by a block of trace `holder` */
  uint64_t blocks, bytes;
} ll_reach_edge_t;
typedef struct ll_reach_root {
  size_t held;      /* blocks of trace `held` first held by this root */
  const char *kind; /* "global", "stack", "tls", "register" */
  const char *what; /* e.g. "global g_memo (method_cache.c)", "stack of thread 0 in main" */
  uint64_t blocks, bytes;
} ll_reach_root_t;
typedef struct ll_reach_info {
  const ll_snapshot_t *end;
  const ll_reach_kinds_t *traces; /* end->ntraces of them */
  ll_reach_kinds_t total;         /* every block live at exit */
  size_t nedge;
  const ll_reach_edge_t *edges;
  size_t nroot;
  const ll_reach_root_t *roots;
  uint64_t scan_ns, cpu_ns, heap_read, root_read; /* the scan's cost: wall and CPU time, bytes of
                                                     blocks and roots read */
  uint32_t threads;                       /* threads whose stacks were roots */
} ll_reach_info_t;

typedef struct ll_report_opts {
  size_t top;        /* lines to show, 0 = all */
  ll_format_t format;
  int usable;        /* text: append ", usable=<size>" (the allocator's usable bytes) to each line */
  const ll_jemalloc_stats_t *jemalloc; /* NULL, or the run's jemalloc figures to show */
  const ll_reach_info_t *reach; /* NULL, or the exit scan: json gets "leak_kinds" (whole program)
                                   and per site its kinds and "held_by" (not cumulative) */
  int retainers;                /* text, with reach: under each line the chain holding it */
} ll_report_opts_t;

/* A whole report of `stats` (made from `snap`; for diffs, from the new snapshot) to `out`.
 * text: a one-line heading, then one tracemalloc line per statistic (traceback grouping adds
 * the frames, indented, under each line), then "...and N more" when top cut the list:
 *   [ Top 2 of 5 lines (cumulative) at peak of ./prog: peak=10.1 KiB, end=224 B,
 *     6 allocations totalling 10.2 KiB, 2 untracked (20.0 KiB) ]          (one line)
 *   jemalloc at end: allocated=12.0 KiB, active=16.0 KiB, resident=8192 KiB, mapped=8292 KiB
 *   app.c:20: size=10.0 KiB, count=1, average=10.0 KiB
 *       app.c:20 (load_table)                       (traceback grouping, most recent first)
 *   ...and 3 more
 * The jemalloc line only when opts->jemalloc is set. opts->usable appends ", usable=<size>"
 * to each statistic line (e.g. "..., average=17 B, usable=32 B"), the allocator's usable bytes
 * (jemalloc's size classes, glibc's chunk slack); the lines are tracemalloc's exactly without
 * it. For diffs it is the new snapshot's usable size.
 * "lines" is "files"/"tracebacks" by grouping, "line differences" etc. for diffs; "of N" only
 * when top cut; "[ No lines ..." when empty; "of PROGRAM" when known; "(cumulative)" and
 * "untracked" only when they apply. end= is snap->current_bytes; the figures are snap's.
 * json: one object with program, at, group_by, cumulative, diff, peak_bytes, end_bytes,
 * total_allocations, total_bytes, untracked_allocations, untracked_bytes, sites_total (before
 * top), jemalloc: {at: "end", allocated, active, resident, mapped} (only with opts->jemalloc)
 * and sites: [{file, line, function, size, usable, count, (size_diff, count_diff,)
 * frames: [{file, line, function, ip}]}]. Bytes of names that are not UTF-8 become U+FFFD.
 * LL_FORMAT_MASSIF, _FOLDED and _PPROF give LL_EINVAL here (they are written from snapshots). */
LL_API int ll_report_write(FILE *out, const ll_snapshot_t *snap, const ll_stats_t *stats,
                           const ll_report_opts_t *opts);

/* What a collapsed stack's number counts. */
typedef enum ll_weight { LL_WEIGHT_BYTES = 0, LL_WEIGHT_COUNT = 1 } ll_weight_t;

/* Brendan Gregg's collapsed stacks (flamegraph.pl, inferno, speedscope read them), one line per
 * traceback of `snap`, root first, frames separated by ';', then a space and the weight: the
 * requested bytes of its blocks, or their count with LL_WEIGHT_COUNT:
 *   main (app.c:40);load_table (app.c:20) 10240
 * A frame reads "function (file:line)", "function (file)" when the line is not known, the
 * address (0x...) or "???" for the function when that is not known; ';' and control bytes in
 * names become '?'. A traceback cut by the traceback limit starts with the frame
 * "[older frames not kept]". Tracebacks that read the same are one line (weights added), lines
 * are sorted, zero weights left out: the weights add up to the snapshot's bytes (or blocks). */
LL_API int ll_report_folded(FILE *out, const ll_snapshot_t *snap, ll_weight_t weight);

#ifdef __cplusplus
}
#endif
#endif /* LEAKLAB_REPORT_H */
