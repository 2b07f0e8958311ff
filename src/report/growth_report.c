/* growth_report.c - memory over time grouped by site, each site's growth verdict, as text or JSON. */
#include "growth_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *str_or(const char *s, const char *fallback) { return s != NULL ? s : fallback; }

/* A frame's identity as the engine's statistics key it (stats.c): file and line, the function
 * with them (a library without lines has only its function, or MODULE+0xOFFSET), and the
 * address of a frame nothing was learnt about. File and line alone would merge every call site
 * of a module without debug information into one MODULE:0. */
static int frame_eq(const ll_frame_t *a, const ll_frame_t *b, ll_group_t g) {
  if (strcmp(str_or(a->filename, ""), str_or(b->filename, "")) != 0) return 0;
  if (g == LL_GROUP_FILENAME) return 1;
  const char *fa = str_or(a->function, ""), *fb = str_or(b->function, "");
  if (a->lineno != b->lineno || strcmp(fa, fb) != 0) return 0;
  return a->lineno != 0 || fa[0] != '\0' || a->ip == b->ip;
}

/* Same site under the grouping: tracemalloc's keys (file and line, the file, or every frame). */
static int same_site(const ll_traceback_t *a, const ll_traceback_t *b, ll_group_t g) {
  if (a->nframe == 0 || b->nframe == 0) return a->nframe == b->nframe;
  if (g != LL_GROUP_TRACEBACK) return frame_eq(&a->frames[0], &b->frames[0], g);
  if (a->nframe != b->nframe) return 0;
  for (uint32_t i = 0; i < a->nframe; i++)
    if (!frame_eq(&a->frames[i], &b->frames[i], g)) return 0;
  return 1;
}

static int by_high(const void *pa, const void *pb) {
  const ll__site_series_t *a = pa, *b = pb;
  if (a->growth.high != b->growth.high) return a->growth.high < b->growth.high ? 1 : -1;
  if (a->growth.end != b->growth.end) return a->growth.end < b->growth.end ? 1 : -1;
  return 0;
}

void ll__site_set_free(ll__site_set_t *set) {
  if (set == NULL) return;
  for (size_t i = 0; i < set->n; i++) free(set->sites[i].bytes);
  free(set->sites);
  free(set->other);
  memset(set, 0, sizeof *set);
}

int ll__series_by_site(const ll__series_in_t *in, ll_group_t group, ll__site_set_t *out) {
  ll__site_set_t set = {.group = group, .npts = in->npts};
  ll_growth_point_t *pts = NULL;
  int rc = LL_ENOMEM;

  memset(out, 0, sizeof *out);
  if (in->npts == 0) return 0;
  set.sites = calloc(in->ncols ? in->ncols : 1, sizeof *set.sites);
  set.other = calloc(in->npts, sizeof *set.other);
  pts = calloc(in->npts, sizeof *pts);
  if (set.sites == NULL || set.other == NULL || pts == NULL) goto fail;

  /* Columns into sites: a few hundred columns at most, so a linear search is enough. */
  for (size_t c = 0; c < in->ncols; c++) {
    size_t s = 0;
    while (s < set.n && !same_site(set.sites[s].key, in->cols[c], group)) s++;
    if (s == set.n) {
      if ((set.sites[s].bytes = calloc(in->npts, sizeof(uint64_t))) == NULL) goto fail;
      set.sites[s].key = in->cols[c];
      set.n++;
    }
    for (size_t p = 0; p < in->npts; p++) set.sites[s].bytes[p] += in->val[p * in->ncols + c];
  }
  for (size_t p = 0; p < in->npts; p++) {
    uint64_t sum = 0;
    for (size_t s = 0; s < set.n; s++) sum += set.sites[s].bytes[p];
    set.other[p] = in->total[p] > sum ? in->total[p] - sum : 0;
  }
  for (size_t s = 0; s < set.n; s++) {
    for (size_t p = 0; p < in->npts; p++)
      pts[p] = (ll_growth_point_t){in->clock[p], in->t_ns[p], set.sites[s].bytes[p]};
    ll__growth_classify(pts, in->npts, &set.sites[s].growth);
  }
  qsort(set.sites, set.n, sizeof *set.sites, by_high);
  free(pts);
  *out = set;
  return 0;
fail:
  free(pts);
  ll__site_set_free(&set);
  return rc;
}

