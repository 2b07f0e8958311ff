/* cli.h - the `leaklab` command's verbs and the helpers they share (option parsing, errors, sizes). */
#ifndef LEAKLAB_CLI_H
#define LEAKLAB_CLI_H
/*
 * Contract: a verb's run() gets argv with argv[0] = the verb's name and returns the process exit
 * status: LL__EXIT_OK, LL__EXIT_LIMIT, LL__EXIT_USAGE (after one line on stderr naming the bad
 * text, via ll__usage_error) or LL__EXIT_RUNTIME (after one line naming the file and the error,
 * via ll__runtime_error). `--help` prints the verb's help on stdout and exits 0.
 * Adding a verb: a new cmd_<verb>.c defining `const ll__verb_t ll__verb_<verb>`, its declaration
 * below, and one line in the table in main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <leaklab/leaklab.h>
#include <leaklab/report.h>

#include "capture_read.h"

enum { LL__EXIT_OK = 0, LL__EXIT_LIMIT = 1, LL__EXIT_USAGE = 2, LL__EXIT_RUNTIME = 3 };

typedef struct ll__verb {
  const char *name;
  const char *synopsis; /* arguments after the name, for `leaklab --help` */
  const char *summary;  /* one line: what it does */
  const char *help;     /* the full text of `leaklab VERB --help`, newline-terminated */
  int (*run)(int argc, char **argv);
} ll__verb_t;

extern const ll__verb_t ll__verb_report;
extern const ll__verb_t ll__verb_diff;
extern const ll__verb_t ll__verb_massif, ll__verb_memcheck;
extern const ll__verb_t ll__verb_scenarios;
extern const ll__verb_t ll__verb_explain;
extern const ll__verb_t ll__verb_run;
extern const ll__verb_t ll__verb_check;

/* ---- errors (cli_util.c) -------------------------------------------------------------------- */

/* "leaklab: <what> (try 'leaklab VERB --help')" on stderr (VERB NULL: 'leaklab --help');
 * returns LL__EXIT_USAGE. */
int ll__usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "leaklab: <what>: <ll_strerror(err)><extra>" on stderr; returns LL__EXIT_RUNTIME. */
int ll__runtime_error(const char *what, int err, const char *extra);

/* ---- option parsing (cli_util.c) ------------------------------------------------------------ */

typedef struct ll__opt {
  const char *name; /* long name without dashes: "top" for --top */
  char short_name;  /* 'o' for -o, 0 for none */
  int has_arg;      /* takes a value: "--top 5", "--top=5", "-o out", "-oout" */
  int id;           /* returned by ll__opt_next, >= 0 */
} ll__opt_t;

enum {
  LL__OPT_END = -1,        /* no arguments left */
  LL__OPT_POSITIONAL = -2, /* *arg is a positional argument */
  LL__OPT_ERROR = -3,      /* a usage error was printed */
  LL__OPT_HELP = -4        /* --help or -h */
};

typedef struct ll__optstate {
  int argc;
  char **argv;
  int next;        /* index of the next argument, starts at 1 (argv[0] is the verb) */
  int positional;  /* after "--": everything is positional */
  const char *verb;
} ll__optstate_t;

void ll__opt_init(ll__optstate_t *st, const char *verb, int argc, char **argv);
/* Next option (its id, *arg its value or NULL) or one of LL__OPT_*. opts ends with name NULL. */
int ll__opt_next(ll__optstate_t *st, const ll__opt_t *opts, const char **arg);

/* ---- values (cli_util.c) -------------------------------------------------------------------- */

/* SIZE: ll_parse_size in <leaklab/budget.h>, shared with the cmocka assertions. */
/* --scale F of a lesson: a number with 0 < F <= 1; 0 or -1. */
int ll__parse_scale(const char *text);
/* A decimal integer in [min, max], nothing else around it; 0 or -1. */
int ll__parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* "current", "peak", "end", "leaks", "temporary", "allocations" -> ll_at_t; -1 when unknown. */
int ll__parse_at(const char *text);
/* "lineno", "filename", "traceback" -> ll_group_t; -1 when unknown. */
int ll__parse_group(const char *text);

/* ---- output (cli_util.c) -------------------------------------------------------------------- */

/* stdout for NULL or "-", else the file opened for writing; NULL after a runtime error line. */
FILE *ll__open_output(const char *path);
/* Close what ll__open_output gave (stdout is flushed, not closed); 0 or a runtime error's
 * exit status after printing it. */
int ll__close_output(FILE *f, const char *path);

/* ---- reading and reporting snapshots (cli_report_common.c) ---------------------------------- */

/* What report and diff share: which moment, grouping, filters, output. */
typedef struct ll__report_args {
  int at;               /* ll_at_t, or -1: choose from what the file(s) hold */
  ll_group_t group;
  int group_given;
  int cumulative;
  int top_given;
  uint64_t top;
  ll_format_t format;
  const char *output;   /* -o, NULL: stdout */
  ll_filter_t *filters; /* --include / --exclude, in order */
  size_t nfilter;
  int all_frames;
  int native;           /* --native 1, --no-native 0, -1: as the capture was recorded */
  int usable;           /* --usable: text lines end with ", usable=<size>" */
  ll_weight_t weight;   /* --weight: what a folded stack's number counts */
  int weight_given;
  int growth;           /* --growth: growth verdicts per site instead of a moment */
  int64_t growth_min;   /* --growth-min SIZE; -1: 1% of the peak */
  int retainers;        /* --retainers: text lines show what holds them (the exit scan) */
  const ll_reach_info_t *reach; /* the exit scan for the report, NULL: none */
} ll__report_args_t;

