/* report.c - whole reports of statistics: a heading and tracemalloc lines as text, or one JSON object. */
#include <leaklab/report.h>

#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "retainers.h"

/* Room for any ll_format_stat line: the key's file name is printed separately when longer. */
#define LINE_MAX_LEN 512

static const ll_frame_t unknown_frame = {"<unknown>", "", 0, 0};

/* frames[0] of a key, or a stand-in so that a malformed key never crashes a report. */
static const ll_frame_t *key_frame(const ll_stat_t *st) {
  if (st->traceback == NULL || st->traceback->nframe == 0 || st->traceback->frames == NULL)
    return &unknown_frame;
  return &st->traceback->frames[0];
}

static const char *str_or(const char *s, const char *fallback) { return s != NULL ? s : fallback; }

static size_t shown_count(const ll_stats_t *stats, const ll_report_opts_t *opts) {
  if (opts->top == 0 || opts->top > stats->len) return stats->len;
  return opts->top;
}

/* What one statistic is called in a heading: "lines", "file differences", ... */
static const char *group_noun(ll_group_t g, int is_diff) {
  switch (g) {
  case LL_GROUP_FILENAME: return is_diff ? "file differences" : "files";
  case LL_GROUP_TRACEBACK: return is_diff ? "traceback differences" : "tracebacks";
  case LL_GROUP_LINENO: break;
  }
  return is_diff ? "line differences" : "lines";
}

/* ---- text ---------------------------------------------------------------------------------- */

static void write_heading(FILE *out, const ll_snapshot_t *snap, const ll_stats_t *stats,
                          size_t shown) {
  char peak[32], end[32], total[32];
  const char *program = str_or(snap->program, "");

  ll_format_size(peak, sizeof peak, (double)snap->peak_bytes, 0);
  ll_format_size(end, sizeof end, (double)snap->current_bytes, 0);
  ll_format_size(total, sizeof total, (double)snap->total_bytes, 0);

  const char *noun = group_noun(stats->group, stats->is_diff);
  if (stats->len == 0)
    fprintf(out, "[ No %s", noun);
  else if (shown < stats->len)
    fprintf(out, "[ Top %zu of %zu %s", shown, stats->len, noun);
  else
    fprintf(out, "[ Top %zu %s", shown, noun);
  if (stats->cumulative) fputs(" (cumulative)", out);
  fprintf(out, " at %s", str_or(ll_at_name(snap->at), "?"));
  if (program[0] != '\0') fprintf(out, " of %s", program);
  fprintf(out, ": peak=%s, end=%s, %" PRIu64 " allocations totalling %s", peak, end,
          snap->total_allocations, total);
  /* Blocks the tracker could not record are part of the story: never hide them. */
  if (snap->untracked_allocations != 0) {
    char untracked[32];
    ll_format_size(untracked, sizeof untracked, (double)snap->untracked_bytes, 0);
    fprintf(out, ", %" PRIu64 " untracked (%s)", snap->untracked_allocations, untracked);
  }
  fputs(" ]\n", out);
}

/* "jemalloc at end: allocated=..., active=..., resident=..., mapped=..." */
static void write_jemalloc_line(FILE *out, const ll_jemalloc_stats_t *j) {
  char a[32], b[32], c[32], d[32];
  ll_format_size(a, sizeof a, (double)j->allocated, 0);
  ll_format_size(b, sizeof b, (double)j->active, 0);
  ll_format_size(c, sizeof c, (double)j->resident, 0);
  ll_format_size(d, sizeof d, (double)j->mapped, 0);
  fprintf(out, "jemalloc at end: allocated=%s, active=%s, resident=%s, mapped=%s\n", a, b, c, d);
}

/* ", usable=32 B" after a statistic line, when asked for. */
static void write_usable(FILE *out, const ll_stat_t *st, int usable) {
  char u[32];
  if (!usable) return;
  ll_format_size(u, sizeof u, (double)st->usable, 0);
  fprintf(out, ", usable=%s", u);
}

