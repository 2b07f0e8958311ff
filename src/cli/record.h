/* record.h - recording a program under the preload: what run, check, massif and memcheck share. */
#ifndef LEAKLAB_CLI_RECORD_H
#define LEAKLAB_CLI_RECORD_H
/*
 * Contract: ll__record runs one program under libleaklab-preload.so and waits for it; it never
 * symbolises or reports (the verbs do). Functions that fail print one line on stderr and return
 * the exit status to use (LL__EXIT_USAGE or LL__EXIT_RUNTIME, cli.h); 0 on success. The program
 * sees none of leaklab's descriptors (everything leaklab opens is close-on-exec), signal
 * dispositions (restored in the child) or environment beyond the preload's own variables.
 * Files: record.c (fork, wait), record_child.c (the capture path rule, the environment, exec),
 * record_program.c (finding the program, the preload and jemalloc), record_end.c (how the
 * program ended, from its wait status and its capture's process section).
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "capture_format.h"

/* How to record: run's options of the same names. */
typedef struct ll__record_opts {
  const char *output;    /* -o: the capture, NULL: the default rule (ll__record_capture_path) */
  uint64_t frames;       /* call stack depth kept, 1..256 */
  int native, follow;    /* --native, --follow-fork */
  const char *unwind;    /* "auto", "fp" or "libunwind" */
  const char *allocator; /* a library preloaded after ours (ll__allocator_library), NULL: none */
  const char *recorder;  /* "auto", "async" or "sync" (--recorder); NULL: $LEAKLAB_RECORDER or auto */
  const char *log;       /* NULL: the program keeps leaklab's stdin, stdout and stderr; else its
                          * stdin is /dev/null and its stdout and stderr go to this file */
  const char *verb;      /* with `progress`: "leaklab VERB: PROGRESS ... N s" on stderr every */
  const char *progress;  /* 3 s while the program runs; NULL: no progress lines */
} ll__record_opts_t;
/* run's defaults, which check, massif and memcheck record with too. */
#define LL__RECORD_OPTS_DEFAULT {.frames = 16, .unwind = "auto"}

/* --allocator NAME: glibc (*out NULL: nothing preloaded) or jemalloc (its library's path); 0, or
 * an exit status after an error line (an unknown name, jemalloc not installed). */
int ll__allocator_library(const char *verb, const char *name, const char **out);

/* Run argv (argv[0] looked up in PATH) under the preload and wait for it as a shell waits for
 * its job (SIGINT and SIGQUIT ignored meanwhile, SIGTERM and SIGHUP passed on to it). 0 when it left a capture: its path (made
 * absolute) in cap, the program's wait status in *wait_status, when it started in *started (may
 * be NULL). Else an exit status after one error line (not found, statically linked, no capture). */
int ll__record(char **argv, const ll__record_opts_t *o, char *cap, size_t caplen,
               int *wait_status, time_t *started);

/* ---- record_child.c -------------------------------------------------------------------------- */

/* The capture's path: `output` when given, else reports/<program><tag>.<pid>.llcap when
 * ./reports is a directory (the repository's layout), else ./leaklab-<program><tag>.<pid>.llcap
 * (<program> the base name); made absolute, since the program may chdir. */
void ll__record_capture_path(const char *output, const char *program, const char *tag, long pid,
                             char *out, size_t len);
/* In the forked child: set the preload's environment and exec; writes errno to errpipe and
 * _exits 127 when the exec fails. */
void ll__record_child(char **argv, const ll__record_opts_t *o, const char *program,
                      const char *preload, int errpipe) __attribute__((noreturn));

/* ---- record_program.c ------------------------------------------------------------------------ */

/* The program to exec (PATH search as execvp does it) and the preload library to load into it;
 * 0 or an exit status after one error line (not found, statically linked, no preload). */
int ll__record_locate(const char *name, char *program, size_t plen, char *preload, size_t llen);

/* ---- record_end.c ---------------------------------------------------------------------------- */

/* "SEGV" for SIGSEGV, "?" for a number with no name. */
const char *ll__signal_name(int sig);
/* "leaklab: WHO was killed by SIGNAME" then `rest` (which ends the line) on stderr. */
void ll__print_killed(const char *who, int sig, const char *rest);
/* The exit status `run` gives for the program's wait status: its own, or 128+N for signal N. */
int ll__program_status(int wait_status);

#endif
