/* cli_valgrind.h - what `massif` and `memcheck` share: the program they study and its folder. */
#ifndef LEAKLAB_CLI_VALGRIND_H
#define LEAKLAB_CLI_VALGRIND_H

#include <stdint.h>

#include "valgrind_run.h"

typedef struct ll__valgrind_request {
  const char *spec;      /* SCENARIO[:VARIANT], or NULL */
  const char *scale;     /* --scale, lessons only */
  const char *allocator; /* --allocator, for leaklab's side of the comparison */
  const char *outdir;    /* -o DIR, NULL: reports/<name> */
  char **prog;           /* "-- PROGRAM [ARGS...]", or NULL */
  int nprog;
  const char *existing;  /* the tool's output read as it is (--file / --xml), or NULL */
  const char *capture;   /* --capture, with `existing` only */
  uint64_t top;          /* --top, 10 by default, 0: all */
} ll__valgrind_request_t;

/* Parse the options both verbs take: SCENARIO[:VARIANT] or -- PROGRAM, --scale, -o, --top,
 * --allocator, --capture, and --EXISTING (`existing_opt`: "file" for massif, "xml" for
 * memcheck) naming a tool output to read instead of running valgrind. 0, -1 after printing
 * `help` for --help, or an exit status after one error line. */
int ll__valgrind_parse(const char *verb, const char *existing_opt, const char *help, int argc,
                       char **argv, ll__valgrind_request_t *rq);

/* Check the request, resolve the target (lesson or program), print the allocator note and make
 * its folder (into dir). 0, or an exit status after one error line (nothing to free then). */
int ll__valgrind_prepare(const char *verb, const ll__valgrind_request_t *rq, ll__target_t *t,
                         char *dir, size_t dirlen);

#endif