static void write_stat_line(FILE *out, const ll_stat_t *st, int is_diff, int usable) {
  char line[LINE_MAX_LEN];
  int n = ll_format_stat(line, sizeof line, st, is_diff);

  if (n >= 0 && (size_t)n < sizeof line) {
    fputs(line, out);
    write_usable(out, st, usable);
    fputc('\n', out);
    return;
  }
  /* A very long file name: print the key apart, then the rest formatted without it. */
  const ll_frame_t *f = key_frame(st);
  ll_frame_t bare = {"", f->function, f->lineno, f->ip};
  ll_traceback_t tb = {1, 1, &bare};
  ll_stat_t copy = *st;
  copy.traceback = &tb;
  ll_format_stat(line, sizeof line, &copy, is_diff);
  fprintf(out, "%s%s", str_or(f->filename, "<unknown>"), line);
  write_usable(out, st, usable);
  fputc('\n', out);
}

static void write_frames(FILE *out, const ll_stat_t *st) {
  const ll_traceback_t *tb = st->traceback;
  if (tb == NULL || tb->frames == NULL) return;
  for (uint32_t i = 0; i < tb->nframe; i++) {
    const ll_frame_t *f = &tb->frames[i];
    const char *func = str_or(f->function, "");
    fprintf(out, "    %s:%" PRIu32, str_or(f->filename, "<unknown>"), f->lineno);
    if (func[0] != '\0') fprintf(out, " (%s)", func);
    /* Native frames not symbolised yet are only known by their address. */
    if (f->ip != 0 && f->lineno == 0 && func[0] == '\0') fprintf(out, " [0x%" PRIx64 "]", f->ip);
    fputc('\n', out);
  }
  if (tb->total_nframe > tb->nframe)
    fprintf(out, "    ...and %" PRIu32 " older frames not kept (traceback limit)\n",
            tb->total_nframe - tb->nframe);
}