/* The options report and diff share, for ll__opt_next; ids below. */
extern const ll__opt_t ll__report_opts[];
enum {
  LL__RO_AT, LL__RO_GROUP, LL__RO_CUMULATIVE, LL__RO_TOP, LL__RO_FORMAT, LL__RO_OUTPUT,
  LL__RO_INCLUDE, LL__RO_EXCLUDE, LL__RO_ALL_FRAMES, LL__RO_NATIVE, LL__RO_NO_NATIVE,
  LL__RO_USABLE, LL__RO_WEIGHT, LL__RO_GROWTH, LL__RO_GROWTH_MIN, LL__RO_RETAINERS
};
/* Room for filters (at most one per argument); 0, or an exit status after an error line. */
int ll__report_args_init(ll__report_args_t *ra, int argc);
void ll__report_args_free(ll__report_args_t *ra);
/* Apply one shared option; 0, or LL__EXIT_USAGE after the error line. */
int ll__report_args_apply(ll__report_args_t *ra, const char *verb, int id, const char *arg);
/* Checks across options (--cumulative with traceback); 0 or LL__EXIT_USAGE. */
int ll__report_args_check(const ll__report_args_t *ra, const char *verb);
/* The whole command line of report and diff: the shared options into ra, and exactly nfile
 * positional files into files (`missing[k]`: the error when only k were given). 0, -1 after
 * printing `help` for --help, or an exit status after one error line. */
int ll__report_args_parse(ll__report_args_t *ra, const char *verb, const char *help, int argc,
                          char **argv, const char **files, size_t nfile,
                          const char *const *missing);

/* Open a capture or snapshot file once (*cap: close it with ll_capture_close, also after an
 * error) and the moments it holds (bit 1 << at); 0, or an exit status after a runtime error
 * line (unreadable, or no moment at all). */
int ll__open_capture(const char *path, ll_capture_t **cap, unsigned *mask);
/* The moment to show from the views available: peak, else end, else current, else the rest. */
int ll__default_at(unsigned mask);
/* Moment `at` of the open capture `path`, symbolised, with the filters applied; 0 or an exit
 * status after an error line. */
int ll__load_filtered(const char *path, const ll_capture_t *cap, ll_at_t at, unsigned mask,
                      const ll__report_args_t *ra, ll_snapshot_t **out);
/* Moments at[0..n) at once (ll_symbolize_moments: each traceback symbolised once), filtered:
 * own[i] in the own-code attribution and, when native is not NULL, native[i] with every frame
 * (ra->native is not read). 0 or an exit status after an error line (the outputs are then
 * NULL, or freed by the caller as they are). */
int ll__load_filtered_many(const char *path, const ll_capture_t *cap, const ll_at_t *at, size_t n,
                           unsigned mask, const ll__report_args_t *ra, ll_snapshot_t **own,
                           ll_snapshot_t **native);
/* Write the report to the output the args name, with jemalloc's figures when not NULL; 0 or an
 * exit status after an error line. */
int ll__emit_report(const ll__report_args_t *ra, const ll_snapshot_t *snap,
                    const ll_stats_t *stats, const ll_jemalloc_stats_t *jemalloc);
/* The run summary's churn hint (run_churn.c): when the capture's allocations outnumber the
 * blocks live at `peak` (a symbolised peak snapshot) vastly - at least 10,000 and 100 per block -
 * one line saying so and the 3 lines that allocated most often, on `out`. 0 (nothing printed
 * when there is no churn or the capture has no allocations view), or an LL_E* code. */
int ll__print_churn(FILE *out, const char *cap, int native, const ll_snapshot_t *peak);
/* --format pprof of moment `at` of `path` (report_pprof.c); 0 or an exit status after an error
 * line. */
int ll__emit_pprof(const char *path, const ll_capture_t *cap, ll_at_t at, unsigned mask,
                   const ll__report_args_t *ra);
/* jemalloc's figures a capture holds: 1 (in *out), 0 when it holds none (not recorded on
 * jemalloc, or not a capture), or an exit status (> 1) after an error line (a corrupt section). */
int ll__load_jemalloc(const char *path, const ll_capture_t *cap, ll_jemalloc_stats_t *out);

/* ---- the HTML report (cli_html.c) ------------------------------------------------------------ */

/* Every moment in `mask` of capture `file` (filtered and attributed as ra says), its timeline,
 * histogram, exec chain, jemalloc figures and the limits `check` recorded it with, as one
 * offline HTML page to ra->output. 0 or an exit status after an error line. */
int ll__emit_html(const char *file, const ll_capture_t *cap, unsigned mask,
                  const ll__report_args_t *ra);

/* Recording a program under the preload (run, check, massif, memcheck): record.h. */

/* The exit scan of a capture (cli_reach.c): found 0 when the capture has none. */
struct ll__arena;
typedef struct ll__reach_load {
  int found;
  ll_reach_info_t info;
  ll_snapshot_t *end; /* symbolised as the report's snapshot */
  struct ll__arena *arena;
} ll__reach_load_t;
/* 0 (found or not), or an exit status after an error line. native as ll_symbolize_load's. */
int ll__load_reach(const char *path, int native, ll__reach_load_t *out);
/* The same from a capture already open (path only names it in errors): one read of the file. */
int ll__load_reach_cap(const char *path, const ll_capture_t *cap, int native,
                       ll__reach_load_t *out);
void ll__reach_load_free(ll__reach_load_t *r);

#endif
