/* valgrind_run.h - internal: what `leaklab massif` and `leaklab memcheck` share (targets, running tools). */
#ifndef LEAKLAB_VALGRIND_RUN_H
#define LEAKLAB_VALGRIND_RUN_H
/*
 * Contract: CLI-side (malloc, fork, exec). Functions return 0 or a negative LL_E* code and,
 * where they take `msg`, leave one line there (no newline) saying what was wrong; the verbs
 * decide whether that is a usage error (exit 2) or a runtime failure (exit 3).
 */
#include <stddef.h>
#include <stdio.h>

/* The program a verb studies: any command, or a lesson's program (resolved by the CLI). */
typedef struct ll__target {
  char *name;   /* for reports/<name>/: "method_cache-leaky", or the program's base name */
  char *label;  /* for people: "method_cache:leaky --scale 0.1" or "./prog arg" */
  char **argv;  /* NULL-terminated; argv[0] is the program's path */
  int argc;
  const char *allocator; /* --allocator for leaklab's recording (not owned), NULL: none */
} ll__target_t;

/* A command: argv[0] is looked up in PATH when it has no '/'. LL_ENOENT when not found. */
int ll__target_program(int argc, char *const *argv, ll__target_t *t, char *msg, size_t msglen);
/* Give a target another name and label (a lesson's, resolved by the CLI's scenario.h). */
int ll__target_relabel(ll__target_t *t, const char *name, const char *label);
void ll__target_free(ll__target_t *t);

/* The full path of an executable found in PATH (or `name` itself when it holds a '/'), into
 * out; LL_ENOENT when there is none. */
int ll__find_program(const char *name, char *out, size_t len);
/* Path of the running leaklab binary (/proc/self/exe). */
int ll__self_exe(char *out, size_t len);
/* mkdir -p. */
int ll__mkdir_p(const char *dir);

/* Run argv (argv[0] a path) with stdin from /dev/null and stdout + stderr to `log` (NULL: keep
 * ours). While it runs, print "leaklab VERB: WHAT ... N s" on stderr every `every` seconds (0:
 * never). *status gets waitpid's status, *seconds the wall time. LL_ENOENT/LL_EACCES when the
 * program could not be started. */
int ll__run_logged(char *const argv[], const char *log, const char *verb, const char *what,
                   double every, int *status, double *seconds);

/* Record the target with the leaklab binary itself, `leaklab run -o DIR/leaklab.capture
 * [--allocator NAME] -- PROGRAM...` (the very recorder `leaklab run` uses), its output in DIR/leaklab-run.log, a
 * progress line every few seconds. The capture's path goes to cap. 0, or a code and msg. */
int ll__record_leaklab(const ll__target_t *t, const char *dir, const char *verb, char *cap,
                       size_t caplen, double *seconds, char *msg, size_t msglen);

/* --allocator NAME of massif and memcheck: 0 for glibc or jemalloc, else -1. */
int ll__valgrind_allocator_ok(const char *name);
/* The note those verbs print for --allocator jemalloc: under valgrind the program allocates
 * from valgrind's own replacement malloc, so only leaklab's recording runs on jemalloc. */
void ll__valgrind_allocator_note(FILE *out, const char *verb, const char *allocator);

/* "exited with status 3", "killed by signal 9 (Killed)" for a wait status. */
void ll__describe_status(int status, char *buf, size_t len);

/* The hint printed when valgrind is missing. */
#define LL__VALGRIND_HINT " (install it: sudo apt-get install valgrind)"

#endif
