/* html.c - the HTML report: the embedded page with the report's data (summary, timeline, flamegraph trees, lines, histogram) as JSON. */
#include "html.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html_assets.h"
#include "html_tree.h"
#include "json.h"
#include "retainers.h"

/* ---- the document -------------------------------------------------------------------------- */

static void u64_array(FILE *out, const char *key, const uint64_t *v, size_t n, size_t stride) {
  fprintf(out, "\"%s\":[", key);
  for (size_t i = 0; i < n; i++)
    fprintf(out, i ? ",%" PRIu64 : "%" PRIu64, *(const uint64_t *)((const char *)v + i * stride));
  fputc(']', out);
}

static void emit_summary(FILE *out, const ll_html_input_t *in) {
  const ll_snapshot_t *h = in->head;
  fprintf(out,
          "\"summary\":{\"peak_bytes\":%" PRIu64 ",\"end_bytes\":%" PRIu64
          ",\"total_allocations\":%" PRIu64 ",\"total_bytes\":%" PRIu64
          ",\"untracked_allocations\":%" PRIu64 ",\"untracked_bytes\":%" PRIu64 ",\"how\":",
          h->peak_bytes, h->current_bytes, h->total_allocations, h->total_bytes,
          h->untracked_allocations, h->untracked_bytes);
  if (in->how != NULL)
    ll__json_string(out, in->how, 1);
  else
    fputs("null", out);
  fprintf(out, ",\"signal\":%d,\"jemalloc\":", in->signal);
  if (in->jemalloc != NULL)
    fprintf(out, "{\"allocated\":%" PRIu64 ",\"active\":%" PRIu64 ",\"resident\":%" PRIu64
                 ",\"mapped\":%" PRIu64 "}",
            in->jemalloc->allocated, in->jemalloc->active, in->jemalloc->resident,
            in->jemalloc->mapped);
  else
    fputs("null", out);
  if (in->budget_bytes == NULL && in->leak_limit_bytes == NULL) {
    fputs(",\"budget\":null}", out);
    return;
  }
  fputs(",\"budget\":{\"limit_bytes\":", out);
  if (in->budget_bytes != NULL)
    fprintf(out, "%" PRIu64, *in->budget_bytes);
  else
    fputs("null", out);
  fputs(",\"limit_leaks_bytes\":", out);
  if (in->leak_limit_bytes != NULL)
    fprintf(out, "%" PRIu64 "}}", *in->leak_limit_bytes);
  else
    fputs("null}}", out);
}

static void emit_timeline(FILE *out, const ll_html_input_t *in) {
  size_t peak = 0;
  int found = 0;
  /* The point that carries the peak exactly; the highest one if none does (a filtered view). */
  for (size_t i = 0; i < in->npoint && !found; i++)
    if (in->points[i].high == in->head->peak_bytes) peak = i, found = 1;
  for (size_t i = 0; i < in->npoint && !found; i++)
    if (in->points[i].high > in->points[peak].high) peak = i;
  fputs("\"timeline\":{", out);
  /* No points (a plain snapshot file): no member of points[0] to point at, points is NULL. */
  const ll_html_point_t *pt = in->npoint > 0 ? in->points : &(ll_html_point_t){0, 0, 0};
  u64_array(out, "t_ns", &pt->t_ns, in->npoint, sizeof *pt);
  fputc(',', out);
  u64_array(out, "current", &pt->current, in->npoint, sizeof *pt);
  fputc(',', out);
  u64_array(out, "high", &pt->high, in->npoint, sizeof *pt);
  if (in->npoint > 0)
    fprintf(out, ",\"peak_index\":%zu,\"lines\":[", peak);
  else
    fputs(",\"peak_index\":null,\"lines\":[", out);
  for (size_t s = 0; s < in->nseries; s++) {
    fputs(s ? ",{\"key\":" : "{\"key\":", out);
    ll__json_string(out, in->series[s].key, 1);
    fputc(',', out);
    u64_array(out, "values", in->series[s].values, in->npoint, sizeof(uint64_t));
    if (in->series[s].growth != NULL)
      fprintf(out, ",\"growth\":\"%s\"}", in->series[s].growth); /* one of three words */
    else
      fputs(",\"growth\":null}", out);
  }
  fputs("],", out);
  if (in->other != NULL)
    u64_array(out, "other", in->other, in->npoint, sizeof(uint64_t));
  else
    fputs("\"other\":null", out);
  fputc('}', out);
}

