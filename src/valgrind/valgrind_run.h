/* valgrind_run.h - internal: what `leaklab massif` and `leaklab memcheck` study (targets), and the --allocator note. */
#ifndef LEAKLAB_VALGRIND_RUN_H
#define LEAKLAB_VALGRIND_RUN_H
/*
 * Contract: CLI-side (malloc). Functions return 0 or a negative LL_E* code and,
 * where they take `msg`, leave one line there (no newline) saying what was wrong; the verbs
 * decide whether that is a usage error (exit 2) or a runtime failure (exit 3).
 */
#include <stddef.h>
#include <stdio.h>

#include "spawn.h"

/* The program a verb studies: any command, or a lesson's program (resolved by the CLI). */
typedef struct ll__target {
  char *name;   /* for reports/<name>/: "method_cache-leaky", or the program's base name */
  char *label;  /* for people: "method_cache:leaky --scale 0.1" or "./prog arg" */
  char **argv;  /* NULL-terminated; argv[0] is the program's path */
  int argc;
} ll__target_t;

/* A command: argv[0] is looked up in PATH when it has no '/'. LL_ENOENT when not found. */
int ll__target_program(int argc, char *const *argv, ll__target_t *t, char *msg, size_t msglen);
/* Give a target another name and label (a lesson's, resolved by the CLI's scenario.h). */
int ll__target_relabel(ll__target_t *t, const char *name, const char *label);
void ll__target_free(ll__target_t *t);

/* The note those verbs print for --allocator jemalloc: under valgrind the program allocates
 * from valgrind's own replacement malloc, so only leaklab's recording runs on jemalloc. */
void ll__valgrind_allocator_note(FILE *out, const char *verb, const char *allocator);

/* The hint printed when valgrind is missing. */
#define LL__VALGRIND_HINT " (install it: sudo apt-get install valgrind)"

#endif