static void write_text(FILE *out, const ll_snapshot_t *snap, const ll_stats_t *stats,
                       const ll_report_opts_t *opts, const ll__retain_t *rt) {
  size_t shown = shown_count(stats, opts);

  write_heading(out, snap, stats, shown);
  if (opts->jemalloc != NULL) write_jemalloc_line(out, opts->jemalloc);
  if (rt != NULL && opts->retainers) ll__retain_text_cost(out, opts->reach);
  for (size_t i = 0; i < shown; i++) {
    write_stat_line(out, &stats->items[i], stats->is_diff, opts->usable);
    if (stats->group == LL_GROUP_TRACEBACK) write_frames(out, &stats->items[i]);
    if (rt != NULL && opts->retainers) ll__retain_text(out, rt, &stats->items[i]);
  }
  if (shown < stats->len) fprintf(out, "...and %zu more\n", stats->len - shown);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* A JSON string (json.c): file names are bytes, made valid UTF-8 there. */
static void json_string(FILE *out, const char *str) { ll__json_string(out, str, 0); }

static void json_frame(FILE *out, const ll_frame_t *f) {
  fputs("{\"file\": ", out);
  json_string(out, f->filename);
  fprintf(out, ", \"line\": %" PRIu32 ", \"function\": ", f->lineno);
  json_string(out, f->function);
  fprintf(out, ", \"ip\": %" PRIu64 "}", f->ip);
}

static void json_site(FILE *out, const ll_stat_t *st, int is_diff, const ll__retain_t *rt) {
  const ll_frame_t *key = key_frame(st);

  fputs("    {\"file\": ", out);
  json_string(out, key->filename);
  fprintf(out, ", \"line\": %" PRIu32 ", \"function\": ", key->lineno);
  json_string(out, key->function);
  fprintf(out, ", \"size\": %" PRIu64 ", \"usable\": %" PRIu64 ", \"count\": %" PRIu64, st->size,
          st->usable, st->count);
  if (is_diff)
    fprintf(out, ", \"size_diff\": %" PRId64 ", \"count_diff\": %" PRId64, st->size_diff,
            st->count_diff);
  if (rt != NULL) ll__retain_json_site(out, rt, st, json_string);
  fputs(", \"frames\": [", out);
  if (st->traceback != NULL && st->traceback->frames != NULL) {
    for (uint32_t i = 0; i < st->traceback->nframe; i++) {
      if (i > 0) fputs(", ", out);
      json_frame(out, &st->traceback->frames[i]);
    }
  }
  fputs("]}", out);
}

static void write_json(FILE *out, const ll_snapshot_t *snap, const ll_stats_t *stats,
                       const ll_report_opts_t *opts, const ll__retain_t *rt) {
  size_t shown = shown_count(stats, opts);

  fputs("{\n  \"program\": ", out);
  json_string(out, snap->program);
  fputs(",\n  \"at\": ", out);
  json_string(out, str_or(ll_at_name(snap->at), "?"));
  fputs(",\n  \"group_by\": ", out);
  json_string(out, str_or(ll_group_name(stats->group), "?"));
  fprintf(out,
          ",\n  \"cumulative\": %s,\n  \"diff\": %s,\n  \"peak_bytes\": %" PRIu64
          ",\n  \"end_bytes\": %" PRIu64 ",\n  \"total_allocations\": %" PRIu64
          ",\n  \"total_bytes\": %" PRIu64 ",\n  \"untracked_allocations\": %" PRIu64
          ",\n  \"untracked_bytes\": %" PRIu64 ",\n  \"sites_total\": %zu",
          stats->cumulative ? "true" : "false", stats->is_diff ? "true" : "false",
          snap->peak_bytes, snap->current_bytes, snap->total_allocations, snap->total_bytes,
          snap->untracked_allocations, snap->untracked_bytes, stats->len);
  if (opts->jemalloc != NULL)
    fprintf(out,
            ",\n  \"jemalloc\": {\"at\": \"end\", \"allocated\": %" PRIu64 ", \"active\": %" PRIu64
            ", \"resident\": %" PRIu64 ", \"mapped\": %" PRIu64 "}",
            opts->jemalloc->allocated, opts->jemalloc->active, opts->jemalloc->resident,
            opts->jemalloc->mapped);
  if (opts->reach != NULL) {
    fputs(",\n  \"leak_kinds\": ", out);
    ll__retain_json_kinds(out, &opts->reach->total);
  }
  fputs(",\n  \"sites\": [", out);
  for (size_t i = 0; i < shown; i++) {
    fputs(i > 0 ? ",\n" : "\n", out);
    json_site(out, &stats->items[i], stats->is_diff, rt);
  }
  fputs(shown > 0 ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- entry point --------------------------------------------------------------------------- */

int ll_report_write(FILE *out, const ll_snapshot_t *snap, const ll_stats_t *stats,
                    const ll_report_opts_t *opts) {
  static const ll_report_opts_t defaults = {.top = 0, .format = LL_FORMAT_TEXT};

  if (out == NULL || snap == NULL || stats == NULL || (stats->len != 0 && stats->items == NULL))
    return LL_EINVAL;
  if (opts == NULL) opts = &defaults;

  /* Per-line kinds and holders: a line of a plain (not cumulative, not diff) statistic. */
  ll__retain_t *rt = NULL;
  if (opts->reach != NULL && !stats->cumulative && !stats->is_diff &&
      (rt = ll__retain_build(opts->reach, stats->group)) == NULL)
    return LL_ENOMEM;
  switch (opts->format) {
  case LL_FORMAT_TEXT: write_text(out, snap, stats, opts, rt); break;
  case LL_FORMAT_JSON: write_json(out, snap, stats, opts, rt); break;
  default: ll__retain_free(rt); return LL_EINVAL;
  }
  ll__retain_free(rt);
  /* Individual writes are not checked: the stream's error flag is sticky, and the flush
   * catches what is still buffered (a full disk, a closed pipe). */
  if (fflush(out) != 0 || ferror(out)) return LL_EIO;
  return 0;
}
