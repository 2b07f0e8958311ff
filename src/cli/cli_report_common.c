/* cli_report_common.c - what `report` and `diff` share: their options, loading a moment, filters, output. */
#include "cli.h"

#include <leaklab/budget.h>
#include "arena.h"
#include "capture_format.h"
#include "symbolize.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const ll__opt_t ll__report_opts[] = {
    {"at", 0, 1, LL__RO_AT},
    {"group-by", 0, 1, LL__RO_GROUP},
    {"cumulative", 0, 0, LL__RO_CUMULATIVE},
    {"top", 0, 1, LL__RO_TOP},
    {"format", 0, 1, LL__RO_FORMAT},
    {"output", 'o', 1, LL__RO_OUTPUT},
    {"include", 0, 1, LL__RO_INCLUDE},
    {"exclude", 0, 1, LL__RO_EXCLUDE},
    {"all-frames", 0, 0, LL__RO_ALL_FRAMES},
    {"native", 0, 0, LL__RO_NATIVE},
    {"no-native", 0, 0, LL__RO_NO_NATIVE},
    {"usable", 0, 0, LL__RO_USABLE},
    {"weight", 0, 1, LL__RO_WEIGHT},
    {"growth", 0, 0, LL__RO_GROWTH},
    {"growth-min", 0, 1, LL__RO_GROWTH_MIN},
    {"retainers", 0, 0, LL__RO_RETAINERS},
    {NULL, 0, 0, 0},
};

int ll__report_args_init(ll__report_args_t *ra, int argc) {
  memset(ra, 0, sizeof *ra);
  ra->at = -1;
  ra->native = -1;
  ra->group = LL_GROUP_LINENO;
  ra->format = LL_FORMAT_TEXT;
  ra->growth_min = -1;
  /* One argument gives at most one filter, so argc bounds them. */
  ra->filters = calloc(argc > 0 ? (size_t)argc : 1, sizeof *ra->filters);
  if (ra->filters == NULL) return ll__runtime_error("leaklab", LL_ENOMEM, NULL);
  return 0;
}

void ll__report_args_free(ll__report_args_t *ra) {
  free(ra->filters);
  ra->filters = NULL;
}

/* GLOB[:LINE]: a trailing ":digits" is the line (0: any), the rest the glob. The text is argv's
 * own, so the glob is cut in place. */
static int add_filter(ll__report_args_t *ra, const char *verb, const char *opt, char *text,
                      int inclusive) {
  ll_filter_t *f = &ra->filters[ra->nfilter];
  char *colon = strrchr(text, ':');
  uint64_t line = 0;

  if (colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
    if (ll__parse_uint(colon + 1, 0, UINT32_MAX, &line) != 0)
      return ll__usage_error(verb, "bad line number in %s '%s'", opt, text);
    *colon = '\0';
  }
  if (text[0] == '\0') return ll__usage_error(verb, "empty file pattern in %s", opt);
  f->inclusive = inclusive;
  f->filename_pattern = text;
  f->lineno = (unsigned)line;
  ra->nfilter++;
  return 0;
}

