/* html.c - the HTML report: the embedded page with the report's data (summary, timeline, flamegraph trees, lines, histogram) as JSON. */
#include "html.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html_assets.h"
#include "json.h"
#include "retainers.h"

/* ---- frame names: one entry per distinct (function, file, line) across every tree ---------- */

typedef struct names {
  const ll_frame_t **items; /* frames of the input's snapshots, which outlive the report */
  size_t n, cap;
  uint32_t *slots;          /* open addressing: item index + 1, 0 empty */
  size_t nslot;             /* a power of two, kept at most half full */
} names_t;

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;
}

/* Frames known only by their address differ by it; symbolised ones by what is printed. */
static int frame_anonymous(const ll_frame_t *f) { return f->lineno == 0 && f->function[0] == '\0'; }

static uint64_t frame_hash(const ll_frame_t *f) {
  uint64_t h = fnv(fnv(0xcbf29ce484222325ull, f->function), f->filename);
  h = (h ^ f->lineno) * 0x100000001b3ull;
  if (frame_anonymous(f)) h = (h ^ f->ip) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static int frame_same(const ll_frame_t *a, const ll_frame_t *b) {
  if (a->lineno != b->lineno || strcmp(a->function, b->function) != 0 ||
      strcmp(a->filename, b->filename) != 0)
    return 0;
  return !frame_anonymous(a) || a->ip == b->ip;
}

static int names_grow(names_t *nm) {
  size_t nslot = nm->nslot ? nm->nslot * 2 : 1024;
  uint32_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return LL_ENOMEM;
  for (size_t i = 0; i < nm->n; i++) {
    size_t s = frame_hash(nm->items[i]) & (nslot - 1);
    while (slots[s] != 0) s = (s + 1) & (nslot - 1);
    slots[s] = (uint32_t)i + 1;
  }
  free(nm->slots);
  nm->slots = slots;
  nm->nslot = nslot;
  return 0;
}

static int names_get(names_t *nm, const ll_frame_t *f, uint32_t *out) {
  if (nm->n * 2 >= nm->nslot && names_grow(nm) != 0) return LL_ENOMEM;
  size_t s = frame_hash(f) & (nm->nslot - 1);
  for (; nm->slots[s] != 0; s = (s + 1) & (nm->nslot - 1))
    if (frame_same(nm->items[nm->slots[s] - 1], f)) {
      *out = nm->slots[s] - 1;
      return 0;
    }
  if (nm->n == nm->cap) {
    size_t cap = nm->cap ? nm->cap * 2 : 1024;
    const ll_frame_t **items = realloc(nm->items, cap * sizeof *items);
    if (items == NULL) return LL_ENOMEM;
    nm->items = items;
    nm->cap = cap;
  }
  nm->items[nm->n] = f;
  nm->slots[s] = (uint32_t)nm->n + 1;
  *out = (uint32_t)nm->n++;
  return 0;
}

/* "function (file:line)", as the text report names a frame; the address when nothing else is
 * known. */
static void write_frame_name(FILE *out, const ll_frame_t *f) {
  char buf[1024];
  if (f->function[0] != '\0')
    snprintf(buf, sizeof buf, f->lineno ? "%s (%s:%" PRIu32 ")" : "%s (%s)", f->function,
             f->filename, f->lineno);
  else if (f->lineno != 0)
    snprintf(buf, sizeof buf, "%s:%" PRIu32, f->filename, f->lineno);
  else if (f->ip != 0)
    snprintf(buf, sizeof buf, "%s [0x%" PRIx64 "]", f->filename, f->ip);
  else
    snprintf(buf, sizeof buf, "%s", f->filename);
  ll__json_string(out, buf, 1);
}

/* ---- trees: a trie of frames per moment, callers first or the allocating line first ------ */

typedef struct node {
  uint32_t name, parent;
  uint32_t child, sibling; /* node index + 1, 0 none */
  uint64_t v, k;
} node_t;

typedef struct tree {
  node_t *nodes; /* nodes[0] is the root */
  size_t n, cap;
  uint32_t *slots; /* (parent, name) -> node index + 1 */
  size_t nslot;
} tree_t;

static size_t edge_slot(const tree_t *t, uint32_t parent, uint32_t name) {
  uint64_t h = ((uint64_t)parent * 0x9e3779b97f4a7c15ull) ^ (name * 0xc2b2ae3d27d4eb4full);
  return (size_t)(h ^ (h >> 31)) & (t->nslot - 1);
}

static int tree_grow(tree_t *t) {
  size_t nslot = t->nslot ? t->nslot * 2 : 4096;
  uint32_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return LL_ENOMEM;
  free(t->slots);
  t->slots = slots;
  t->nslot = nslot;
  /* The root has no parent edge; every other node is re-entered under its parent. */
  for (size_t c = 1; c < t->n; c++) {
    size_t s = edge_slot(t, t->nodes[c].parent, t->nodes[c].name);
    while (slots[s] != 0) s = (s + 1) & (nslot - 1);
    slots[s] = (uint32_t)c + 1;
  }
  return 0;
}

static int tree_child(tree_t *t, uint32_t parent, uint32_t name, uint32_t *out) {
  if (t->n * 2 >= t->nslot && tree_grow(t) != 0) return LL_ENOMEM;
  size_t s = edge_slot(t, parent, name);
  for (; t->slots[s] != 0; s = (s + 1) & (t->nslot - 1)) {
    uint32_t c = t->slots[s] - 1;
    if (t->nodes[c].name == name && t->nodes[c].parent == parent) {
      *out = c;
      return 0;
    }
  }
  if (t->n == t->cap) {
    size_t cap = t->cap * 2;
    node_t *nodes = realloc(t->nodes, cap * sizeof *nodes);
    if (nodes == NULL) return LL_ENOMEM;
    t->nodes = nodes;
    t->cap = cap;
  }
  uint32_t c = (uint32_t)t->n++;
  t->nodes[c] = (node_t){name, parent, 0, t->nodes[parent].child, 0, 0};
  t->nodes[parent].child = c + 1;
  t->slots[s] = c + 1;
  *out = c;
  return 0;
}

static void tree_free(tree_t *t) {
  free(t->nodes);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

static int tree_build(tree_t *t, names_t *nm, const ll_snapshot_t *snap, int inverted) {
  int rc;
  memset(t, 0, sizeof *t);
  t->cap = 1024;
  if ((t->nodes = malloc(t->cap * sizeof *t->nodes)) == NULL) return LL_ENOMEM;
  t->nodes[0] = (node_t){0, UINT32_MAX, 0, 0, 0, 0};
  t->n = 1;
  if ((rc = tree_grow(t)) != 0) return rc;
  for (size_t i = 0; i < snap->ntraces; i++) {
    const ll_trace_t *tr = &snap->traces[i];
    const ll_traceback_t *tb = tr->traceback;
    uint32_t nf = tb != NULL && tb->frames != NULL ? tb->nframe : 0, cur = 0;
    t->nodes[0].v += tr->size;
    t->nodes[0].k += tr->count;
    for (uint32_t j = 0; j < nf; j++) {
      const ll_frame_t *f = &tb->frames[inverted ? j : nf - 1 - j];
      uint32_t name, c;
      if ((rc = names_get(nm, f, &name)) != 0 || (rc = tree_child(t, cur, name, &c)) != 0)
        return rc;
      t->nodes[c].v += tr->size;
      t->nodes[c].k += tr->count;
      cur = c;
    }
  }
  return 0;
}

static const node_t *g_sort_nodes; /* qsort has no context argument; reports are single-threaded */

static int by_value_desc(const void *a, const void *b) {
  const node_t *x = &g_sort_nodes[*(const uint32_t *)a], *y = &g_sort_nodes[*(const uint32_t *)b];
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->name < y->name ? -1 : x->name > y->name;
}

static int emit_node(FILE *out, const tree_t *t, uint32_t idx, uint64_t floor) {
  const node_t *nd = &t->nodes[idx];
  uint32_t *kids = NULL;
  size_t nkid = 0, nsmall = 0;
  uint64_t small_v = 0, small_k = 0;

  if (idx != 0) fprintf(out, "[%" PRIu32 ",", nd->name);
  fprintf(out, "%" PRIu64 ",%" PRIu64, nd->v, nd->k);
  for (uint32_t c = nd->child; c != 0; c = t->nodes[c - 1].sibling) nkid++;
  if (nkid == 0) goto done;
  if ((kids = malloc(nkid * sizeof *kids)) == NULL) return LL_ENOMEM;
  nkid = 0;
  for (uint32_t c = nd->child; c != 0; c = t->nodes[c - 1].sibling) kids[nkid++] = c - 1;
  g_sort_nodes = t->nodes;
  qsort(kids, nkid, sizeof *kids, by_value_desc);
  /* Largest first, so the small ones are a tail: merged unless only one is small. */
  size_t keep = nkid;
  while (keep > 0 && t->nodes[kids[keep - 1]].v < floor) keep--;
  if (nkid - keep == 1) keep = nkid;
  fputs(",[", out);
  for (size_t i = 0; i < keep; i++) {
    int rc;
    if (i > 0) fputc(',', out);
    if ((rc = emit_node(out, t, kids[i], floor)) != 0) {
      free(kids);
      return rc;
    }
  }
  for (size_t i = keep; i < nkid; i++) {
    nsmall++;
    small_v += t->nodes[kids[i]].v;
    small_k += t->nodes[kids[i]].k;
  }
  if (nsmall > 0)
    fprintf(out, "%s[\"(%zu small)\",%" PRIu64 ",%" PRIu64 "]", keep ? "," : "", nsmall, small_v,
            small_k);
  fputc(']', out);
  free(kids);
done:
  if (idx != 0) fputc(']', out);
  return 0;
}

/* {"callers": tree, "inverted": tree} of one snapshot. */
static int emit_trees(FILE *out, names_t *nm, const ll_snapshot_t *snap, const char *at,
                      double min_share) {
  for (int inverted = 0; inverted <= 1; inverted++) {
    tree_t t;
    int rc = tree_build(&t, nm, snap, inverted);
    if (rc == 0) {
      uint64_t floor = (uint64_t)(min_share * (double)t.nodes[0].v);
      fputs(inverted ? ",\"inverted\":[" : "{\"callers\":[", out);
      ll__json_string(out, at, 1);
      fputc(',', out);
      rc = emit_node(out, &t, 0, floor);
      fputc(']', out);
    }
    tree_free(&t);
    if (rc != 0) return rc;
  }
  fputc('}', out);
  return 0;
}

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

static int emit_moments(FILE *out, const ll_html_input_t *in, names_t *nm) {
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
    if ((rc = emit_trees(out, nm, mo->own, at, in->min_share)) != 0) return rc;
    fputs(",\"native\":", out);
    if (mo->native != NULL) {
      if ((rc = emit_trees(out, nm, mo->native, at, in->min_share)) != 0) return rc;
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
static int emit_reach(FILE *out, const ll_html_input_t *in, names_t *nm) {
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
    if ((rc = names_get(nm, f, &name)) != 0) break;
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
  names_t nm = {0};
  int rc;

  if (out == NULL || in == NULL || in->head == NULL || (in->npoint && in->points == NULL) ||
      (in->nmoment && in->moments == NULL) || (in->nseries && in->series == NULL) ||
      (in->nchain && in->chain == NULL) ||
      (in->hist_counts != NULL && in->hist_bytes == NULL))
    return LL_EINVAL;
  for (size_t m = 0; m < in->nmoment; m++)
    if (in->moments[m].own == NULL) return LL_EINVAL;

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
  if ((rc = emit_moments(out, in, &nm)) != 0) goto cleanup;
  fputc(',', out);
  if ((rc = emit_reach(out, in, &nm)) != 0) goto cleanup;
  /* Last: the names every tree above points into. */
  fputs(",\"frames\":[", out);
  for (size_t i = 0; i < nm.n; i++) {
    if (i > 0) fputc(',', out);
    write_frame_name(out, nm.items[i]);
  }
  fputs("]}", out);
  fwrite(ll__html_tail, 1, ll__html_tail_len, out);
  rc = fflush(out) != 0 || ferror(out) ? LL_EIO : 0;
cleanup:
  free(nm.items);
  free(nm.slots);
  return rc;
}
