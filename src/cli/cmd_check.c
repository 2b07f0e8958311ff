/* cmd_check.c - `leaklab check`: record a program as `leaklab run` does (record.h), then hold its peak and per-line leaks to limits (pytest-memray's limit_memory / limit_leaks). */
#include "cli.h"
#include "cli_growth.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <leaklab/budget.h>

#include "capture_format.h"
#include "capture_write.h"
#include "record.h"
#include "scenario.h"
#include "snapfile.h"
#include "symbolize.h"

enum { OPT_LIMIT_MEMORY, OPT_LIMIT_LEAKS, OPT_SCALE, OPT_OUTPUT, OPT_ALLOCATOR, OPT_NO_GROWTH,
       OPT_GROWTH_MIN };

static const ll__opt_t check_opts[] = {
    {"limit-memory", 0, 1, OPT_LIMIT_MEMORY},
    {"limit-leaks", 0, 1, OPT_LIMIT_LEAKS},
    {"scale", 0, 1, OPT_SCALE},
    {"output", 'o', 1, OPT_OUTPUT},
    {"allocator", 0, 1, OPT_ALLOCATOR},
    {"no-growth", 0, 0, OPT_NO_GROWTH},
    {"growth-min", 0, 1, OPT_GROWTH_MIN},
    {NULL, 0, 0, 0},
};

typedef struct check_args {
  int has_memory, has_leaks, no_growth;
  uint64_t memory, leaks;
  int64_t growth_min;      /* --growth-min, -1: 1% of the peak */
  const char *memory_text; /* as given, or the lesson's budget */
  const char *scale;
  const char *output;
  const char *allocator;   /* --allocator's library path (ll__allocator_library); NULL: none */
  char **argv;             /* the program and its arguments */
  char label[160];         /* how messages name what ran: the lesson or the program */
} check_args_t;

/* The leaks of a capture: blocks never freed when it has them, else what was live at the end. */
static int load_leaks(const char *cap, ll_snapshot_t **out) {
  unsigned mask = 0;
  int rc = ll_snapshot_file_views(cap, &mask);
  if (rc != 0) return rc;
  ll_at_t at = (mask & (1u << LL_AT_LEAKS)) ? LL_AT_LEAKS : LL_AT_END;
  return ll_symbolize_load(cap, at, -1, out);
}

/* How a recorded program that failed ended, from the capture (program_status alone cannot tell
 * "killed by signal 6" from "exited with 134"). */
static void print_program_failure(const check_args_t *ca, const char *cap, int program_status) {
  static const char failed[] = ": the program failed, so the check does not pass\n";
  ll_capture_t *c = NULL;
  const ll_cap_process_t *proc;

  if (ll_capture_open(cap, &c) == 0 && ll_capture_process(c, &proc) == 0 &&
      proc->how == LL_CAP_END_SIGNAL)
    ll__print_killed(ca->label, proc->signal != 0 ? proc->signal : program_status - 128, failed);
  else
    fprintf(stderr, "leaklab: %s exited with status %d%s", ca->label, program_status, failed);
  ll_capture_close(c);
}

/* A limit that held is no PASS for a program that failed (it measured another run than the
 * one asked for): only its figures are said then. */
static void print_verdict(int outcome, int program_failed, const char *label, const char *msg,
                          const char *summary) {
  if (outcome == LL_LIMIT_OK) {
    /* named as FAIL lines are */
    fprintf(stderr, "%s: %s: %s", program_failed ? "leaklab" : "PASS", label, msg);
    return;
  }
  fprintf(stderr, "FAIL: %s\n%s", summary, msg);
}

/* One limit's verdict from ll_limit_memory's or ll_limit_leaks's outcome `rc` (the value judged
 * and its limit, the message it wrote): said on stderr; 1 exceeded, 0 held, or rc when it is an
 * error (nothing said). */
static int judge(const check_args_t *ca, int rc, int program_failed, const char *msg, int leaks,
                 uint64_t value, uint64_t limit) {
  char summary[512], lim[48], got[48];
  if (rc < 0) return rc;
  ll_format_memray_size(lim, sizeof lim, (double)limit);
  ll_format_memray_size(got, sizeof got, (double)value);
  if (leaks)
    snprintf(summary, sizeof summary, "%s: a line leaked %s (%llu B), the limit is %s per line",
             ca->label, got, (unsigned long long)value, lim);
  else
    snprintf(summary, sizeof summary, "%s: peak %s (%llu B) is not below the limit %s",
             ca->label, got, (unsigned long long)value, lim);
  print_verdict(rc, program_failed, ca->label, msg, summary);
  return rc == LL_LIMIT_EXCEEDED;
}

