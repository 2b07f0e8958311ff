/* cli_valgrind.h - what `massif` and `memcheck` share: the program they study and its folder. */
#ifndef LEAKLAB_CLI_VALGRIND_H
#define LEAKLAB_CLI_VALGRIND_H

#include "valgrind_run.h"

typedef struct ll__valgrind_request {
  const char *spec;      /* SCENARIO[:VARIANT], or NULL */
  const char *scale;     /* --scale, lessons only */
  const char *allocator; /* --allocator, for leaklab's side of the comparison */
  const char *outdir;    /* -o DIR, NULL: reports/<name> */
  char **prog;           /* "-- PROGRAM [ARGS...]", or NULL */
  int nprog;
} ll__valgrind_request_t;

/* Check the request, resolve the target (lesson or program), print the allocator note and make
 * its folder (into dir). 0, or an exit status after one error line (nothing to free then). */
int ll__valgrind_prepare(const char *verb, const ll__valgrind_request_t *rq, ll__target_t *t,
                         char *dir, size_t dirlen);

#endif
