/* massif_attr.c - massif's heap tree as top lines: each path's bytes go to its first frame in the program's own code. */
#include "massif_attr.h"

#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "capture_format.h"

int ll__massif_frame_is_system(const ll__massif_node_t *node) {
  if (node == NULL || node->kind != LL__MASSIF_NODE_FRAME) return 0;
  /* valgrind's own replacements, whatever their debug information. */
  if (node->file != NULL && strcmp(node->file, "vg_replace_malloc.c") == 0) return 1;
  /* leaklab's rule (the symboliser's): libraries installed under the system directories are
   * not the program's code; a library the user built, anywhere else, is. */
  if (node->object != NULL)
    return strstr(node->object, "vgpreload") != NULL || ll_cap_path_is_system(node->object);
  /* With line information massif names no object. valgrind maps the executable low (0x108000
   * for PIE, 0x400000 otherwise) and the loader and every shared library from 0x4000000 up, so
   * an address there is library code (glibc with its debug symbols, say). A user's own shared
   * library with debug information is the one case this gets wrong. */
  return node->addr >= LL__MASSIF_LIBRARY_BASE;
}

typedef struct attr {
  ll__massif_line_t *lines;
  size_t len, cap;
} attr_t;

static int same_place(const ll__massif_node_t *a, const ll__massif_node_t *b) {
  if (a == NULL || b == NULL) return a == b;
  if (strcmp(a->function, b->function) != 0) return 0;
  if ((a->file == NULL) != (b->file == NULL)) return 0;
  if (a->file != NULL) return strcmp(a->file, b->file) == 0 && a->line == b->line;
  if ((a->object == NULL) != (b->object == NULL)) return 0;
  /* "???" in the same object at different addresses are different places. */
  if (strcmp(a->function, "???") == 0 && a->addr != b->addr) return 0;
  return a->object == NULL || strcmp(a->object, b->object) == 0;
}

static int attr_add(attr_t *a, const ll__massif_node_t *frame, uint64_t bytes) {
  if (bytes == 0) return 0;
  for (size_t i = 0; i < a->len; i++) {
    if (same_place(a->lines[i].frame, frame)) {
      a->lines[i].bytes += bytes;
      a->lines[i].places++;
      return 0;
    }
  }
  if (a->len == a->cap) {
    size_t ncap = a->cap ? a->cap * 2 : 16;
    ll__massif_line_t *grown = realloc(a->lines, ncap * sizeof *grown);
    if (grown == NULL) return LL_ENOMEM;
    a->lines = grown;
    a->cap = ncap;
  }
  a->lines[a->len].frame = frame;
  a->lines[a->len].bytes = bytes;
  a->lines[a->len].places = 1;
  a->len++;
  return 0;
}

/* Walk down system frames until the first frame of the program's own; bytes a system frame
 * holds beyond its children (the stack ended there) stay with it. Depth is bounded by the
 * parser's limit. */
static int attribute(attr_t *a, const ll__massif_node_t *node) {
  if (node->kind == LL__MASSIF_NODE_BELOW) return attr_add(a, NULL, node->bytes);
  if (!ll__massif_frame_is_system(node) || node->nchildren == 0)
    return attr_add(a, node, node->bytes);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < node->nchildren; i++) {
    int rc = attribute(a, &node->children[i]);
    if (rc != 0) return rc;
    sum += node->children[i].bytes;
  }
  return attr_add(a, node, node->bytes - sum);
}

static int cmp_line(const void *x, const void *y) {
  const ll__massif_line_t *a = x, *b = y;
  if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
  if ((a->frame == NULL) != (b->frame == NULL)) return a->frame == NULL ? 1 : -1;
  if (a->frame == NULL) return 0;
  int c = strcmp(a->frame->function, b->frame->function);
  if (c != 0) return c;
  if (a->frame->line != b->frame->line) return a->frame->line < b->frame->line ? -1 : 1;
  return 0;
}

long ll__massif_top_lines(const ll__massif_node_t *root, ll__massif_line_t **out) {
  attr_t a = {NULL, 0, 0};
  if (root == NULL || out == NULL) return LL_EINVAL;
  for (uint32_t i = 0; i < root->nchildren; i++) {
    int rc = attribute(&a, &root->children[i]);
    if (rc != 0) {
      free(a.lines);
      return rc;
    }
  }
  if (a.len > 1) qsort(a.lines, a.len, sizeof *a.lines, cmp_line);
  *out = a.lines;
  return (long)a.len;
}
