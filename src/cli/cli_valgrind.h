/* cli_valgrind.h - what `massif` and `memcheck` share: their options, the program they study, its folder, leaklab's recording of it. */
#ifndef LEAKLAB_CLI_VALGRIND_H
#define LEAKLAB_CLI_VALGRIND_H

#include <limits.h>
#include <stdint.h>

#include <leaklab/leaklab.h>

#include "valgrind_run.h"

typedef struct ll__valgrind_request {
  const char *spec;      /* SCENARIO[:VARIANT], or NULL */
  const char *scale;     /* --scale, lessons only */
  const char *allocator; /* --allocator NAME, for leaklab's side of the comparison */
  const char *allocator_lib; /* its library (ll__allocator_library), NULL: none */
  const char *outdir;    /* -o DIR, NULL: reports/<name> */
  char **prog;           /* "-- PROGRAM [ARGS...]", or NULL */
  int nprog;
  const char *existing;  /* the tool's output read as it is (--file / --xml), or NULL */
  const char *capture;   /* --capture, with `existing` only */
  uint64_t top;          /* --top, 10 by default, 0: all */
} ll__valgrind_request_t;

/* leaklab's size and count at the line valgrind names (FILE as valgrind gives it, a base name,
 * and LINE), summed over the lines of lineno statistics whose file has that base name: 1 when
 * there is one, else 0 (FILE NULL or "": none). */
int ll__valgrind_leaklab_at(const ll_stats_t *stats, const char *file, unsigned line,
                            uint64_t *size, uint64_t *count);
/* The part of a path after its last '/'. */
const char *ll__base_name(const char *path);

/* One massif or memcheck command: what it was asked, and leaklab's side of it. */
typedef struct ll__valgrind_run {
  ll__valgrind_request_t rq;
  ll__target_t target;     /* argv NULL when the tool's output is read as it is */
  char dir[PATH_MAX];      /* the folder of the tool's and leaklab's files */
  char cap[PATH_MAX + 32]; /* leaklab's capture, DIR/leaklab.capture, once recorded */
  const char *capture;     /* the capture to compare with (recorded or --capture), or NULL */
  int record_failed;       /* leaklab's recording failed (its line printed) */
  int wait_status;         /* how the recorded program ended (waitpid's status) */
  double leaklab_s;        /* its wall time */
} ll__valgrind_run_t;

/* Parse the options both verbs take: SCENARIO[:VARIANT] or -- PROGRAM, --scale, -o, --top,
 * --allocator, --capture, and --EXISTING (`existing_opt`: "file" for massif, "xml" for
 * memcheck) naming a tool output to read instead of running valgrind; unless it is given,
 * resolve the target (lesson or program), print the allocator note and make its folder.
 * 0, -1 after printing `help` for --help, or an exit status after one error line. */
int ll__valgrind_begin(ll__valgrind_run_t *v, const char *verb, const char *existing_opt,
                       const char *help, int argc, char **argv);
/* Run the target under `valgrind --tool=VERB OUT_OPT<DIR/OUT_NAME> OPTS... PROGRAM ARGS...`,
 * valgrind's own output into DIR/VERB.log, a progress line every 3 s ("slow": how much slower
 * valgrind is, for the first line); then check that it wrote DIR/OUT_NAME (its path into out).
 * 0, or an exit status after one error line (valgrind missing, or no output written). */
int ll__valgrind_tool(const ll__valgrind_run_t *v, const char *verb, const char *slow,
                      const char *out_name, const char *out_opt, char *const *opts, size_t nopts,
                      char *out, size_t outlen, double *seconds);
/* Record the target in-process as `leaklab run -o DIR/leaklab.capture [--allocator NAME]`
 * does, the program's output into DIR/leaklab-run.log, a progress line every 3 s. A failure
 * is kept (its line printed), so that the tool's side can still be shown. No-op without a
 * target. */
void ll__valgrind_record(ll__valgrind_run_t *v, const char *verb);
/* After the report: flush stdout, free what begin took; the exit status: `status`, or 3 when
 * stdout failed or leaklab's recording did, or 128+N, as `run` gives, when signal N killed the
 * program (said in one line). */
int ll__valgrind_end(ll__valgrind_run_t *v, int status);

#endif