static int check_program(const check_args_t *ca) {
  char path[PATH_MAX + 256], cap[PATH_MAX * 2], msg[LL_LIMIT_MSG_SIZE];
  ll_snapshot_t *peak = NULL, *leaks = NULL;
  int status = 0, rc, exit_status = LL__EXIT_RUNTIME;
  ll__record_opts_t rec = LL__RECORD_OPTS_DEFAULT;

  /* Kept, for `leaklab report` after a failure: reports/<program>.check.<pid>.llcap or
   * ./leaklab-<program>.check.<pid>.llcap. */
  ll__record_capture_path(ca->output, ca->argv[0], ".check", (long)getpid(), path, sizeof path);
  rec.output = path; /* ll__record removes a capture an earlier check left there */
  rec.allocator = ca->allocator;
  if ((rc = ll__record(ca->argv, &rec, cap, sizeof cap, &status, NULL)) != 0) return rc;
  /* Said first, so that it is there for `leaklab report` whatever the verdicts. */
  fprintf(stderr, "leaklab: capture written to %s (leaklab report %s --at peak|end|leaks|temporary)\n",
          cap, cap);
  int program_status = ll__program_status(status);
  /* The limits go into the capture, for the reports that draw them (the HTML chart). */
  unsigned char budget[LL_CAP_BUDGET_LEN];
  ll_cap_budget_t b = {(ca->has_memory ? LL_CAP_BUDGET_MEMORY : 0) |
                           (ca->has_leaks ? LL_CAP_BUDGET_LEAKS : 0),
                       ca->has_memory ? ca->memory : 0, ca->has_leaks ? ca->leaks : 0};
  ll_cap_encode_budget(budget, &b);
  if ((rc = ll__snapfile_append(cap, LL_CAP_SEC_BUDGET, budget, sizeof budget)) != 0) {
    exit_status = ll__runtime_error(cap, rc, " (adding the budget to the capture)");
    goto cleanup;
  }

  if ((rc = ll_symbolize_load(cap, LL_AT_PEAK, -1, &peak)) != 0) {
    exit_status = ll__runtime_error(cap, rc, " (the capture holds no peak to check)");
    goto cleanup;
  }
  int failed = 0;
  if (ca->has_memory) {
    uint64_t p = peak->peak_bytes;
    rc = ll_limit_memory(ca->memory, p, peak, NULL, msg, sizeof msg);
    if ((rc = judge(ca, rc, program_status != 0, msg, 0, p, ca->memory)) < 0) {
      exit_status = ll__runtime_error(cap, rc, NULL);
      goto cleanup;
    }
    failed |= rc;
  }
  if (ca->has_leaks) {
    uint64_t largest = 0;
    if ((rc = load_leaks(cap, &leaks)) != 0) {
      exit_status = ll__runtime_error(cap, rc, " (the capture holds no end to check leaks at)");
      goto cleanup;
    }
    rc = ll_limit_leaks(ca->leaks, leaks, NULL, &largest, msg, sizeof msg);
    if ((rc = judge(ca, rc, program_status != 0, msg, 1, largest, ca->leaks)) < 0) {
      exit_status = ll__runtime_error(cap, rc, NULL);
      goto cleanup;
    }
    failed |= rc;
  }
  if (ca->no_growth) {
    ll__series_loaded_t series;
    size_t ngrow = 0;
    if ((rc = ll__load_series(cap, NULL, -1, &series)) != 0) {
      exit_status = rc > 0 ? rc : ll__runtime_error(cap, LL_ENOVIEW, " (no memory over time per line)");
      goto cleanup;
    }
    /* The verdicts go to a buffer first: the PASS or FAIL line comes before them. */
    char *text = NULL;
    size_t text_len = 0;
    FILE *mem = open_memstream(&text, &text_len);
    rc = mem == NULL ? ll__runtime_error("leaklab", LL_ENOMEM, NULL)
                     : ll__emit_growth(cap, &series, LL_GROUP_LINENO, ca->growth_min,
                                       LL_FORMAT_TEXT, mem, &ngrow);
    if (mem != NULL) fclose(mem);
    ll__series_loaded_free(&series);
    if (rc != 0) {
      free(text);
      exit_status = rc;
      goto cleanup;
    }
    if (ngrow == 0)
      fprintf(stderr, "PASS: %s: no line grows\n%s", ca->label, text);
    else
      fprintf(stderr, "FAIL: %s: %zu line%s still growing at the end of the run\n%s", ca->label,
              ngrow, ngrow == 1 ? " is" : "s are", text);
    free(text);
    failed |= ngrow != 0;
  }
  if (program_status != 0) {
    /* A run that failed measured a different program: it never passes a check. */
    print_program_failure(ca, cap, program_status);
    /* Killed by signal N: 128+N, as `run` and a shell say it (a pipeline's SIGPIPE, the OOM
     * killer's SIGKILL stay visible to the caller). */
    exit_status = WIFSIGNALED(status) ? program_status : LL__EXIT_RUNTIME;
    goto cleanup;
  }
  exit_status = failed ? LL__EXIT_LIMIT : LL__EXIT_OK;
cleanup:
  ll_snapshot_free(peak);
  ll_snapshot_free(leaks);
  return exit_status;
}