int ll__report_args_apply(ll__report_args_t *ra, const char *verb, int id, const char *arg) {
  int v;
  switch (id) {
  case LL__RO_AT:
    if ((v = ll__parse_at(arg)) < 0)
      return ll__usage_error(verb, "bad --at '%s': use current, peak, end, leaks, temporary, "
                             "allocations, lost or reachable", arg);
    ra->at = v;
    return 0;
  case LL__RO_GROUP:
    if ((v = ll__parse_group(arg)) < 0)
      return ll__usage_error(verb, "bad --group-by '%s': use lineno, filename or traceback", arg);
    ra->group = (ll_group_t)v;
    ra->group_given = 1;
    return 0;
  case LL__RO_CUMULATIVE: ra->cumulative = 1; return 0;
  case LL__RO_NATIVE: ra->native = 1; return 0;
  case LL__RO_NO_NATIVE: ra->native = 0; return 0;
  case LL__RO_USABLE: ra->usable = 1; return 0;
  case LL__RO_RETAINERS: ra->retainers = 1; return 0;
  case LL__RO_TOP:
    if (ll__parse_uint(arg, 0, SIZE_MAX, &ra->top) != 0)
      return ll__usage_error(verb, "bad --top '%s': give a whole number (0 shows all)", arg);
    ra->top_given = 1;
    return 0;
  case LL__RO_FORMAT:
    if ((v = ll_format_parse(arg)) < 0)
      return ll__usage_error(verb, "bad --format '%s': use text, json, folded, pprof, massif or "
                             "html", arg);
    ra->format = (ll_format_t)v;
    return 0;
  case LL__RO_WEIGHT:
    if (strcmp(arg, "bytes") == 0) ra->weight = LL_WEIGHT_BYTES;
    else if (strcmp(arg, "count") == 0) ra->weight = LL_WEIGHT_COUNT;
    else return ll__usage_error(verb, "bad --weight '%s': use bytes or count", arg);
    ra->weight_given = 1;
    return 0;
  case LL__RO_OUTPUT:
    if (arg[0] == '\0') return ll__usage_error(verb, "empty file name for -o");
    ra->output = arg;
    return 0;
  /* Filters are cut in place: argv's strings are the program's to modify. */
  case LL__RO_INCLUDE: return add_filter(ra, verb, "--include", (char *)arg, 1);
  case LL__RO_EXCLUDE: return add_filter(ra, verb, "--exclude", (char *)arg, 0);
  case LL__RO_ALL_FRAMES: ra->all_frames = 1; return 0;
  case LL__RO_GROWTH: ra->growth = 1; return 0;
  case LL__RO_GROWTH_MIN: {
    uint64_t v;
    if (ll_parse_size(arg, &v) != 0)
      return ll__usage_error(verb, "bad --growth-min '%s': give a size such as 1MB or 512 KiB", arg);
    ra->growth_min = (int64_t)(v > INT64_MAX ? INT64_MAX : v);
    return 0;
  }
  default: break;
  }
  return ll__usage_error(verb, "internal error: unhandled option %d", id);
}

