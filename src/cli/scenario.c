/* scenario.c - lessons: index.txt lookup, NAME:VARIANT resolution (and the name a typo meant), a positional word as lesson or program, `scenarios` and `explain`. */
#include "cli.h"
#include "errors.h"
#include "markdown.h"
#include "scenario.h"
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leaklab/budget.h>

static int exe_dir(char *buf, size_t len) {
  if (ll__self_exe(buf, len) != 0) return -1;
  char *slash = strrchr(buf, '/');
  if (slash == NULL) return -1;
  *slash = '\0';
  return 0;
}

static int file_exists(const char *path) { return access(path, R_OK) == 0; }

/* snprintf that says whether everything fitted: paths and fields that would be cut are errors,
 * never silently shortened. */
#define FITS(buf, ...) (snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

/* The first candidate directory holding index.txt. */
static int find_dir(char *dir, size_t len) {
  const char *env = getenv("LEAKLAB_SCENARIOS_DIR");
  char probe[PATH_MAX + 32];
  if (env != NULL && env[0] != '\0') {
    return snprintf(dir, len, "%s", env) < (int)len ? 0 : -1;
  }
  char exe[PATH_MAX];
  if (exe_dir(exe, sizeof exe) == 0) {
    const char *rel[] = {"/scenarios", "/../libexec/leaklab/scenarios"};
    for (size_t i = 0; i < 2; i++) {
      if (FITS(probe, "%s%s/index.txt", exe, rel[i]) && file_exists(probe) &&
          snprintf(dir, len, "%s%s", exe, rel[i]) < (int)len)
        return 0;
    }
  }
  return -1;
}

static char *next_field(char **cursor) {
  char *start = *cursor;
  if (start == NULL) return NULL;
  char *tab = strchr(start, '\t');
  if (tab != NULL) {
    *tab = '\0';
    *cursor = tab + 1;
  } else {
    *cursor = NULL;
  }
  return start;
}

int ll__scenarios_load(ll__scenario_t *out, size_t max, size_t *n, char *dir, size_t dirlen) {
  char path[PATH_MAX + 16], line[1024];
  *n = 0;
  if (find_dir(dir, dirlen) != 0) {
    fprintf(stderr, "leaklab: cannot find the lessons (index.txt): build them with 'make', or set "
                    "LEAKLAB_SCENARIOS_DIR\n");
    return LL__EXIT_RUNTIME;
  }
  if (!FITS(path, "%s/index.txt", dir)) return ll__runtime_error(dir, LL_EINVAL, " (path too long)");
  FILE *f = fopen(path, "r");
  if (f == NULL) return ll__runtime_error(path, LL__ERR(errno), NULL);
  unsigned lineno = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    lineno++;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0') continue;
    char *cur = line;
    char *name = next_field(&cur), *desc = next_field(&cur), *vars = next_field(&cur);
    char *budget = next_field(&cur);
    if (name == NULL || desc == NULL || vars == NULL || budget == NULL || *n == max) {
      fclose(f);
      fprintf(stderr, "leaklab: %s:%u: expected name, description, variants and budget "
                      "separated by tabs\n", path, lineno);
      return LL__EXIT_RUNTIME;
    }
    ll__scenario_t *s = &out[(*n)++];
    if (!FITS(s->name, "%s", name) || !FITS(s->description, "%s", desc) ||
        !FITS(s->variants, "%s", vars) || !FITS(s->budget, "%s", budget)) {
      fclose(f);
      fprintf(stderr, "leaklab: %s:%u: a field is too long\n", path, lineno);
      return LL__EXIT_RUNTIME;
    }
    if (ll_parse_size(budget, &s->budget_bytes) != 0) {
      fclose(f);
      fprintf(stderr, "leaklab: %s:%u: bad budget '%s'\n", path, lineno, budget);
      return LL__EXIT_RUNTIME;
    }
  }
  fclose(f);
  return LL__EXIT_OK;
}

