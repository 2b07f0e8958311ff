/* scenario.h - the lessons the command knows: where their programs are, names, variants, budgets. */
#ifndef LEAKLAB_CLI_SCENARIO_H
#define LEAKLAB_CLI_SCENARIO_H
/*
 * Contract: lessons are listed in index.txt beside their programs (name TAB description TAB
 * variants TAB budget; '#' lines are comments). The directory is $LEAKLAB_SCENARIOS_DIR when
 * set, else <dir of the leaklab binary>/scenarios (build tree), else
 * <dir of the binary>/../libexec/leaklab/scenarios (installed). The lesson text is NAME.md in
 * the same directory. Errors print one line and return the exit status to use.
 */
#include <limits.h>
#include <stdint.h>

#define LL__SCN_MAX 32

typedef struct ll__scenario {
  char name[64];
  char description[256];
  char variants[256]; /* comma separated, the first is the default */
  char budget[32];    /* as written, e.g. "70 MiB" */
  uint64_t budget_bytes;
} ll__scenario_t;

/* The lessons of index.txt, in order; 0 or an exit status after an error line. */
int ll__scenarios_load(ll__scenario_t *out, size_t max, size_t *n, char *dir, size_t dirlen);

/* A program to run for "NAME[:VARIANT]": argv for execv (program path, --variant V, and
 * "--scale" S when scale is not NULL), kept in `storage`. Unknown name or variant: usage error
 * (exit 2) naming it; missing program: runtime error (exit 3). 0 on success. */
typedef struct ll__scenario_cmd {
  ll__scenario_t scenario;
  char variant[64];
  char program[PATH_MAX];
  char *argv[8];
  char scale[32];
} ll__scenario_cmd_t;
int ll__scenario_command(const char *verb, const char *spec, const char *scale,
                         ll__scenario_cmd_t *cmd);

struct ll__optstate;
/* A positional word `arg` of run or check, just returned by ll__opt_next: a lesson (a word with
 * no '/' in it, before any "--") goes to *lesson; anything else is the program, which takes the
 * rest of argv (*prog). Without "--" a word is a lesson, never a program: an unknown name is a
 * usage error (ll__scenario_command says so, with the nearest lesson's name). 0, or the usage
 * error's exit status for a second word after a lesson. */
int ll__lesson_or_program(const struct ll__optstate *st, const char *arg, const char **lesson,
                          char ***prog);

#endif