static const char *group_noun(ll_group_t g, size_t n) {
  switch (g) {
  case LL_GROUP_FILENAME: return n == 1 ? "file" : "files";
  case LL_GROUP_TRACEBACK: return n == 1 ? "traceback" : "tracebacks";
  case LL_GROUP_LINENO: break;
  }
  return n == 1 ? "line" : "lines";
}

/* As the statistics' lines name a site (ll_format_stat): FILE:LINE, with the function when
 * there is no line. */
static void site_name(FILE *out, const ll__site_series_t *s, ll_group_t g) {
  const ll_frame_t *f = s->key->nframe > 0 ? &s->key->frames[0] : NULL;
  unsigned line = f != NULL && g != LL_GROUP_FILENAME ? f->lineno : 0;
  const char *fn = f != NULL && g != LL_GROUP_FILENAME ? str_or(f->function, "") : "";
  fprintf(out, "%s:%u", f != NULL ? str_or(f->filename, "<unknown>") : "<unknown>", line);
  if (line == 0 && fn[0] != '\0') fprintf(out, " (%s)", fn);
}

static void size_str(char *buf, size_t len, double v) { ll_format_size(buf, len, v, 0); }

static void text_site(FILE *out, const ll__site_series_t *s, ll_group_t g) {
  const ll_growth_t *gr = &s->growth;
  char a[32], b[32], c[32];
  site_name(out, s, g);
  fprintf(out, ": %s, ", ll__growth_name(gr->kind));
  switch (gr->kind) {
  case LL_GROWTH_GROWS:
    size_str(a, sizeof a, (double)gr->end);
    size_str(b, sizeof b, gr->bytes_per_alloc);
    size_str(c, sizeof c, gr->bytes_per_sec);
    fprintf(out, "size=%s, +%s per allocation (+%s/s), rising until %.0f%% of the run", a, b, c,
            gr->settled * 100);
    break;
  case LL_GROWTH_BOUNDED:
    size_str(a, sizeof a, (double)gr->end);
    size_str(b, sizeof b, (double)gr->level);
    fprintf(out, "size=%s, level=%s, settled at %.0f%% of the run", a, b, gr->settled * 100);
    break;
  case LL_GROWTH_RELEASED:
    size_str(a, sizeof a, (double)gr->high);
    size_str(b, sizeof b, (double)gr->end);
    fprintf(out, "peak=%s, end=%s", a, b);
    break;
  }
  fputc('\n', out);
  if (g == LL_GROUP_TRACEBACK)
    for (uint32_t i = 0; i < s->key->nframe; i++) {
      const ll_frame_t *f = &s->key->frames[i];
      fprintf(out, "    %s:%u", str_or(f->filename, "<unknown>"), f->lineno);
      if (f->function != NULL && f->function[0] != '\0') fprintf(out, " (%s)", f->function);
      fputc('\n', out);
    }
}