static int has_variant(const ll__scenario_t *s, const char *v) {
  size_t len = strlen(v);
  for (const char *p = s->variants; *p != '\0';) {
    size_t n = strcspn(p, ",");
    if (n == len && strncmp(p, v, len) == 0) return 1;
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

int ll__lesson_or_program(const ll__optstate_t *st, const char *arg, const char **lesson,
                          char ***prog) {
  if (*lesson != NULL)
    return ll__usage_error(st->verb, "unexpected argument '%s' after the lesson", arg);
  if (!st->positional && strchr(arg, '/') == NULL)
    *lesson = arg;
  else
    *prog = &st->argv[st->next - 1]; /* the program starts here; the rest is its own */
  return 0;
}

/* Edits (insert, delete, substitute, swap two neighbours) from a[0..na) to b: the distance a
 * typo makes. Names are short (index.txt's field is 64 bytes). */
static size_t edit_distance(const char *a, size_t na, const char *b) {
  size_t nb = strlen(b), d[65][65];
  if (na > 64 || nb > 64) return (size_t)-1;
  for (size_t i = 0; i <= na; i++) d[i][0] = i;
  for (size_t j = 0; j <= nb; j++) d[0][j] = j;
  for (size_t i = 1; i <= na; i++)
    for (size_t j = 1; j <= nb; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[na][nb];
}

/* The lesson a mistyped name most likely meant: within 2 edits (1 for names of 4 or fewer). */
static const ll__scenario_t *closest(const ll__scenario_t *list, size_t n, const char *name,
                                     size_t len) {
  const ll__scenario_t *best = NULL;
  size_t best_d = len <= 4 ? 2 : 3;
  for (size_t i = 0; i < n; i++) {
    size_t d = edit_distance(name, len, list[i].name);
    if (d < best_d) {
      best_d = d;
      best = &list[i];
    }
  }
  return best;
}

int ll__scenario_command(const char *verb, const char *spec, const char *scale,
                         ll__scenario_cmd_t *cmd) {
  ll__scenario_t list[LL__SCN_MAX];
  size_t n;
  char dir[PATH_MAX];
  int rc = ll__scenarios_load(list, LL__SCN_MAX, &n, dir, sizeof dir);
  if (rc != 0) return rc;
  memset(cmd, 0, sizeof *cmd);
  size_t len = strcspn(spec, ":");
  const ll__scenario_t *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i].name) == len && strncmp(list[i].name, spec, len) == 0) found = &list[i];
  if (found == NULL) {
    const ll__scenario_t *near = closest(list, n, spec, len);
    if (near != NULL)
      return ll__usage_error(verb, "unknown lesson '%.*s' (did you mean %s?)", (int)len, spec,
                             near->name);
    return ll__usage_error(verb, "unknown lesson '%.*s' ('leaklab scenarios' lists them; a "
                           "program goes after '--')", (int)len, spec);
  }
  cmd->scenario = *found;
  if (spec[len] == ':') {
    if (!has_variant(found, spec + len + 1))
      return ll__usage_error(verb, "lesson '%s' has no variant '%s' (it has: %s)", found->name,
                             spec + len + 1, found->variants);
    if (!FITS(cmd->variant, "%s", spec + len + 1))
      return ll__usage_error(verb, "variant name too long in '%s'", spec);
  } else if (!FITS(cmd->variant, "%.*s", (int)strcspn(found->variants, ","), found->variants)) {
    return ll__runtime_error(found->name, LL_EINVAL, " (default variant name too long)");
  }
  if (!FITS(cmd->program, "%s/%s", dir, found->name))
    return ll__runtime_error(dir, LL_EINVAL, " (path too long)");
  if (access(cmd->program, X_OK) != 0) return ll__runtime_error(cmd->program, LL__ERR(errno), NULL);
  int argc = 0;
  cmd->argv[argc++] = cmd->program;
  cmd->argv[argc++] = "--variant";
  cmd->argv[argc++] = cmd->variant;
  if (scale != NULL) {
    if (!FITS(cmd->scale, "%s", scale)) return ll__usage_error(verb, "bad --scale '%s'", scale);
    cmd->argv[argc++] = "--scale";
    cmd->argv[argc++] = cmd->scale;
  }
  cmd->argv[argc] = NULL;
  return LL__EXIT_OK;
}

/* ---- verbs ----------------------------------------------------------------------------------- */

static int run_scenarios(int argc, char **argv) {
  ll__optstate_t st;
  static const ll__opt_t opts[] = {{NULL, 0, 0, 0}};
  const char *arg;
  ll__opt_init(&st, "scenarios", argc, argv);
  for (int id; (id = ll__opt_next(&st, opts, &arg)) != LL__OPT_END;) {
    if (id == LL__OPT_HELP) {
      fputs(ll__verb_scenarios.help, stdout);
      return LL__EXIT_OK;
    }
    if (id == LL__OPT_ERROR) return LL__EXIT_USAGE;
    return ll__usage_error("scenarios", "unexpected argument '%s'", arg);
  }
  ll__scenario_t list[LL__SCN_MAX];
  size_t n;
  char dir[PATH_MAX];
  int rc = ll__scenarios_load(list, LL__SCN_MAX, &n, dir, sizeof dir);
  if (rc != 0) return rc;
  for (size_t i = 0; i < n; i++)
    printf("%-14s %-44s budget %-8s %s\n", list[i].name, list[i].variants, list[i].budget,
           list[i].description);
  return fflush(stdout) == 0 ? LL__EXIT_OK : LL__EXIT_RUNTIME;
}

