/* cmd_run.c - `leaklab run`: record any dynamically linked program under the preload, then show its peak. */
#include "cli.h"
#include "cli_growth.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <leaklab/report.h>

#include "record.h"
#include "run_hints.h"
#include "scenario.h"
#include "symbolize.h"

enum { OPT_OUTPUT, OPT_FRAMES, OPT_NATIVE, OPT_FOLLOW, OPT_UNWIND, OPT_TOP, OPT_SCALE, OPT_ALLOCATOR,
       OPT_RECORDER, OPT_NO_REPORT, OPT_HTML };

static const ll__opt_t run_opts[] = {
    {"output", 'o', 1, OPT_OUTPUT},   {"frames", 0, 1, OPT_FRAMES},
    {"native", 0, 0, OPT_NATIVE},     {"follow-fork", 0, 0, OPT_FOLLOW},
    {"unwind", 0, 1, OPT_UNWIND},     {"top", 0, 1, OPT_TOP},
    {"scale", 0, 1, OPT_SCALE},       {"allocator", 0, 1, OPT_ALLOCATOR},
    {"recorder", 0, 1, OPT_RECORDER}, {"no-report", 0, 0, OPT_NO_REPORT},
    {"html", 0, 1, OPT_HTML},
    {NULL, 0, 0, 0},
};

typedef struct run_args {
  ll__record_opts_t rec;
  uint64_t top;
  int no_report; /* --no-report: the totals only, nothing symbolised */
  const char *html; /* --html FILE: the HTML report of the capture, or NULL */
  char **argv;   /* the program and its arguments */
} run_args_t;

/* ---- after it ran ------------------------------------------------------------------------------ */

static void print_chain(const ll_cap_process_t *p) {
  if (p->nstage < 2) return;
  fprintf(stderr, "leaklab: process chain (each image exec'd the next; the capture holds the last):\n");
  for (size_t i = 0; i < p->nstage; i++) {
    char peak[32];
    ll_format_size(peak, sizeof peak, (double)p->stages[i].peak, 0);
    fprintf(stderr, "  %zu. %s  (pid %u, peak %s%s)\n", i + 1, p->stages[i].program,
            p->stages[i].pid, peak, i + 1 == p->nstage ? ", recorded below" : " before its exec");
  }
}

static void list_child_captures(const char *cap, time_t since) {
  char dir[PATH_MAX * 2];
  snprintf(dir, sizeof dir, "%s", cap);
  char *slash = strrchr(dir, '/');
  const char *base = slash != NULL ? slash + 1 : cap;
  if (slash != NULL) *slash = '\0';
  DIR *d = opendir(slash != NULL ? dir : ".");
  if (d == NULL) return;
  size_t blen = strlen(base), found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    char full[PATH_MAX * 4 + 2];
    if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.') continue;
    if (strspn(e->d_name + blen + 1, "0123456789") != strlen(e->d_name + blen + 1)) continue;
    snprintf(full, sizeof full, "%s/%s", slash != NULL ? dir : ".", e->d_name);
    if (stat(full, &st) != 0 || st.st_mtime < since) continue; /* an older run's */
    if (found++ == 0) fprintf(stderr, "leaklab: child process captures (--follow-fork):\n");
    fprintf(stderr, "  %s\n", full);
  }
  closedir(d);
}

/* --no-report: the capture's totals, read without symbolising anything. */
static int print_totals(const ll_capture_t *c, const char *program) {
  ll_snapshot_t *end = NULL;
  char peak[32], cur[32], total[32];
  int rc = ll_capture_load(c, LL_AT_END, &end);
  if (rc == 0) {
    ll_format_size(peak, sizeof peak, (double)end->peak_bytes, 0);
    ll_format_size(cur, sizeof cur, (double)end->current_bytes, 0);
    ll_format_size(total, sizeof total, (double)end->total_bytes, 0);
    fprintf(stderr, "leaklab: %s: peak=%s, end=%s, %" PRIu64 " allocations totalling %s\n", program,
            peak, cur, end->total_allocations, total);
  }
  ll_snapshot_free(end);
  return rc;
}