static int parse_limit(const char *verb, const char *opt, const char *text, uint64_t *out) {
  size_t n = strlen(text);
  if (ll_parse_size(text, out) != 0)
    return ll__usage_error(verb, "%s takes a SIZE such as 70MB, 1.5GB, 512KB or 100B, not '%s'",
                           opt, text);
  /* A bare number would silently be bytes: 70 meant as 70 MB would fail every program. */
  if (n > 0 && text[n - 1] >= '0' && text[n - 1] <= '9')
    return ll__usage_error(verb, "%s %s has no unit: write %sB for bytes, or %sKB, %sMB, %sGB",
                           opt, text, text, text, text, text);
  return 0;
}

static int run(int argc, char **argv) {
  const char *verb = "check", *arg, *spec = NULL;
  check_args_t ca;
  ll__scenario_cmd_t scn;
  ll__optstate_t st;
  int id, rc;

  memset(&ca, 0, sizeof ca);
  ca.growth_min = -1;
  ll__opt_init(&st, verb, argc, argv);
  while (ca.argv == NULL && (id = ll__opt_next(&st, check_opts, &arg)) != LL__OPT_END) {
    switch (id) {
    case LL__OPT_ERROR: return LL__EXIT_USAGE;
    case LL__OPT_HELP: fputs(ll__verb_check.help, stdout); return LL__EXIT_OK;
    case LL__OPT_POSITIONAL:
      /* options may follow a lesson; after a program, everything is its own */
      if ((rc = ll__lesson_or_program(&st, arg, &spec, &ca.argv)) != 0) return rc;
      break;
    case OPT_LIMIT_MEMORY:
      if ((rc = parse_limit(verb, "--limit-memory", arg, &ca.memory)) != 0) return rc;
      ca.has_memory = 1;
      ca.memory_text = arg;
      break;
    case OPT_LIMIT_LEAKS:
      if ((rc = parse_limit(verb, "--limit-leaks", arg, &ca.leaks)) != 0) return rc;
      ca.has_leaks = 1;
      break;
    case OPT_SCALE:
      if (ll__parse_scale(arg) != 0)
        return ll__usage_error(verb, "--scale takes a number above 0 and at most 1, not '%s'", arg);
      ca.scale = arg;
      break;
    case OPT_OUTPUT: ca.output = arg; break;
    case OPT_ALLOCATOR:
      if ((rc = ll__allocator_library(verb, arg, &ca.allocator)) != 0) return rc;
      break;
    case OPT_NO_GROWTH: ca.no_growth = 1; break;
    case OPT_GROWTH_MIN: {
      uint64_t v;
      if ((rc = parse_limit(verb, "--growth-min", arg, &v)) != 0) return rc;
      ca.growth_min = (int64_t)(v > INT64_MAX ? INT64_MAX : v);
      break;
    }
    default: return ll__usage_error(verb, "unexpected option");
    }
  }
  if (spec != NULL) {
    if ((rc = ll__scenario_command(verb, spec, ca.scale, &scn)) != 0) return rc;
    ca.argv = scn.argv;
    snprintf(ca.label, sizeof ca.label, "%s:%s", scn.scenario.name, scn.variant);
    if (!ca.has_memory) {
      ca.has_memory = 1;
      ca.memory = scn.scenario.budget_bytes;
      ca.memory_text = scn.scenario.budget;
    }
  } else {
    if (ca.argv == NULL || ca.argv[0] == NULL)
      return ll__usage_error(verb, "missing the program to check (leaklab check --limit-memory SIZE -- PROGRAM [ARGS...])");
    if (ca.scale != NULL) return ll__usage_error(verb, "--scale is for lessons, not for '%s'", ca.argv[0]);
    if (!ca.has_memory && !ca.has_leaks && !ca.no_growth)
      return ll__usage_error(verb, "give --limit-memory SIZE, --limit-leaks SIZE, --no-growth, or several");
    snprintf(ca.label, sizeof ca.label, "%s", ca.argv[0]);
  }
  if (ca.growth_min >= 0 && !ca.no_growth)
    return ll__usage_error(verb, "--growth-min goes with --no-growth");
  return check_program(&ca);
}