/* Columns to wrap a lesson at: the terminal's, else $COLUMNS, else 80; within 40..100. */
static size_t text_width(void) {
  struct winsize ws;
  long w = 0;
  const char *env = getenv("COLUMNS");
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    w = ws.ws_col;
  else if (env != NULL)
    w = strtol(env, NULL, 10);
  if (w <= 0) w = 80;
  return w < 40 ? 40 : w > 100 ? 100 : (size_t)w;
}

static int run_explain(int argc, char **argv) {
  ll__optstate_t st;
  enum { OPT_SOLUTIONS };
  static const ll__opt_t opts[] = {{"solutions", 0, 0, OPT_SOLUTIONS}, {NULL, 0, 0, 0}};
  const char *arg, *name = NULL;
  int solutions = 0;
  ll__opt_init(&st, "explain", argc, argv);
  for (int id; (id = ll__opt_next(&st, opts, &arg)) != LL__OPT_END;) {
    if (id == LL__OPT_HELP) {
      fputs(ll__verb_explain.help, stdout);
      return LL__EXIT_OK;
    }
    if (id == LL__OPT_ERROR) return LL__EXIT_USAGE;
    if (id == OPT_SOLUTIONS) {
      solutions = 1;
      continue;
    }
    if (name != NULL) return ll__usage_error("explain", "unexpected argument '%s'", arg);
    name = arg;
  }
  if (name == NULL) return ll__usage_error("explain", "which lesson? ('leaklab scenarios' lists them)");
  ll__scenario_t list[LL__SCN_MAX];
  size_t n;
  char dir[PATH_MAX], path[PATH_MAX + 80], buf[8192], hidden[128];
  int rc = ll__scenarios_load(list, LL__SCN_MAX, &n, dir, sizeof dir);
  if (rc != 0) return rc;
  size_t i = 0;
  while (i < n && strcmp(list[i].name, name) != 0) i++;
  if (i == n) return ll__usage_error("explain", "unknown lesson '%s' ('leaklab scenarios' lists them)", name);
  if (!FITS(path, "%s/%s.md", dir, name)) return ll__runtime_error(dir, LL_EINVAL, " (path too long)");
  FILE *f = fopen(path, "r");
  if (f == NULL) return ll__runtime_error(path, LL__ERR(errno), NULL);
  char *text = NULL;
  size_t len = 0, got;
  FILE *mem = open_memstream(&text, &len);
  while (mem != NULL && (got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, mem);
  int bad = ferror(f);
  fclose(f);
  if (mem == NULL || fclose(mem) != 0) {
    free(text);
    return ll__runtime_error(path, LL_ENOMEM, NULL);
  }
  if (bad) {
    free(text);
    return ll__runtime_error(path, LL_EIO, NULL);
  }
  snprintf(hidden, sizeof hidden, "'leaklab explain %.64s --solutions'", name);
  ll__md_opts_t mo = {.width = text_width(), .show_details = solutions, .hidden = hidden};
  rc = ll__md_render(stdout, text, len, &mo);
  free(text);
  if (rc != 0 || fflush(stdout) != 0) return ll__runtime_error("<stdout>", LL_EIO, NULL);
  return LL__EXIT_OK;
}

const ll__verb_t ll__verb_scenarios = {
    "scenarios", "", "list the lessons, their variants and memory budgets, one per line",
    "usage: leaklab scenarios\n"
    "\n"
    "Lists every lesson: its name, its variants (the first is the default), its peak-memory\n"
    "budget and what it teaches. Run one with 'leaklab run NAME:VARIANT'; read it with\n"
    "'leaklab explain NAME'.\n",
    run_scenarios};

const ll__verb_t ll__verb_explain = {
    "explain", "SCENARIO [--solutions]",
    "print a lesson: goal, commands, what the report shows, exercises",
    "usage: leaklab explain SCENARIO [--solutions]\n"
    "\n"
    "Prints the lesson's text (its README) on stdout, rendered for a terminal: headings\n"
    "underlined, paragraphs wrapped to the terminal's width (or $COLUMNS, 40..100), commands\n"
    "and output indented as written. Hints and solutions stay hidden, one line each, unless\n"
    "--solutions.\n"
    "\n"
    "options:\n"
    "  --solutions   show the hints and solutions too\n"
    "  -h, --help    show this help\n",
    run_explain};