/* --html FILE: every moment of the capture as `leaklab report CAP --format html -o FILE`. */
static int write_html(const char *cap, const ll_capture_t *c, const char *path) {
  ll__report_args_t hra;
  int status;

  if ((status = ll__report_args_init(&hra, 0)) != 0) return status;
  hra.format = LL_FORMAT_HTML;
  hra.output = path;
  if ((status = ll__emit_html(cap, c, ll_capture_views(c), &hra)) == 0)
    fprintf(stderr, "leaklab: HTML report written to %s\n", path);
  ll__report_args_free(&hra);
  return status;
}

static int summarize(const char *cap, const run_args_t *ra, int status, time_t started) {
  ll_capture_t *c = NULL;
  const ll_cap_process_t *proc;
  ll_snapshot_t *snap = NULL;
  ll_stats_t *stats = NULL;
  int rc, exit_status = LL__EXIT_RUNTIME;

  if ((rc = ll_capture_open(cap, &c)) != 0 || (rc = ll_capture_process(c, &proc)) != 0) {
    exit_status = ll__runtime_error(cap, rc, " (the capture is unreadable)");
    goto cleanup;
  }
  print_chain(proc);
  if ((proc->flags & LL_CAP_F_KILLED) && WIFEXITED(status))
    fprintf(stderr, "leaklab: %s exited (status %d) past leaklab's exit hooks (a raw exit_group "
            "system call, as Go's runtime makes); leaklab's helper process wrote the capture "
            "after it: what was live up to it, no exit scan\n", ra->argv[0], WEXITSTATUS(status));
  else if (proc->flags & LL_CAP_F_KILLED)
    ll__print_killed(ra->argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : proc->signal,
                     "; leaklab's helper process wrote the capture after it: what was live "
                     "up to it, no exit scan\n");
  else if (proc->how == LL_CAP_END_SIGNAL)
    ll__print_killed(ra->argv[0], proc->signal, "; the capture holds what was live up to it\n");
  if (proc->flags & LL_CAP_F_HELPER_LOST) {
    fprintf(stderr, "leaklab: %s: partial capture: the recording helper process died, so only "
            "the process facts were saved (how it ended, what it ran), no snapshot\n", cap);
    goto done;
  }
  if ((proc->flags & LL_CAP_F_PARTIAL) && (proc->flags & LL_CAP_F_KILLED)) {
    fprintf(stderr, "leaklab: %s: partial capture: the program was killed while leaklab's "
            "tracker was recording one of its calls (half applied, perhaps), so no snapshot was "
            "saved\n", cap);
    goto done;
  }
  if (proc->flags & LL_CAP_F_PARTIAL) {
    fprintf(stderr, "leaklab: %s: partial capture: the program crashed while leaklab's tracker "
            "was busy, so only the process facts were saved (how it ended, what it ran), no "
            "snapshot\n", cap);
    goto done;
  }
  if (ra->no_report) {
    if ((rc = print_totals(c, ra->argv[0])) != 0) {
      exit_status = ll__runtime_error(cap, rc, NULL);
      goto cleanup;
    }
    goto done;
  }
  rc = ll_symbolize_capture(c, LL_AT_PEAK, ra->rec.native, &snap);
  if (rc == 0) rc = ll_snapshot_statistics(snap, LL_GROUP_LINENO, 0, &stats);
  if (rc != 0) {
    exit_status = ll__runtime_error(cap, rc, NULL);
    goto cleanup;
  }
  ll_jemalloc_stats_t je;
  int has_je = ll__load_jemalloc(cap, c, &je);
  if (has_je > 1) {
    exit_status = has_je;
    goto cleanup;
  }
  ll_report_opts_t opts = {.top = (size_t)ra->top, .format = LL_FORMAT_TEXT,
                           .jemalloc = has_je == 1 ? &je : NULL};
  fflush(stdout);
  if ((rc = ll_report_write(stderr, snap, stats, &opts)) != 0) {
    exit_status = ll__runtime_error("<stderr>", rc, NULL);
    goto cleanup;
  }
  ll__print_growing(cap, c, ra->rec.native);
  ll__print_build_hints(stderr, snap, ra->argv[0], ra->rec.unwind, ra->rec.frames);
  if ((rc = ll__print_churn(stderr, cap, ra->rec.native, snap)) != 0) {
    exit_status = ll__runtime_error(cap, rc, NULL);
    goto cleanup;
  }
  if (ra->html != NULL && (rc = write_html(cap, c, ra->html)) != 0) {
    exit_status = rc;
    goto cleanup;
  }
done:
  if (ra->rec.follow) list_child_captures(cap, started);
  fprintf(stderr, "leaklab: capture written to %s (leaklab report %s --at peak|end|leaks|temporary)\n",
          cap, cap);
  exit_status = ll__program_status(status);
cleanup:
  ll_stats_free(stats);
  ll_snapshot_free(snap);
  ll_capture_close(c);
  return exit_status;
}