static void emit_lines(FILE *out, const ll_stats_t *st) {
  fputs("\"lines\":[", out);
  for (size_t i = 0; st != NULL && i < st->len; i++) {
    const ll_stat_t *s = &st->items[i];
    const ll_traceback_t *tb = s->traceback;
    const ll_frame_t *f = tb != NULL && tb->nframe > 0 && tb->frames != NULL ? &tb->frames[0] : NULL;
    fputs(i ? ",[" : "[", out);
    ll__json_string(out, f != NULL ? f->filename : "<unknown>", 1);
    fprintf(out, ",%" PRIu32 ",", f != NULL ? f->lineno : 0);
    ll__json_string(out, f != NULL ? f->function : "", 1);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", s->size, s->count, s->usable);
  }
  fputc(']', out);
}

static int emit_moment_list(FILE *out, const ll_html_input_t *in, ll__html_forest_t *own,
                            ll__html_forest_t *native) {
  fputs("\"moments\":[", out);
  for (size_t m = 0; m < in->nmoment; m++) {
    const ll_html_moment_t *mo = &in->moments[m];
    const char *at = ll_at_name(mo->at);
    uint64_t blocks = 0, bytes = 0;
    int rc;
    for (size_t i = 0; i < mo->own->ntraces; i++) {
      bytes += mo->own->traces[i].size;
      blocks += mo->own->traces[i].count;
    }
    fputs(m ? ",{\"at\":" : "{\"at\":", out);
    ll__json_string(out, at != NULL ? at : "?", 1);
    fprintf(out, ",\"total_bytes\":%" PRIu64 ",\"total_blocks\":%" PRIu64 ",\"trees\":{\"own\":",
            bytes, blocks);
    if ((rc = ll__html_emit_trees(out, own, mo->own, at, in->min_share)) != 0) return rc;
    fputs(",\"native\":", out);
    if (mo->native != NULL) {
      if ((rc = ll__html_emit_trees(out, native, mo->native, at, in->min_share)) != 0) return rc;
    } else {
      fputs("null", out);
    }
    fputs("},", out);
    emit_lines(out, mo->lines);
    fputc('}', out);
  }
  fputc(']', out);
  return 0;
}

static int emit_moments(FILE *out, const ll_html_input_t *in, ll__html_names_t *nm) {
  /* One forest per attribution: a traceback several moments hold is named and walked once. */
  ll__html_forest_t *own = ll__html_forest_new(nm), *native = ll__html_forest_new(nm);
  int rc = own == NULL || native == NULL ? LL_ENOMEM : 0;
  /* Every moment's tracebacks first, in the order the trees below would meet them (so the
   * same names), then ranked once per forest. */
  for (size_t m = 0; rc == 0 && m < in->nmoment; m++) {
    rc = ll__html_forest_add(own, in->moments[m].own);
    if (rc == 0 && in->moments[m].native != NULL) rc = ll__html_forest_add(native, in->moments[m].native);
  }
  if (rc == 0) rc = emit_moment_list(out, in, own, native);
  ll__html_forest_free(own);
  ll__html_forest_free(native);
  return rc;
}

static void emit_histogram(FILE *out, const ll_html_input_t *in) {
  int first = 1;
  fputs("\"histogram\":[", out);
  for (size_t b = 0; in->hist_counts != NULL && b < in->nbucket && b < 65; b++) {
    if (in->hist_counts[b] == 0) continue;
    uint64_t lo = b == 0 ? 0 : 1ull << (b - 1), hi = b == 0 ? 0 : lo + (lo - 1);
    fprintf(out, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
            first ? "" : ",", lo, hi, in->hist_counts[b], in->hist_bytes[b]);
    first = 0;
  }
  fputc(']', out);
}

