/* cli_valgrind.c - what `massif` and `memcheck` share: their options, the program they study, its folder, leaklab's recording of it. */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_valgrind.h"
#include "record.h"
#include "scenario.h"

const char *ll__base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s != NULL ? s + 1 : path;
}

int ll__valgrind_leaklab_at(const ll_stats_t *stats, const char *file, unsigned line,
                            uint64_t *size, uint64_t *count) {
  int found = 0;
  *size = *count = 0;
  if (stats == NULL || file == NULL || file[0] == '\0') return 0;
  for (size_t i = 0; i < stats->len; i++) {
    const ll_stat_t *st = &stats->items[i];
    if (st->traceback == NULL || st->traceback->nframe == 0) continue;
    const ll_frame_t *fr = &st->traceback->frames[0];
    if (fr->lineno == line && strcmp(ll__base_name(fr->filename), ll__base_name(file)) == 0) {
      *size += st->size;
      *count += st->count;
      found = 1;
    }
  }
  return found;
}

/* A lesson found as `leaklab run` finds it (scenario.h), or a command. */
static int resolve_target(const char *verb, const char *spec, const char *scale, char **prog,
                          int nprog, ll__target_t *t) {
  char msg[PATH_MAX + 256], name[160], label[200];
  int status, rc, n = 0;
  if (spec == NULL) {
    rc = ll__target_program(nprog, prog, t, msg, sizeof msg);
    if (rc == LL_EINVAL) return ll__usage_error(verb, "%s", msg);
    if (rc != 0) {
      fprintf(stderr, "leaklab: %s\n", msg);
      return LL__EXIT_RUNTIME;
    }
    return 0;
  }
  ll__scenario_cmd_t cmd;
  if ((status = ll__scenario_command(verb, spec, scale, &cmd)) != 0) return status;
  while (n < 7 && cmd.argv[n] != NULL) n++;
  if ((rc = ll__target_program(n, cmd.argv, t, msg, sizeof msg)) != 0) {
    fprintf(stderr, "leaklab: %s\n", msg);
    return LL__EXIT_RUNTIME;
  }
  snprintf(name, sizeof name, "%.63s-%.63s", cmd.scenario.name, cmd.variant);
  snprintf(label, sizeof label, "%.63s:%.63s%s%.31s", cmd.scenario.name, cmd.variant,
           scale != NULL ? " --scale " : "", scale != NULL ? scale : "");
  if ((rc = ll__target_relabel(t, name, label)) != 0) {
    ll__target_free(t);
    return ll__runtime_error("leaklab", rc, NULL);
  }
  return 0;
}

/* Check the request, resolve the target, print the allocator note and make its folder (into
 * dir). 0, or an exit status after one error line (nothing to free then). */
static int prepare(const char *verb, const ll__valgrind_request_t *rq, ll__target_t *t, char *dir,
                   size_t dirlen) {
  int status, rc;
  if (rq->spec == NULL && rq->prog == NULL)
    return ll__usage_error(verb, "missing SCENARIO[:VARIANT] or '-- PROGRAM [ARGS...]'");
  if (rq->spec != NULL && rq->prog != NULL)
    return ll__usage_error(verb, "give a SCENARIO or '-- PROGRAM', not both");
  if (rq->prog != NULL && rq->scale != NULL)
    return ll__usage_error(verb, "--scale is for lessons; pass a PROGRAM's own options after it");
  if ((status = resolve_target(verb, rq->spec, rq->scale, rq->prog, rq->nprog, t)) != 0)
    return status;
  ll__valgrind_allocator_note(stderr, verb, rq->allocator);
  int n = rq->outdir != NULL ? snprintf(dir, dirlen, "%s", rq->outdir)
                             : snprintf(dir, dirlen, "reports/%s", t->name);
  if (n < 0 || (size_t)n >= dirlen) {
    ll__target_free(t);
    return ll__usage_error(verb, "output directory name too long");
  }
  if ((rc = ll__mkdir_p(dir)) != 0) {
    ll__target_free(t);
    return ll__runtime_error(dir, rc, NULL);
  }
  return 0;
}