static int run_program(const run_args_t *ra) {
  char cap[PATH_MAX * 2];
  int status = 0, rc;
  time_t started = 0;

  if ((rc = ll__record(ra->argv, &ra->rec, cap, sizeof cap, &status, &started)) != 0) return rc;
  return summarize(cap, ra, status, started);
}

static int run(int argc, char **argv) {
  const char *verb = "run", *arg, *lesson = NULL, *scale = NULL;
  run_args_t ra = {.rec = LL__RECORD_OPTS_DEFAULT, .top = 10};
  ll__optstate_t st;
  ll__scenario_cmd_t scn;
  int id, rc;

  ll__opt_init(&st, verb, argc, argv);
  /* Options may come before or after a lesson; after "-- PROGRAM" everything is the program's. */
  while (ra.argv == NULL && (id = ll__opt_next(&st, run_opts, &arg)) != LL__OPT_END) {
    switch (id) {
    case LL__OPT_ERROR: return LL__EXIT_USAGE;
    case LL__OPT_HELP: fputs(ll__verb_run.help, stdout); return LL__EXIT_OK;
    case LL__OPT_POSITIONAL:
      /* options may follow a lesson; after a program, everything is its own */
      if ((rc = ll__lesson_or_program(&st, arg, &lesson, &ra.argv)) != 0) return rc;
      break;
    case OPT_OUTPUT: ra.rec.output = arg; break;
    case OPT_FRAMES:
      if (ll__parse_uint(arg, 1, 256, &ra.rec.frames) != 0)
        return ll__usage_error(verb, "--frames takes a number from 1 to 256, not '%s'", arg);
      break;
    case OPT_NATIVE: ra.rec.native = 1; break;
    case OPT_FOLLOW: ra.rec.follow = 1; break;
    case OPT_UNWIND:
      if (strcmp(arg, "auto") != 0 && strcmp(arg, "fp") != 0 && strcmp(arg, "libunwind") != 0)
        return ll__usage_error(verb, "--unwind takes auto, fp or libunwind, not '%s'", arg);
      ra.rec.unwind = arg;
      break;
    case OPT_TOP:
      if (ll__parse_uint(arg, 0, 1000000, &ra.top) != 0)
        return ll__usage_error(verb, "--top takes a number, not '%s'", arg);
      break;
    case OPT_SCALE:
      if (ll__parse_scale(arg) != 0)
        return ll__usage_error(verb, "--scale takes a number in (0, 1], not '%s'", arg);
      scale = arg;
      break;
    case OPT_ALLOCATOR:
      if ((rc = ll__allocator_library(verb, arg, &ra.rec.allocator)) != 0) return rc;
      break;
    case OPT_RECORDER:
      if (strcmp(arg, "auto") != 0 && strcmp(arg, "async") != 0 && strcmp(arg, "sync") != 0)
        return ll__usage_error(verb, "--recorder takes auto, async or sync, not '%s'", arg);
      ra.rec.recorder = arg;
      break;
    case OPT_NO_REPORT: ra.no_report = 1; break;
    case OPT_HTML:
      if (arg[0] == '\0') return ll__usage_error(verb, "empty file name for --html");
      ra.html = arg;
      break;
    default: return ll__usage_error(verb, "unexpected option");
    }
  }
  if (ra.html != NULL && ra.no_report)
    return ll__usage_error(verb, "--html cannot be used with --no-report (the page needs the "
                           "symbolised report): run 'leaklab report FILE --format html' later");
  if (lesson != NULL) {
    if ((rc = ll__scenario_command(verb, lesson, scale, &scn)) != 0) return rc;
    ra.argv = scn.argv;
  } else if (scale != NULL) {
    return ll__usage_error(verb, "--scale applies to lessons only (a program takes its own arguments)");
  }
  if (ra.argv == NULL || ra.argv[0] == NULL)
    return ll__usage_error(verb, "missing the program to run (leaklab run [OPTIONS] -- PROGRAM [ARGS...])");
  return run_program(&ra);
}