const ll__verb_t ll__verb_check = {
    "check",
    "[--limit-memory SIZE] [--limit-leaks SIZE] [--no-growth] [--scale F] (SCENARIO[:VARIANT] | -- PROGRAM...)",
    "record a program and fail when its peak or a line's leaks reach a limit (for CI)",
    "usage: leaklab check [--limit-memory SIZE] [--limit-leaks SIZE] [--no-growth]\n"
    "                     [--growth-min SIZE] [--scale F] [-o FILE] [--allocator NAME]\n"
    "                     (SCENARIO[:VARIANT] | -- PROGRAM [ARGS...])\n"
    "\n"
    "Records the program as 'leaklab run' does (its stdin, stdout and stderr stay its own), says\n"
    "on stderr where the capture was written, then checks it, pytest-memray's way:\n"
    "  --limit-memory: passes when the peak is strictly below SIZE;\n"
    "  --limit-leaks:  passes when no line leaks SIZE or more (blocks never freed, per line);\n"
    "  --no-growth:    passes when no line still grows at the end of the run (the verdicts of\n"
    "                  'leaklab report --growth', printed after the PASS or FAIL line).\n"
    "A lesson without --limit-memory is held to its own budget ('leaklab scenarios' lists them).\n"
    "Sizes are requested bytes, counted exactly: the same program gives the same peak every run,\n"
    "so a limit can sit just above it without flaking.\n"
    "\n"
    "On stderr, one line per limit: 'PASS: method_cache:lru: peak 5.4MiB (5707344 B) is below\n"
    "the limit 70.0MiB',\n"
    "or 'FAIL: ...' then pytest-memray's text, e.g. for method_cache:leaky (trimmed):\n"
    "  Test was limited to 70.0MiB but allocated 614.4MiB\n"
    "  List of allocations:\n"
    "      - 522 MiB allocated here:\n"
    "          mc_factorial_plus at .../scenarios/method_cache/method_cache.c:314\n"
    "          mc_generate_last_digits at .../scenarios/method_cache/method_cache.c:325\n"
    "          ...\n"
    "(the top 10 lines at the peak, each with the frames of its largest call stack, then\n"
    "'...and N more' when there are more).\n"
    "\n"
    "options:\n"
    "  --limit-memory SIZE  the peak must stay below SIZE: 70MB, 70 MiB, 1.5GB, 512KB, 100B\n"
    "                       (binary units: 1 MB = 1024 KB = 1048576 B; the unit is required)\n"
    "  --limit-leaks SIZE   every line must leak less than SIZE\n"
    "  --no-growth          no line may grow (grows / bounded / released: see 'leaklab report\n"
    "                       --help'); judged: lines whose high reached --growth-min SIZE\n"
    "                       (default: 1% of the peak)\n"
    "  --scale F            run a lesson at scale F (0 < F <= 1)\n"
    "  --allocator NAME     glibc (default) or jemalloc, as 'leaklab run --allocator': the\n"
    "                       limits hold requested bytes, so the verdict is the same on both\n"
    "  -o, --output FILE    the capture (default: reports/PROGRAM.check.PID.llcap when ./reports\n"
    "                       is a directory, else ./leaklab-PROGRAM.check.PID.llcap); kept, for\n"
    "                       'leaklab report FILE' after a failure\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 every limit passed; 1 a limit was reached; 2 usage error (a bad SIZE is\n"
    "named); 3 the program could not be recorded, or it failed itself (non-zero exit status:\n"
    "its figures are still printed, never as a PASS: a failed run never passes); 128+N the\n"
    "program was killed by signal N (the same: no PASS).\n",
    run,
};