int ll__report_args_parse(ll__report_args_t *ra, const char *verb, const char *help, int argc,
                          char **argv, const char **files, size_t nfile,
                          const char *const *missing) {
  ll__optstate_t st;
  const char *arg;
  size_t got = 0;
  int id, status;

  ll__opt_init(&st, verb, argc, argv);
  while ((id = ll__opt_next(&st, ll__report_opts, &arg)) != LL__OPT_END) {
    if (id == LL__OPT_ERROR) return LL__EXIT_USAGE;
    if (id == LL__OPT_HELP) {
      fputs(help, stdout);
      return -1;
    }
    if (id == LL__OPT_POSITIONAL) {
      if (got == nfile)
        return ll__usage_error(verb, "unexpected argument '%s': %s reads %s", arg, verb,
                               nfile == 1 ? "one file" : "two files");
      files[got++] = arg;
      continue;
    }
    if ((status = ll__report_args_apply(ra, verb, id, arg)) != 0) return status;
  }
  if (got < nfile) return ll__usage_error(verb, "%s", missing[got]);
  /* -o onto a file being read would truncate it before (or while) it is read. */
  struct stat out, in;
  if (ra->output != NULL && strcmp(ra->output, "-") != 0 && stat(ra->output, &out) == 0)
    for (size_t i = 0; i < nfile; i++)
      if (stat(files[i], &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        return ll__usage_error(verb, "-o %s is the file being read (%s): it would be overwritten; "
                               "write the report elsewhere", ra->output, files[i]);
  return ll__report_args_check(ra, verb);
}

int ll__report_args_check(const ll__report_args_t *ra, const char *verb) {
  if (ra->cumulative && ra->group == LL_GROUP_TRACEBACK)
    return ll__usage_error(verb, "--cumulative cannot be used with --group-by traceback");
  if (ra->format == LL_FORMAT_MASSIF || ra->format == LL_FORMAT_FOLDED ||
      ra->format == LL_FORMAT_PPROF) {
    /* Whole trees of tracebacks: nothing to group or cut. massif.out holds the peak and the
     * end; folded and pprof the moment --at chooses. */
    const char *fmt = ra->format == LL_FORMAT_MASSIF ? "massif"
                      : ra->format == LL_FORMAT_FOLDED ? "folded" : "pprof";
    const char *bad = ra->format == LL_FORMAT_MASSIF && ra->at >= 0 ? "--at"
                      : ra->group_given ? "--group-by" : ra->top_given ? "--top"
                      : ra->cumulative ? "--cumulative" : ra->usable ? "--usable" : NULL;
    if (strcmp(verb, "report") != 0)
      return ll__usage_error(verb, "--format %s is for 'leaklab report', not %s%s", fmt, verb,
                             ra->format == LL_FORMAT_PPROF
                                 ? " (pprof -diff_base OLD NEW compares two pprof files)" : "");
    if (bad != NULL)
      return ll__usage_error(verb, "%s cannot be used with --format %s (%s)", bad, fmt,
                             ra->format == LL_FORMAT_MASSIF
                                 ? "it always holds the peak and the end, whole"
                                 : "it holds every traceback of the moment, whole");
  }
  if ((ra->growth || ra->growth_min >= 0) && strcmp(verb, "report") != 0)
    return ll__usage_error(verb, "--growth is for 'leaklab report' (growth is of one capture)");
  if (ra->growth_min >= 0 && !ra->growth)
    return ll__usage_error(verb, "--growth-min goes with --growth");
  if (ra->growth && (ra->format != LL_FORMAT_TEXT && ra->format != LL_FORMAT_JSON))
    return ll__usage_error(verb, "--growth is written as text or json");
  if (ra->growth && (ra->at >= 0 || ra->cumulative || ra->usable))
    return ll__usage_error(verb, "--growth judges the whole run: not with %s",
                           ra->at >= 0 ? "--at" : ra->cumulative ? "--cumulative" : "--usable");
  if (ra->format == LL_FORMAT_PPROF && ra->at == LL_AT_ALLOCATIONS)
    return ll__usage_error(verb, "--at allocations with --format pprof: the profile always holds "
                           "every allocation (alloc_space); --at chooses its in-use moment");
  if (ra->weight_given && ra->format != LL_FORMAT_FOLDED)
    return ll__usage_error(verb, "--weight is for --format folded");
  if (ra->format == LL_FORMAT_HTML) {
    /* The page holds every moment, every line, and switches between them itself. */
    const char *bad = ra->at >= 0 ? "--at" : ra->group_given ? "--group-by" : ra->top_given ? "--top"
                      : ra->cumulative ? "--cumulative" : ra->usable ? "--usable" : NULL;
    if (strcmp(verb, "report") != 0)
      return ll__usage_error(verb, "--format html is for 'leaklab report', not %s", verb);
    if (bad != NULL)
      return ll__usage_error(verb, "%s cannot be used with --format html (the page holds every "
                             "moment and every line, and switches between them)", bad);
  }
  if (ra->usable && ra->format != LL_FORMAT_TEXT)
    return ll__usage_error(verb, "--usable is for text reports (json always has \"usable\")");
  return 0;
}

int ll__open_capture(const char *path, ll_capture_t **cap, unsigned *mask) {
  int rc = ll_capture_open(path, cap);
  if (rc < 0) return ll__runtime_error(path, rc, NULL);
  *mask = ll_capture_views(*cap);
  if ((*mask & ((1u << LL_AT__COUNT) - 1)) == 0) return ll__runtime_error(path, LL_ENOVIEW, NULL);
  return 0;
}

int ll__default_at(unsigned mask) {
  static const ll_at_t order[] = {LL_AT_PEAK, LL_AT_END, LL_AT_CURRENT, LL_AT_LEAKS,
                                  LL_AT_TEMPORARY};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (mask & (1u << order[i])) return (int)order[i];
  return -1;
}

/* " (asked for 'leaks'; the file holds: peak, end)" - what to ask for instead. */
static void views_hint(char *buf, size_t len, ll_at_t at, unsigned mask) {
  size_t used = (size_t)snprintf(buf, len, " (asked for '%s'; the file holds:", ll_at_name(at));
  const char *sep = " ";
  for (int a = 0; a < LL_AT__COUNT && used < len; a++) {
    if (!(mask & (1u << a))) continue;
    used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, ll_at_name((ll_at_t)a));
    sep = ", ";
  }
  if (used < len) snprintf(buf + used, len - used, ")");
}

/* snap with ra's filters applied (replacing it); 0 or an exit status. */
static int apply_filters(const char *path, const ll__report_args_t *ra, ll_snapshot_t **snap) {
  ll_snapshot_t *filtered = NULL;
  if (ra->nfilter == 0 || *snap == NULL) return 0;
  for (size_t i = 0; i < ra->nfilter; i++) ra->filters[i].all_frames = ra->all_frames;
  int rc = ll_snapshot_filter(*snap, ra->filters, ra->nfilter, &filtered);
  ll_snapshot_free(*snap);
  *snap = filtered;
  return rc < 0 ? ll__runtime_error(path, rc, NULL) : 0;
}

static int check_view(const char *path, ll_at_t at, unsigned mask) {
  char hint[160];
  if (mask & (1u << at)) return 0;
  views_hint(hint, sizeof hint, at, mask);
  return ll__runtime_error(path, LL_ENOVIEW, hint);
}

int ll__load_filtered(const char *path, const ll_capture_t *cap, ll_at_t at, unsigned mask,
                      const ll__report_args_t *ra, ll_snapshot_t **out) {
  ll_snapshot_t *snap = NULL;
  int status;
  if ((status = check_view(path, at, mask)) != 0) return status;
  int rc = ll_symbolize_capture(cap, at, ra->native, &snap); /* native frames of a preload capture */
  if (rc < 0) return ll__runtime_error(path, rc, NULL);
  if ((status = apply_filters(path, ra, &snap)) != 0) return status;
  *out = snap;
  return 0;
}

int ll__load_filtered_many(const char *path, const ll_capture_t *cap, const ll_at_t *at, size_t n,
                           unsigned mask, const ll__report_args_t *ra, ll_snapshot_t **own,
                           ll_snapshot_t **native) {
  int status;
  for (size_t i = 0; i < n; i++)
    if ((status = check_view(path, at[i], mask)) != 0) return status;
  int rc = ll_symbolize_moments(cap, at, n, own, native);
  if (rc < 0) return ll__runtime_error(path, rc, NULL);
  for (size_t i = 0; i < n; i++)
    if ((status = apply_filters(path, ra, &own[i])) != 0 ||
        (native != NULL && (status = apply_filters(path, ra, &native[i])) != 0))
      return status;
  return 0;
}

int ll__load_jemalloc(const char *path, const ll_capture_t *cap, ll_jemalloc_stats_t *out) {
  const ll_cap_jemalloc_t *je;
  int rc = ll_capture_jemalloc(cap, &je);
  if (rc == LL_ENOVIEW) return 0;
  if (rc != 0) return ll__runtime_error(path, rc, " (jemalloc section)");
  *out = (ll_jemalloc_stats_t){je->allocated, je->active, je->resident, je->mapped};
  return 1;
}

int ll__emit_report(const ll__report_args_t *ra, const ll_snapshot_t *snap,
                    const ll_stats_t *stats, const ll_jemalloc_stats_t *jemalloc) {
  ll_report_opts_t opts = {.format = ra->format, .usable = ra->usable, .jemalloc = jemalloc,
                           .reach = ra->reach, .retainers = ra->retainers};
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  FILE *f;
  int rc, status;

  /* A screenful by default on a terminal's text; JSON is for programs, which want everything. */
  if (ra->top_given)
    opts.top = (size_t)ra->top;
  else
    opts.top = ra->format == LL_FORMAT_TEXT ? 10 : 0;

  if ((f = ll__open_output(ra->output)) == NULL) return LL__EXIT_RUNTIME;
  rc = ll_report_write(f, snap, stats, &opts);
  status = ll__close_output(f, name);
  if (rc < 0 && status == LL__EXIT_OK) return ll__runtime_error(name, rc, NULL);
  return status;
}
