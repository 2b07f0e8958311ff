/* folded.c - a snapshot as Brendan Gregg's collapsed stacks: one traceback a line, root first, weight last. */
#include <leaklab/report.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* A line being built: a growable buffer in the arena (old copies stay until the arena goes). */
typedef struct buf {
  ll__arena_t *arena;
  char *p;
  size_t len, cap;
} buf_t;

static int buf_reserve(buf_t *b, size_t more) {
  if (b->len + more + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1) cap *= 2;
  char *p = ll__arena_alloc(b->arena, cap);
  if (p == NULL) return LL_ENOMEM;
  if (b->len) memcpy(p, b->p, b->len);
  b->p = p;
  b->cap = cap;
  return 0;
}

/* Text of a frame name: ';' separates frames and a line ends the stack, so those (and other
 * control bytes) become '?'; everything else, spaces included, reads back unchanged (readers
 * split the weight off at the last space). */
static int put_text(buf_t *b, const char *s) {
  size_t n = strlen(s);
  if (buf_reserve(b, n) != 0) return LL_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    b->p[b->len++] = c == ';' || c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  return 0;
}

static int put_fmt(buf_t *b, const char *fmt, uint64_t v) {
  char tmp[48];
  int n = snprintf(tmp, sizeof tmp, fmt, v);
  return n < 0 ? LL_EINVAL : put_text(b, tmp);
}

/* "function (file:line)", as the text report's traceback view names a frame; "function (file)"
 * without a line (a library without debug information), the address when nothing else is
 * known. */
static int put_frame(buf_t *b, const ll_frame_t *f) {
  const char *fn = f->function != NULL ? f->function : "";
  const char *file = f->filename != NULL ? f->filename : "";
  int known_file = file[0] != '\0' && strcmp(file, "<unknown>") != 0;
  int rc;

  if (fn[0] != '\0') rc = put_text(b, fn);
  else if (f->ip != 0) rc = put_fmt(b, "0x%" PRIx64, f->ip);
  else rc = put_text(b, "???");
  if (rc != 0 || !known_file) return rc;
  if ((rc = put_text(b, " (")) != 0 || (rc = put_text(b, file)) != 0) return rc;
  if (f->lineno > 0 && (rc = put_fmt(b, ":%" PRIu64, f->lineno)) != 0) return rc;
  return put_text(b, ")");
}

typedef struct line {
  const char *stack;
  uint64_t weight;
} line_t;

static int cmp_line(const void *x, const void *y) {
  return strcmp(((const line_t *)x)->stack, ((const line_t *)y)->stack);
}

/* One traceback, root first: the oldest frame kept leads; frames cut by the traceback limit
 * are one stand-in root so that the stacks still nest. */
static int stack_of(ll__arena_t *arena, const ll_traceback_t *tb, const char **out) {
  buf_t b = {.arena = arena};
  int rc = buf_reserve(&b, 0);
  uint32_t n = tb != NULL && tb->frames != NULL ? tb->nframe : 0;

  if (rc == 0 && (n == 0 || tb->total_nframe > n))
    rc = put_text(&b, n == 0 ? "[no frames]" : "[older frames not kept]");
  for (uint32_t i = n; i-- > 0 && rc == 0;) {
    if (b.len > 0 && (rc = buf_reserve(&b, 1)) == 0) b.p[b.len++] = ';';
    if (rc == 0) rc = put_frame(&b, &tb->frames[i]);
  }
  if (rc != 0) return rc;
  b.p[b.len] = '\0';
  *out = b.p;
  return 0;
}

int ll_report_folded(FILE *out, const ll_snapshot_t *snap, ll_weight_t weight) {
  ll__arena_t *arena = NULL;
  line_t *lines = NULL;
  size_t n = 0;
  int rc = LL_ENOMEM;

  if (out == NULL || snap == NULL || (snap->ntraces != 0 && snap->traces == NULL) ||
      (weight != LL_WEIGHT_BYTES && weight != LL_WEIGHT_COUNT))
    return LL_EINVAL;
  if ((arena = ll__arena_new()) == NULL) return LL_ENOMEM;
  if ((lines = ll__arena_alloc(arena, (snap->ntraces + 1) * sizeof *lines)) == NULL) goto cleanup;
  for (size_t i = 0; i < snap->ntraces; i++) {
    const ll_trace_t *t = &snap->traces[i];
    uint64_t w = weight == LL_WEIGHT_COUNT ? t->count : t->size;
    if (w == 0) continue; /* nothing to draw (malloc(0) blocks by bytes) */
    if ((rc = stack_of(arena, t->traceback, &lines[n].stack)) != 0) goto cleanup;
    lines[n++].weight = w;
  }
  /* Tracebacks that read the same once symbolised (two calls on one line) are one stack. */
  if (n > 1) qsort(lines, n, sizeof *lines, cmp_line);
  for (size_t i = 0; i < n;) {
    uint64_t w = lines[i].weight;
    size_t j = i + 1;
    while (j < n && strcmp(lines[j].stack, lines[i].stack) == 0) w += lines[j++].weight;
    fprintf(out, "%s %" PRIu64 "\n", lines[i].stack, w);
    i = j;
  }
  rc = fflush(out) != 0 || ferror(out) ? LL_EIO : 0;
cleanup:
  ll__arena_free(arena);
  return rc;
}