static void json_site(FILE *out, const ll__site_series_t *s, ll_group_t g) {
  const ll_growth_t *gr = &s->growth;
  const ll_frame_t *f = s->key->nframe > 0 ? &s->key->frames[0] : NULL;
  fputs("{\"file\": ", out);
  ll__json_string(out, f != NULL ? f->filename : "<unknown>", 0);
  fprintf(out, ", \"line\": %u, \"function\": ", f != NULL && g != LL_GROUP_FILENAME ? f->lineno : 0);
  ll__json_string(out, f != NULL && g != LL_GROUP_FILENAME ? f->function : "", 0);
  fprintf(out,
          ", \"growth\": \"%s\", \"high\": %" PRIu64 ", \"end\": %" PRIu64 ", \"level\": %" PRIu64
          ", \"bytes_per_allocation\": %.6g, \"bytes_per_second\": %.6g, \"settled\": %.4f",
          ll__growth_name(gr->kind), gr->high, gr->end, gr->level, gr->bytes_per_alloc,
          gr->bytes_per_sec, gr->settled);
  /* By traceback the whole stack is the site: its frames, innermost first, as the report's. */
  if (g == LL_GROUP_TRACEBACK) {
    fputs(", \"frames\": [", out);
    for (uint32_t i = 0; i < s->key->nframe; i++) {
      const ll_frame_t *fr = &s->key->frames[i];
      fputs(i > 0 ? ", {\"file\": " : "{\"file\": ", out);
      ll__json_string(out, str_or(fr->filename, "<unknown>"), 0);
      fprintf(out, ", \"line\": %u, \"function\": ", fr->lineno);
      ll__json_string(out, str_or(fr->function, ""), 0);
      fputc('}', out);
    }
    fputc(']', out);
  }
  fputc('}', out);
}

int ll__growth_write(FILE *out, const ll__series_in_t *in, const ll__site_set_t *set,
                     uint64_t min_bytes, ll_format_t format) {
  size_t judged = 0;
  uint64_t allocs = in->npts > 0 ? in->clock[in->npts - 1] : 0;
  for (size_t s = 0; s < set->n; s++) judged += set->sites[s].growth.high >= min_bytes;

  if (format == LL_FORMAT_JSON) {
    fputs("{\"program\": ", out);
    ll__json_string(out, in->program, 0);
    fprintf(out, ", \"group_by\": \"%s\", \"allocations\": %" PRIu64 ", \"points\": %zu"
            ", \"min_bytes\": %" PRIu64 ", \"sites\": [", str_or(ll_group_name(set->group), "?"),
            allocs, in->npts, min_bytes);
    size_t k = 0;
    for (size_t s = 0; s < set->n; s++) {
      if (set->sites[s].growth.high < min_bytes) continue;
      if (k++ > 0) fputs(", ", out);
      json_site(out, &set->sites[s], set->group);
    }
    fprintf(out, "], \"not_judged\": %zu}\n", set->n - judged);
  } else if (format == LL_FORMAT_TEXT) {
    const char *prog = in->program != NULL && in->program[0] != '\0' ? in->program : NULL;
    if (judged > 0) {
      fprintf(out, "[ Growth of %zu %s", judged, group_noun(set->group, judged));
      if (prog != NULL) fprintf(out, " of %s", prog);
    } else {
      /* Nothing to judge: say why, not "0 lines". */
      char m[32];
      size_str(m, sizeof m, (double)min_bytes);
      fprintf(out, "[ No growth verdict: no %s", group_noun(set->group, 1));
      if (prog != NULL) fprintf(out, " of %s", prog);
      if (set->n > 0 && min_bytes > 0)
        fprintf(out, " reached %s", m);
      else
        fputs(" held memory", out);
    }
    fprintf(out, " over %" PRIu64 " allocations, %zu points ]\n", allocs, in->npts);
    for (size_t s = 0; s < set->n; s++)
      if (set->sites[s].growth.high >= min_bytes) text_site(out, &set->sites[s], set->group);
    if (set->n > judged) {
      char m[32];
      size_str(m, sizeof m, (double)min_bytes);
      fprintf(out, "...and %zu %s under %s not judged\n", set->n - judged,
              group_noun(set->group, set->n - judged), m);
    }
  } else {
    return LL_EINVAL;
  }
  return ferror(out) ? LL_EIO : 0;
}

size_t ll__growth_write_growing(FILE *out, const ll__site_set_t *set, uint64_t min_bytes) {
  size_t n = 0;
  for (size_t s = 0; s < set->n; s++) {
    const ll__site_series_t *site = &set->sites[s];
    if (site->growth.high < min_bytes || site->growth.kind != LL_GROWTH_GROWS) continue;
    text_site(out, site, set->group);
    n++;
  }
  return n;
}