const ll__verb_t ll__verb_run = {
    "run",
    "[OPTIONS] (SCENARIO[:VARIANT] | -- PROGRAM [ARGS...])",
    "record any dynamically linked program, unmodified; show its peak and the lines behind it",
    "usage: leaklab run [OPTIONS] (SCENARIO[:VARIANT] | -- PROGRAM [ARGS...])\n"
    "\n"
    "Runs the program with libleaklab-preload.so (LD_PRELOAD, placed before any library already\n"
    "there so that its malloc is the one called; it passes every call on to the next allocator,\n"
    "glibc's or jemalloc's). The program's stdin, stdout and stderr stay its own. When it ends,\n"
    "prints on stderr the peak and the top lines live at the peak, in tracemalloc's format, and\n"
    "exits with the program's status (128+N when signal N killed it); SIGTERM or SIGHUP sent to\n"
    "leaklab goes on to the program, as ^C does. When lines are still\n"
    "growing at the end of the run, it ends with their verdicts ('leaklab report --growth').\n"
    "\n"
    "Each line is the first frame in the program's own code: the main executable or a library\n"
    "outside the system directories (/lib, /usr/lib, ...). --native shows library frames too.\n"
    "Execs keep being recorded into the same capture (wrapper scripts); child processes run\n"
    "untraced unless --follow-fork. A program killed by SIGSEGV, SIGABRT, ... or calling _exit\n"
    "still leaves its capture; one killed outright (SIGKILL, a signal it does not catch) too,\n"
    "written by a helper process that outlives it (partial under sync when the kill lands while\n"
    "a thread is recording into the tracker). A program built without -g (lines read FILE:0 (function), or\n"
    "FILE:0 (FILE+0xOFFSET) when stripped) or without frame pointers (stacks stop at the\n"
    "allocating function) gets one line saying so, with the fix.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE    the capture file (default: reports/PROGRAM.PID.llcap when ./reports\n"
    "                       is a directory, else ./leaklab-PROGRAM.PID.llcap)\n"
    "  --frames N           call stack depth kept, 1..256 (default 16)\n"
    "  --native             attribute to library frames too (stored: reports default to it)\n"
    "  --follow-fork        record child processes too, each into FILE.<pid>\n"
    "  --unwind HOW         auto (default: frame pointers from the program's own code,\n"
    "                       libunwind from libraries), fp, or libunwind\n"
    "  --top N              lines to show (default 10, 0: all)\n"
    "  --no-report          record only: print the totals (peak, end, allocations) and the\n"
    "                       capture's path, symbolise nothing ('leaklab report' does it later)\n"
    "  --html FILE          also write the HTML report of the capture to FILE: one offline\n"
    "                       page ('leaklab report CAPTURE --format html -o FILE')\n"
    "  --recorder HOW       auto (default), async or sync. async: each of the program's\n"
    "                       threads only queues its events (a queue per thread), and a helper\n"
    "                       process (leaklab-helper, not the program's child) applies them to\n"
    "                       the tracker on another CPU, in the order they happened, until the\n"
    "                       program execs or ends. sync: every thread records itself, one at a\n"
    "                       time, into a tracker a watcher process shares (it writes the\n"
    "                       capture if the program is killed; not with --follow-fork).\n"
    "                       Same peak, lines and counts either way.\n"
    "                       auto: async when the program may use two CPUs, not with\n"
    "                       --follow-fork. Default: $LEAKLAB_RECORDER, else auto.\n"
    "                       A Go program is recorded through the helper whatever HOW says\n"
    "                       (the watcher under --follow-fork): its runtime ends with a raw\n"
    "                       exit_group only they outlive\n"
    "  --scale F            run a lesson at scale F (0 < F <= 1), e.g. smaller for valgrind\n"
    "  --allocator NAME     glibc (default) or jemalloc: the program allocates from jemalloc\n"
    "                       (preloaded after leaklab), so usable sizes are jemalloc's classes\n"
    "                       ('leaklab report --usable'), and the summary adds jemalloc's own\n"
    "                       stats.allocated, active, resident and mapped when the program\n"
    "                       ended (only then: at the peak they cannot be read exactly)\n"
    "  -h, --help           show this help\n"
    "\n"
    "then: leaklab report FILE --at peak|end|leaks|temporary|allocations [--format json] ...\n"
    "\n"
    "exit status: the program's; 2 usage error; 3 the program could not start or could not be\n"
    "recorded (not found, statically linked, no capture written).\n",
    run,
};
