/* massif_export.c - a leaklab peak (and end) snapshot written as valgrind massif's massif.out format. */
#include "massif_export.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* One node of a massif heap tree. frame NULL: the root, or the leaf that holds the blocks whose
 * traceback ends at its parent while other tracebacks go on (massif's sizes must add up). */
typedef struct mnode {
  const ll_frame_t *frame;
  uint64_t bytes;
  uint32_t nchildren;
  uint32_t order; /* position in key order, to keep equal sizes in a stable order */
  struct mnode *children;
} mnode_t;

typedef struct builder {
  ll__arena_t *arena;
  const ll_trace_t **traces;
} builder_t;

static uint32_t depth_of(const ll_trace_t *t) {
  uint32_t n = t->traceback != NULL && t->traceback->frames != NULL ? t->traceback->nframe : 0;
  return n < LL__MASSIF_EXPORT_DEPTH ? n : LL__MASSIF_EXPORT_DEPTH;
}

static const char *str_or_empty(const char *s) { return s != NULL ? s : ""; }

static int cmp_frame(const ll_frame_t *a, const ll_frame_t *b) {
  if (a->ip != b->ip) return a->ip < b->ip ? -1 : 1;
  if (a->lineno != b->lineno) return a->lineno < b->lineno ? -1 : 1;
  int c = strcmp(str_or_empty(a->filename), str_or_empty(b->filename));
  if (c != 0) return c;
  return strcmp(str_or_empty(a->function), str_or_empty(b->function));
}

/* Tracebacks in lexicographic frame order, a prefix before what extends it: every subtree is a
 * contiguous run, the tracebacks ending at a node first. */
static int cmp_trace(const void *x, const void *y) {
  const ll_trace_t *a = *(const ll_trace_t *const *)x, *b = *(const ll_trace_t *const *)y;
  uint32_t na = depth_of(a), nb = depth_of(b), n = na < nb ? na : nb;
  for (uint32_t i = 0; i < n; i++) {
    int c = cmp_frame(&a->traceback->frames[i], &b->traceback->frames[i]);
    if (c != 0) return c;
  }
  return na < nb ? -1 : na > nb;
}

static int cmp_node(const void *x, const void *y) {
  const mnode_t *a = x, *b = y;
  if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

/* The subtree of traces[lo, hi), which share frames[0, depth). Recursion is bounded by
 * LL__MASSIF_EXPORT_DEPTH. */
static int build(builder_t *b, mnode_t *node, size_t lo, size_t hi, uint32_t depth) {
  size_t i = lo, ngroup = 0;
  uint64_t ends = 0;

  node->bytes = 0;
  for (size_t k = lo; k < hi; k++) node->bytes += b->traces[k]->size;
  while (i < hi && depth_of(b->traces[i]) == depth) ends += b->traces[i++]->size;
  const size_t first = i;
  for (size_t k = first; k < hi; k++)
    if (k == first || cmp_frame(&b->traces[k]->traceback->frames[depth],
                                &b->traces[k - 1]->traceback->frames[depth]) != 0)
      ngroup++;
  if (ngroup == 0) return 0;

  size_t nchild = ngroup + (ends > 0 ? 1 : 0);
  node->children = ll__arena_alloc(b->arena, nchild * sizeof *node->children);
  if (node->children == NULL) return LL_ENOMEM;
  node->nchildren = (uint32_t)nchild;

  size_t g = 0, start = first;
  for (size_t k = first + 1; k <= hi; k++) {
    if (k < hi && cmp_frame(&b->traces[k]->traceback->frames[depth],
                            &b->traces[start]->traceback->frames[depth]) == 0)
      continue;
    mnode_t *child = &node->children[g];
    child->frame = &b->traces[start]->traceback->frames[depth];
    child->order = (uint32_t)g;
    int rc = build(b, child, start, k, depth + 1);
    if (rc != 0) return rc;
    g++;
    start = k;
  }
  if (ends > 0) {
    mnode_t *rest = &node->children[g];
    rest->frame = NULL;
    rest->bytes = ends;
    rest->order = (uint32_t)g;
  }
  qsort(node->children, nchild, sizeof *node->children, cmp_node);
  return 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Text in a label: ms_print drops everything after '#' and the format is one node a line, so
 * those and control bytes become '?'; so do parentheses that do not pair up, which would make
 * the location after a function name ambiguous. */
static void put_text(FILE *out, const char *s, int keep_parens) {
  int depth = 0, balanced = 1;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p == '(') depth++;
    else if (*p == ')' && --depth < 0) balanced = 0;
  }
  if (depth != 0) balanced = 0;
  for (const char *p = s; *p != '\0'; p++) {
    unsigned char c = (unsigned char)*p;
    int bad = c < 0x20 || c == 0x7f || c == '#' ||
              ((c == '(' || c == ')') && (!keep_parens || !balanced));
    fputc(bad ? '?' : (int)c, out);
  }
}

static void put_label(FILE *out, const mnode_t *n) {
  if (n->frame == NULL) {
    fputs("0x0: (traceback ends here)", out);
    return;
  }
  const ll_frame_t *f = n->frame;
  const char *fn = str_or_empty(f->function), *file = str_or_empty(f->filename);
  int known_file = file[0] != '\0' && strcmp(file, "<unknown>") != 0;
  fprintf(out, "0x%" PRIX64 ": ", f->ip);
  if (fn[0] != '\0') put_text(out, fn, 1);
  else fputs("???", out);
  if (known_file) {
    fputs(f->lineno > 0 ? " (" : " (in ", out);
    put_text(out, file, 0);
    if (f->lineno > 0) fprintf(out, ":%" PRIu32, f->lineno);
    fputc(')', out);
  }
}

static void write_node(FILE *out, const mnode_t *n, uint32_t depth) {
  for (uint32_t i = 0; i < depth; i++) fputc(' ', out);
  fprintf(out, "n%" PRIu32 ": %" PRIu64 " ", n->nchildren, n->bytes);
  if (depth == 0) fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.", out);
  else put_label(out, n);
  fputc('\n', out);
  for (uint32_t i = 0; i < n->nchildren; i++) write_node(out, &n->children[i], depth + 1);
}

/* Requested and allocator-added bytes of a snapshot. */
static void totals(const ll_snapshot_t *s, uint64_t *heap, uint64_t *extra) {
  *heap = *extra = 0;
  for (size_t i = 0; i < s->ntraces; i++) {
    *heap += s->traces[i].size;
    if (s->traces[i].usable > s->traces[i].size) *extra += s->traces[i].usable - s->traces[i].size;
  }
}

static void write_header(FILE *out, size_t number, uint64_t time, uint64_t heap, uint64_t extra,
                         const char *tree) {
  fprintf(out,
          "#-----------\n"
          "snapshot=%zu\n"
          "#-----------\n"
          "time=%" PRIu64 "\n"
          "mem_heap_B=%" PRIu64 "\n"
          "mem_heap_extra_B=%" PRIu64 "\n"
          "mem_stacks_B=0\n"
          "heap_tree=%s\n",
          number, time, heap, extra, tree);
}

static int write_detailed(FILE *out, ll__arena_t *arena, const ll_snapshot_t *s, size_t number,
                          uint64_t time, const char *tree) {
  builder_t b = {arena, NULL};
  mnode_t root;
  uint64_t heap, extra;

  memset(&root, 0, sizeof root);
  b.traces = ll__arena_alloc(arena, (s->ntraces ? s->ntraces : 1) * sizeof *b.traces);
  if (b.traces == NULL) return LL_ENOMEM;
  for (size_t i = 0; i < s->ntraces; i++) b.traces[i] = &s->traces[i];
  if (s->ntraces > 1) qsort(b.traces, s->ntraces, sizeof *b.traces, cmp_trace);
  int rc = build(&b, &root, 0, s->ntraces, 0);
  if (rc != 0) return rc;

  totals(s, &heap, &extra);
  write_header(out, number, time, heap, extra, tree);
  write_node(out, &root, 0);
  return 0;
}

int ll_report_massif(FILE *out, const ll_snapshot_t *peak, const ll_snapshot_t *end) {
  ll__arena_t *arena = NULL;
  int rc;

  if (out == NULL || peak == NULL) return LL_EINVAL;
  arena = ll__arena_new();
  if (arena == NULL) return LL_ENOMEM;

  const char *program = peak->program != NULL && peak->program[0] != '\0' ? peak->program
                        : end != NULL && end->program != NULL && end->program[0] != '\0'
                            ? end->program
                            : "(unknown program)";
  fputs("desc: (leaklab export: useful heap = requested bytes, extra heap = usable minus "
        "requested, time = bytes allocated, the peak placed at its own size)\n"
        "cmd: ",
        out);
  put_text(out, program, 1);
  fputs("\ntime_unit: B\n", out);
  write_header(out, 0, 0, 0, 0, "empty");

  uint64_t peak_heap, peak_extra;
  totals(peak, &peak_heap, &peak_extra);
  uint64_t peak_time = peak_heap;
  if ((rc = write_detailed(out, arena, peak, 1, peak_time, "peak")) != 0) goto cleanup;
  if (end != NULL) {
    uint64_t end_time = end->total_bytes > peak_time ? end->total_bytes : peak_time;
    if ((rc = write_detailed(out, arena, end, 2, end_time, "detailed")) != 0) goto cleanup;
  }
  rc = ferror(out) || fflush(out) != 0 ? LL_EIO : 0;

cleanup:
  ll__arena_free(arena);
  return rc;
}