static void kinds_arrays(FILE *out, const ll_reach_kinds_t *k) {
  fprintf(out, "[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "],[%" PRIu64 ",%" PRIu64 ",%" PRIu64
               ",%" PRIu64 "]",
          k->bytes[0], k->bytes[1], k->bytes[2], k->bytes[3], k->blocks[0], k->blocks[1],
          k->blocks[2], k->blocks[3]);
}

/* The exit scan per line: its kinds, and the chain that holds it (the page colours the lines
 * and flamegraph frames of the moments at exit by kind, and shows the chain of a line). */
static int emit_reach(FILE *out, const ll_html_input_t *in, ll__html_names_t *nm) {
  if (in->reach == NULL) {
    fputs("\"reach\":null", out);
    return 0;
  }
  ll__retain_t *rt = ll__retain_build(in->reach, LL_GROUP_LINENO);
  char *chain = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&chain, &len);
  int rc = rt == NULL || mem == NULL ? LL_ENOMEM : 0, first = 1;
  fputs("\"reach\":{\"total\":[", out);
  kinds_arrays(out, &in->reach->total);
  fputs("],\"lines\":[", out);
  for (size_t k = 0; rc == 0 && k < ll__retain_count(rt); k++) {
    const ll_frame_t *f = ll__retain_frame(rt, k);
    uint32_t name;
    if (f == NULL) continue;
    if ((rc = ll__html_name(nm, f, &name)) != 0) break;
    rewind(mem);
    ll__retain_chain(mem, rt, k);
    fputc('\0', mem);
    if (fflush(mem) != 0) {
      rc = LL_ENOMEM;
      break;
    }
    fprintf(out, "%s[%" PRIu32 ",", first ? "" : ",", name);
    kinds_arrays(out, ll__retain_kinds(rt, k));
    fputc(',', out);
    ll__json_string(out, chain, 1);
    fputc(']', out);
    first = 0;
  }
  fputs("]}", out);
  if (mem != NULL) fclose(mem);
  free(chain);
  ll__retain_free(rt);
  return rc;
}

int ll__report_html(FILE *out, const ll_html_input_t *in) {
  ll__html_names_t *nm = NULL;
  int rc;

  if (out == NULL || in == NULL || in->head == NULL || (in->npoint && in->points == NULL) ||
      (in->nmoment && in->moments == NULL) || (in->nseries && in->series == NULL) ||
      (in->nchain && in->chain == NULL) ||
      (in->hist_counts != NULL && in->hist_bytes == NULL))
    return LL_EINVAL;
  for (size_t m = 0; m < in->nmoment; m++)
    if (in->moments[m].own == NULL) return LL_EINVAL;
  if ((nm = ll__html_names_new()) == NULL) return LL_ENOMEM;

  fwrite(ll__html_head, 1, ll__html_head_len, out);
  fputs("{\"version\":1,\"program\":", out);
  ll__json_string(out, in->head->program, 1);
  fprintf(out, ",\"native_default\":%s,\"chain\":[", in->native_default ? "true" : "false");
  for (size_t i = 0; i < in->nchain; i++) {
    const ll_html_stage_t *s = &in->chain[i];
    fprintf(out, "%s{\"pid\":%" PRIu32 ",\"program\":", i ? "," : "", s->pid);
    ll__json_string(out, s->program, 1);
    fprintf(out, ",\"peak\":%" PRIu64 ",\"end\":%" PRIu64 ",\"total_allocations\":%" PRIu64
                 ",\"total_bytes\":%" PRIu64 "}",
            s->peak, s->end, s->total_allocations, s->total_bytes);
  }
  fputs("],", out);
  emit_summary(out, in);
  fputc(',', out);
  emit_timeline(out, in);
  fputc(',', out);
  emit_histogram(out, in);
  fputc(',', out);
  if ((rc = emit_moments(out, in, nm)) != 0) goto cleanup;
  fputc(',', out);
  if ((rc = emit_reach(out, in, nm)) != 0) goto cleanup;
  /* Last: the names every tree above points into. */
  fputs(",\"frames\":[", out);
  ll__html_write_names(out, nm);
  fputs("]}", out);
  fwrite(ll__html_tail, 1, ll__html_tail_len, out);
  rc = fflush(out) != 0 || ferror(out) ? LL_EIO : 0;
cleanup:
  ll__html_names_free(nm);
  return rc;
}