enum { OPT_SCALE, OPT_OUTPUT, OPT_TOP, OPT_EXISTING, OPT_CAPTURE, OPT_ALLOCATOR };

static int parse(const char *verb, const char *existing_opt, const char *help, int argc,
                 char **argv, ll__valgrind_request_t *rq) {
  const ll__opt_t opts[] = {
      {"scale", 0, 1, OPT_SCALE},          {"output", 'o', 1, OPT_OUTPUT},
      {"top", 0, 1, OPT_TOP},              {existing_opt, 0, 1, OPT_EXISTING},
      {"capture", 0, 1, OPT_CAPTURE},      {"allocator", 0, 1, OPT_ALLOCATOR},
      {NULL, 0, 0, 0},
  };
  ll__optstate_t st;
  const char *arg;
  int id, rc;

  memset(rq, 0, sizeof *rq);
  rq->top = 10;
  ll__opt_init(&st, verb, argc, argv);
  while ((id = ll__opt_next(&st, opts, &arg)) != LL__OPT_END) {
    switch (id) {
    case LL__OPT_ERROR: return LL__EXIT_USAGE;
    case LL__OPT_HELP: fputs(help, stdout); return -1;
    case OPT_SCALE:
      if (ll__parse_scale(arg) != 0) return ll__usage_error(verb, "bad --scale '%s': want 0 < F <= 1", arg);
      rq->scale = arg;
      break;
    case OPT_OUTPUT: rq->outdir = arg; break;
    case OPT_EXISTING: rq->existing = arg; break;
    case OPT_CAPTURE: rq->capture = arg; break;
    case OPT_ALLOCATOR:
      if ((rc = ll__allocator_library(verb, arg, &rq->allocator_lib)) != 0) return rc;
      rq->allocator = arg;
      break;
    case OPT_TOP:
      if (ll__parse_uint(arg, 0, 1000000, &rq->top) != 0)
        return ll__usage_error(verb, "bad --top '%s': want a number (0: all)", arg);
      break;
    case LL__OPT_POSITIONAL:
      if (st.positional) { /* after "--": the program and its arguments */
        rq->prog = &argv[st.next - 1];
        rq->nprog = argc - (st.next - 1);
        st.next = argc;
        break;
      }
      if (rq->spec != NULL)
        return ll__usage_error(verb, "unexpected argument '%s' (a PROGRAM goes after '--')", arg);
      rq->spec = arg;
      break;
    default: return ll__usage_error(verb, "unexpected option");
    }
  }
  if (rq->existing != NULL) {
    if (rq->spec != NULL || rq->prog != NULL || rq->scale != NULL || rq->allocator != NULL)
      return ll__usage_error(verb, "--%s reads an existing %s: no SCENARIO, PROGRAM or --allocator",
                             existing_opt, strcmp(existing_opt, "xml") == 0
                                               ? "memcheck XML file" : "massif.out");
  } else if (rq->capture != NULL) {
    return ll__usage_error(verb, "--capture goes with --%s", existing_opt);
  }
  return 0;
}

int ll__valgrind_begin(ll__valgrind_run_t *v, const char *verb, const char *existing_opt,
                       const char *help, int argc, char **argv) {
  int status;
  memset(v, 0, sizeof *v);
  if ((status = parse(verb, existing_opt, help, argc, argv, &v->rq)) != 0) return status;
  v->capture = v->rq.capture;
  if (v->rq.existing != NULL) return 0;
  return prepare(verb, &v->rq, &v->target, v->dir, sizeof v->dir);
}

int ll__valgrind_tool(const ll__valgrind_run_t *v, const char *verb, const char *slow,
                      const char *out_name, const char *out_opt, char *const *opts, size_t nopts,
                      char *out, size_t outlen, double *seconds) {
  char valgrind[PATH_MAX], log[PATH_MAX + 32], tool[64], out_arg[PATH_MAX * 2], what[96], st[96];
  const ll__target_t *t = &v->target;
  struct stat sb;
  int status = 0, rc;

  if ((rc = ll__find_program("valgrind", valgrind, sizeof valgrind)) != 0)
    return ll__runtime_error("valgrind", LL_ENOENT, LL__VALGRIND_HINT);
  if ((size_t)snprintf(out, outlen, "%s/%s", v->dir, out_name) >= outlen ||
      (size_t)snprintf(log, sizeof log, "%s/%s.log", v->dir, verb) >= sizeof log ||
      (size_t)snprintf(out_arg, sizeof out_arg, "%s%s", out_opt, out) >= sizeof out_arg)
    return ll__runtime_error(v->dir, LL_EINVAL, " (path too long)");
  unlink(out);
  snprintf(tool, sizeof tool, "--tool=%s", verb);
  char **argv = calloc(3 + nopts + (size_t)t->argc + 1, sizeof *argv);
  if (argv == NULL) return ll__runtime_error("leaklab", LL_ENOMEM, NULL);
  size_t k = 0;
  argv[k++] = valgrind;
  argv[k++] = tool;
  argv[k++] = out_arg;
  for (size_t i = 0; i < nopts; i++) argv[k++] = opts[i];
  for (int i = 0; i < t->argc; i++) argv[k++] = t->argv[i];

  fprintf(stderr, "leaklab %s: running %s under valgrind %s (%s slower; log: %s)\n", verb,
          t->label, verb, slow, log);
  snprintf(what, sizeof what, "valgrind %s still running", verb);
  rc = ll__run_logged(argv, log, verb, what, 3.0, &status, seconds);
  free(argv);
  if (rc != 0) return ll__runtime_error(valgrind, rc, NULL);
  ll__describe_status(status, st, sizeof st);
  if (stat(out, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
    fprintf(stderr, "leaklab: %s: valgrind %s and wrote no %s (see %s)\n", t->label, st, out_name,
            log);
    return LL__EXIT_RUNTIME;
  }
  fprintf(stderr, "leaklab %s: valgrind done in %.1f s, program %s\n", verb, *seconds, st);
  return 0;
}

void ll__valgrind_record(ll__valgrind_run_t *v, const char *verb) {
  char log[PATH_MAX + 32], progress[64];
  int rc;
  ll__record_opts_t o = LL__RECORD_OPTS_DEFAULT;

  if (v->target.argv == NULL) return;
  v->record_failed = 1;
  if ((size_t)snprintf(v->cap, sizeof v->cap, "%s/leaklab.capture", v->dir) >= sizeof v->cap ||
      (size_t)snprintf(log, sizeof log, "%s/leaklab-run.log", v->dir) >= sizeof log) {
    ll__runtime_error(v->dir, LL_EINVAL, " (path too long)");
    return;
  }
  o.output = v->cap;
  o.allocator = v->rq.allocator_lib;
  o.log = log;
  o.verb = verb;
  snprintf(progress, sizeof progress, "leaklab run still running");
  o.progress = progress;
  fprintf(stderr, "leaklab %s: recording %s with leaklab run (log: %s)\n", verb, v->target.label,
          log);
  double start = ll__now_seconds();
  rc = ll__record(v->target.argv, &o, v->cap, sizeof v->cap, &v->wait_status, NULL);
  v->leaklab_s = ll__now_seconds() - start;
  if (rc != 0) return;
  v->record_failed = 0;
  v->capture = v->cap;
}

int ll__valgrind_end(ll__valgrind_run_t *v, int status) {
  if (fflush(stdout) != 0 && status == 0) status = ll__runtime_error("<stdout>", LL_EIO, NULL);
  if (v->record_failed && status == 0) status = LL__EXIT_RUNTIME;
  /* A crash is no success, whatever the comparison shows: the status `run` would give. */
  if (status == 0 && v->target.argv != NULL && WIFSIGNALED(v->wait_status)) {
    ll__print_killed(v->target.label, WTERMSIG(v->wait_status),
                     "; the figures above are up to that moment\n");
    status = ll__program_status(v->wait_status);
  }
  ll__target_free(&v->target);
  return status;
}
