/* massif_parse.c - strict reader of massif.out files: header, snapshots, heap trees; errors, never crashes. */
#include "massif_parse.h"
#include "massif_lines.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

/* ---- header ------------------------------------------------------------------------------ */

static int parse_header(ll__mp_parser_t *p, ll__massif_t *m) {
  ll__mp_line_t l;
  char q[64];
  size_t desc_len = 0;
  char *desc = NULL;
  int rc;

  /* desc: lines (massif writes one, ms_print takes any number). */
  for (;;) {
    rc = ll__mp_next_line(p, &l);
    if (rc < 0) return rc;
    if (rc == 0)
      return ll__mp_fail(p, p->lineno == 0 ? LL_ECORRUPT : LL_ETRUNC, p->lineno,
                  p->lineno == 0 ? "empty file: not a massif file"
                                 : "file ends in the header: expected a 'cmd:' line");
    if (!ll__mp_starts_with(&l, "desc:")) break;
    char *piece = ll__mp_dup_line_rest(p, &l, 5);
    if (piece == NULL) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
    size_t n = strlen(piece);
    char *joined = ll__mp_pool_alloc(p->pool, desc_len + n + 2);
    if (joined == NULL) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
    if (desc_len > 0) {
      memcpy(joined, desc, desc_len);
      joined[desc_len++] = '\n';
    }
    memcpy(joined + desc_len, piece, n + 1);
    desc_len += n;
    desc = joined;
  }
  m->desc = desc != NULL ? desc : ll__mp_pool_strndup(p->pool, "", 0);

  if (!ll__mp_starts_with(&l, "cmd:"))
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad header: expected 'cmd: <command>', got '%s'",
                ll__mp_quote(&l, q, sizeof q));
  m->cmd = ll__mp_dup_line_rest(p, &l, 4);

  rc = ll__mp_next_line(p, &l);
  if (rc < 0) return rc;
  if (rc == 0) return ll__mp_fail(p, LL_ETRUNC, p->lineno, "file ends in the header: expected 'time_unit:'");
  if (!ll__mp_starts_with(&l, "time_unit:"))
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad header: expected 'time_unit: i|ms|B', got '%s'",
                ll__mp_quote(&l, q, sizeof q));
  m->time_unit = ll__mp_dup_line_rest(p, &l, 10);
  if (m->desc == NULL || m->cmd == NULL || m->time_unit == NULL)
    return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
  if (strcmp(m->time_unit, "i") != 0 && strcmp(m->time_unit, "ms") != 0 &&
      strcmp(m->time_unit, "B") != 0)
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad header: time_unit must be i, ms or B, got '%s'",
                ll__mp_quote(&l, q, sizeof q));
  return 0;
}

/* ---- snapshots --------------------------------------------------------------------------- */

/* "name=<u64>" on the next line. */
static int field_u64(ll__mp_parser_t *p, const char *name, uint64_t *out) {
  ll__mp_line_t l;
  char q[64];
  int rc = ll__mp_next_line(p, &l);
  if (rc < 0) return rc;
  if (rc == 0)
    return ll__mp_fail(p, LL_ETRUNC, p->lineno, "file ends in a snapshot: expected '%s='", name);
  size_t n = strlen(name);
  if (l.len <= n || memcmp(l.s, name, n) != 0 || l.s[n] != '=')
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad snapshot: expected '%s=<number>', got '%s'", name,
                ll__mp_quote(&l, q, sizeof q));
  size_t i = n + 1;
  if (ll__mp_parse_u64(l.s, l.len, &i, out) != 0)
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad snapshot: %s= is not a number: '%s'", name,
                ll__mp_quote(&l, q, sizeof q));
  while (i < l.len && (l.s[i] == ' ' || l.s[i] == '\t')) i++;
  if (i != l.len)
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad snapshot: %s= is not a number: '%s'", name,
                ll__mp_quote(&l, q, sizeof q));
  return 0;
}

/* Split a frame label "0xADDR: fn (file:line)" / "0xADDR: fn (in obj)" / "0xADDR: ???". */
static int parse_frame_label(ll__mp_parser_t *p, const ll__mp_line_t *l, size_t at, ll__massif_node_t *node) {
  const char *s = l->s;
  size_t len = l->len, i = at + 2;
  if (ll__mp_parse_hex(s, len, &i, &node->addr) != 0 || i >= len || s[i] != ':') return -1;
  i++;
  while (i < len && s[i] == ' ') i++;
  size_t end = len;
  while (end > i && s[end - 1] == ' ') end--;
  if (end == i) return -1; /* no function at all */

  size_t fn_end = end;
  if (s[end - 1] == ')') {
    /* The location is the last " (...)": function names (C++) may hold parentheses too. */
    size_t open = end - 1;
    while (open > i && !(s[open] == '(' && s[open - 1] == ' ')) open--;
    if (open > i) {
      const char *in = s + open + 1;
      size_t in_len = end - 1 - (open + 1);
      if (in_len > 3 && memcmp(in, "in ", 3) == 0) {
        node->object = ll__mp_pool_strndup(p->pool, in + 3, in_len - 3);
        if (node->object == NULL) return LL_ENOMEM;
        fn_end = open - 1;
      } else {
        size_t colon = in_len;
        while (colon > 0 && in[colon - 1] != ':') colon--;
        if (colon > 1 && colon < in_len) {
          size_t k = colon;
          uint64_t lineno;
          if (ll__mp_parse_u64(in, in_len, &k, &lineno) == 0 && k == in_len && lineno <= UINT32_MAX) {
            node->file = ll__mp_pool_strndup(p->pool, in, colon - 1);
            if (node->file == NULL) return LL_ENOMEM;
            node->line = (uint32_t)lineno;
            fn_end = open - 1;
          }
        }
      }
    }
  }
  while (fn_end > i && s[fn_end - 1] == ' ') fn_end--;
  if (fn_end == i) return -1;
  /* Parentheses in a function name (C++ signatures) come in pairs: an open one means the line
   * was cut inside its location. */
  int open_parens = 0;
  for (size_t k = i; k < fn_end; k++) {
    if (s[k] == '(') open_parens++;
    else if (s[k] == ')' && --open_parens < 0) return -1;
  }
  if (open_parens != 0) return -1;
  node->function = ll__mp_pool_strndup(p->pool, s + i, fn_end - i);
  return node->function == NULL ? LL_ENOMEM : 0;
}

/* "in N places, all below massif's threshold (...)" or "in 1 place, below ...". */
static int parse_below_label(const ll__mp_line_t *l, size_t at, ll__massif_node_t *node) {
  size_t i = at + 3;
  if (ll__mp_parse_u64(l->s, l->len, &i, &node->places) != 0) return -1;
  static const char place[] = " place";
  if (l->len - i < sizeof place - 1 || memcmp(l->s + i, place, sizeof place - 1) != 0) return -1;
  const char *rest = l->s + i;
  size_t rest_len = l->len - i;
  /* "below" somewhere after: tolerate massif's wording of the threshold. */
  for (size_t k = 0; k + 5 <= rest_len; k++)
    if (memcmp(rest + k, "below", 5) == 0) return 0;
  return -1;
}

/* A tree line: indentation, then "n<children>: <bytes> <label>". Fills node; returns 0, or -1
 * when the line is not a tree line at all (the caller words the error). */
static int split_tree_line(const ll__mp_line_t *l, size_t *indent, uint64_t *nchildren, uint64_t *bytes,
                           size_t *label_at) {
  size_t i = 0;
  while (i < l->len && l->s[i] == ' ') i++;
  *indent = i;
  if (i >= l->len || l->s[i] != 'n') return -1;
  i++;
  if (ll__mp_parse_u64(l->s, l->len, &i, nchildren) != 0) return -1;
  if (i >= l->len || l->s[i] != ':') return -1;
  i++;
  size_t sp = i;
  while (i < l->len && l->s[i] == ' ') i++;
  if (i == sp) return -1;
  if (ll__mp_parse_u64(l->s, l->len, &i, bytes) != 0) return -1;
  if (i < l->len && l->s[i] != ' ') return -1;
  while (i < l->len && l->s[i] == ' ') i++;
  *label_at = i;
  return 0;
}

static int parse_node(ll__mp_parser_t *p, unsigned depth, ll__massif_node_t *node, uint64_t limit);

/* The children of `node` (declared on line `no`), at depth+1. */
static int parse_children(ll__mp_parser_t *p, unsigned depth, ll__massif_node_t *node, unsigned long no,
                          uint64_t declared) {
  if (declared == 0) return 0;
  if (depth + 1 > LL__MASSIF_MAX_DEPTH)
    return ll__mp_fail(p, LL_ECORRUPT, no, "heap tree deeper than %d levels", LL__MASSIF_MAX_DEPTH);
  /* Each child needs a line of at least "n0: 0\n": refuse counts the rest of the file cannot hold
   * before allocating for them. */
  uint64_t room = (p->len - p->pos) / 6 + (p->have_peek ? 1 : 0);
  if (declared > room || declared > UINT32_MAX)
    return ll__mp_fail(p, LL_ETRUNC, no,
                "file ends in a heap tree: a node declares %llu children, the rest of the file "
                "holds at most %llu",
                (unsigned long long)declared, (unsigned long long)room);
  node->children = ll__mp_pool_alloc(p->pool, (size_t)declared * sizeof *node->children);
  if (node->children == NULL) return ll__mp_fail(p, LL_ENOMEM, no, "out of memory");

  uint64_t sum = 0;
  for (uint64_t k = 0; k < declared; k++) {
    ll__mp_line_t l;
    int rc = ll__mp_peek_line(p, &l);
    if (rc < 0) return rc;
    if (rc == 0)
      return ll__mp_fail(p, LL_ETRUNC, p->lineno,
                  "file ends in a heap tree: the node at line %lu declares %llu children, "
                  "found %llu",
                  no, (unsigned long long)declared, (unsigned long long)k);
    size_t indent, label_at;
    uint64_t nc, b;
    if (split_tree_line(&l, &indent, &nc, &b, &label_at) != 0 ? ll__mp_starts_with(&l, "snapshot=")
                                                              : indent <= depth)
      return ll__mp_fail(p, LL_ECORRUPT, no, "tree node declares %llu children, found %llu",
                  (unsigned long long)declared, (unsigned long long)k);
    rc = parse_node(p, depth + 1, &node->children[k], node->bytes);
    if (rc != 0) return rc;
    sum += node->children[k].bytes; /* each <= parent, at most 2^32 of them: no overflow */
    node->nchildren = (uint32_t)(k + 1);
  }
  /* massif's node sizes are the sums of their children (below-threshold ones merged into an
   * "in N places" child), so any difference means a damaged or cut file. */
  if (sum != node->bytes)
    return ll__mp_fail(p, LL_ECORRUPT, no,
                "the children of this tree node hold %llu bytes, but the node says %llu",
                (unsigned long long)sum, (unsigned long long)node->bytes);
  return 0;
}

static int parse_node(ll__mp_parser_t *p, unsigned depth, ll__massif_node_t *node, uint64_t limit) {
  ll__mp_line_t l;
  char q[64];
  int rc = ll__mp_next_line(p, &l);
  if (rc < 0) return rc;
  if (rc == 0) return ll__mp_fail(p, LL_ETRUNC, p->lineno, "file ends where a heap tree was expected");

  size_t indent, label_at;
  uint64_t nchildren;
  if (split_tree_line(&l, &indent, &nchildren, &node->bytes, &label_at) != 0)
    return ll__mp_fail(p, LL_ECORRUPT, l.no,
                "bad tree line: expected 'n<children>: <bytes> <where>', got '%s'",
                ll__mp_quote(&l, q, sizeof q));
  if (indent != depth)
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "bad tree line: indented %zu, expected %u for its depth",
                indent, depth);
  if (node->bytes > limit)
    return ll__mp_fail(p, LL_ECORRUPT, l.no, "tree node of %llu bytes is larger than %s (%llu bytes)",
                (unsigned long long)node->bytes, depth == 0 ? "the snapshot's heap" : "its parent",
                (unsigned long long)limit);
  node->label = ll__mp_dup_line_rest(p, &l, label_at);
  if (node->label == NULL) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");

  if (depth == 0) {
    node->kind = LL__MASSIF_NODE_ROOT;
  } else if (l.len - label_at >= 2 && memcmp(l.s + label_at, "0x", 2) == 0) {
    node->kind = LL__MASSIF_NODE_FRAME;
    rc = parse_frame_label(p, &l, label_at, node);
    if (rc == LL_ENOMEM) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
    if (rc != 0)
      return ll__mp_fail(p, LL_ECORRUPT, l.no,
                  "bad tree line: expected '0x<address>: <function> (<file>:<line>)', got '%s'",
                  ll__mp_quote(&l, q, sizeof q));
  } else if (l.len - label_at >= 3 && memcmp(l.s + label_at, "in ", 3) == 0) {
    node->kind = LL__MASSIF_NODE_BELOW;
    if (parse_below_label(&l, label_at, node) != 0)
      return ll__mp_fail(p, LL_ECORRUPT, l.no,
                  "bad tree line: expected 'in N places, all below massif's threshold', got '%s'",
                  ll__mp_quote(&l, q, sizeof q));
    if (nchildren != 0)
      return ll__mp_fail(p, LL_ECORRUPT, l.no, "a below-threshold tree line cannot have children");
  } else {
    return ll__mp_fail(p, LL_ECORRUPT, l.no,
                "bad tree line: expected a code address or 'in N places', got '%s'",
                ll__mp_quote(&l, q, sizeof q));
  }
  return parse_children(p, depth, node, l.no, nchildren);
}

static int parse_snapshot(ll__mp_parser_t *p, const ll__mp_line_t *first, ll__massif_snapshot_t *snap,
                          uint64_t expect) {
  char q[64];
  size_t i = 9; /* strlen("snapshot=") */
  snap->lineno = first->no;
  if (!ll__mp_starts_with(first, "snapshot=") ||
      ll__mp_parse_u64(first->s, first->len, &i, &snap->number) != 0 || i != first->len)
    return ll__mp_fail(p, LL_ECORRUPT, first->no, "bad snapshot: expected 'snapshot=%llu', got '%s'",
                (unsigned long long)expect, ll__mp_quote(first, q, sizeof q));
  if (snap->number != expect)
    return ll__mp_fail(p, LL_ECORRUPT, first->no, "snapshots out of order: expected snapshot=%llu, got %llu",
                (unsigned long long)expect, (unsigned long long)snap->number);
  int rc;
  if ((rc = field_u64(p, "time", &snap->time)) != 0) return rc;
  if ((rc = field_u64(p, "mem_heap_B", &snap->heap_b)) != 0) return rc;
  if ((rc = field_u64(p, "mem_heap_extra_B", &snap->heap_extra_b)) != 0) return rc;
  if ((rc = field_u64(p, "mem_stacks_B", &snap->stacks_b)) != 0) return rc;

  ll__mp_line_t l;
  rc = ll__mp_next_line(p, &l);
  if (rc < 0) return rc;
  if (rc == 0) return ll__mp_fail(p, LL_ETRUNC, p->lineno, "file ends in a snapshot: expected 'heap_tree='");
  char *kind = ll__mp_starts_with(&l, "heap_tree=") ? ll__mp_dup_line_rest(p, &l, 10) : NULL;
  if (kind == NULL && ll__mp_starts_with(&l, "heap_tree=")) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
  if (kind != NULL && strcmp(kind, "empty") == 0) {
    snap->tree = LL__MASSIF_TREE_EMPTY;
    return 0;
  }
  if (kind != NULL && strcmp(kind, "detailed") == 0) snap->tree = LL__MASSIF_TREE_DETAILED;
  else if (kind != NULL && strcmp(kind, "peak") == 0) snap->tree = LL__MASSIF_TREE_PEAK;
  else
    return ll__mp_fail(p, LL_ECORRUPT, l.no,
                "bad snapshot: expected 'heap_tree=empty|detailed|peak', got '%s'",
                ll__mp_quote(&l, q, sizeof q));

  snap->root = ll__mp_pool_alloc(p->pool, sizeof *snap->root);
  if (snap->root == NULL) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
  rc = ll__mp_peek_line(p, &l);
  if (rc < 0) return rc;
  unsigned long root_no = rc == 1 ? l.no : p->lineno;
  if ((rc = parse_node(p, 0, snap->root, snap->heap_b)) != 0) return rc;
  /* massif writes the useful heap as the root's size: a mismatch is a damaged file. */
  if (snap->root->bytes != snap->heap_b)
    return ll__mp_fail(p, LL_ECORRUPT, root_no,
                "heap tree root holds %llu bytes but the snapshot's mem_heap_B is %llu",
                (unsigned long long)snap->root->bytes, (unsigned long long)snap->heap_b);
  return 0;
}

static int parse_all(ll__mp_parser_t *p, ll__massif_t *m) {
  int rc = parse_header(p, m);
  if (rc != 0) return rc;

  size_t cap = 0;
  ll__mp_line_t l;
  for (;;) {
    rc = ll__mp_next_line(p, &l);
    if (rc < 0) return rc;
    if (rc == 0) break;
    if (m->nsnapshots == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      ll__massif_snapshot_t *grown = ll__mp_pool_alloc(p->pool, ncap * sizeof *grown);
      if (grown == NULL) return ll__mp_fail(p, LL_ENOMEM, l.no, "out of memory");
      if (m->nsnapshots) memcpy(grown, m->snapshots, m->nsnapshots * sizeof *grown);
      m->snapshots = grown;
      cap = ncap;
    }
    ll__massif_snapshot_t *snap = &m->snapshots[m->nsnapshots];
    rc = parse_snapshot(p, &l, snap, m->nsnapshots);
    if (rc != 0) return rc;
    if (snap->tree == LL__MASSIF_TREE_PEAK) {
      if (m->peak >= 0)
        return ll__mp_fail(p, LL_ECORRUPT, snap->lineno,
                    "a second heap_tree=peak snapshot (the first is snapshot %ld)", m->peak);
      m->peak = (long)m->nsnapshots;
    }
    m->nsnapshots++;
  }
  if (m->nsnapshots == 0)
    return ll__mp_fail(p, LL_ETRUNC, p->lineno, "no snapshot after the header: file truncated?");
  return 0;
}

/* ---- entry points ------------------------------------------------------------------------ */

int ll__massif_parse_buffer(const char *buf, size_t len, ll__massif_t **out,
                            ll__massif_error_t *err) {
  ll__massif_error_t local;
  ll__mp_parser_t p;
  ll__massif_t *m = NULL;
  int rc;

  if (err == NULL) err = &local;
  memset(err, 0, sizeof *err);
  memset(&p, 0, sizeof p);
  if (out == NULL || (buf == NULL && len > 0)) {
    err->code = LL_EINVAL;
    snprintf(err->what, sizeof err->what, "invalid argument");
    return LL_EINVAL;
  }
  p.buf = buf;
  p.len = len;
  p.err = err;

  m = calloc(1, sizeof *m);
  p.pool = calloc(1, sizeof *p.pool);
  if (m == NULL || p.pool == NULL) {
    rc = ll__mp_fail(&p, LL_ENOMEM, 0, "out of memory");
    goto cleanup;
  }
  m->ll__pool = p.pool;
  m->peak = -1;
  rc = parse_all(&p, m);
  if (rc != 0) goto cleanup;
  *out = m;
  return 0;

cleanup:
  if (m != NULL) ll__massif_free(m);
  else ll__mp_pool_free(p.pool);
  if (err->code == 0) {
    err->code = rc;
    snprintf(err->what, sizeof err->what, "%s", ll_strerror(rc));
  }
  return rc;
}

int ll__massif_parse_file(const char *path, ll__massif_t **out, ll__massif_error_t *err) {
  ll__massif_error_t local;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  FILE *f = NULL;
  int rc;

  if (err == NULL) err = &local;
  memset(err, 0, sizeof *err);
  if (path == NULL || out == NULL) {
    rc = LL_EINVAL;
    goto fail;
  }
  /* O_NONBLOCK: opening a FIFO with no writer would wait for one; only a regular file is read
   * (a FIFO or device has no end to wait for). */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    rc = LL__ERR(errno);
    goto fail;
  }
  struct stat st;
  rc = 0;
  if (fstat(fd, &st) != 0)
    rc = LL__ERR(errno);
  else if (S_ISDIR(st.st_mode))
    rc = LL__ERR(EISDIR);
  else if (!S_ISREG(st.st_mode))
    rc = LL_ENOTREG;
  if (rc != 0) {
    close(fd);
    goto fail;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  f = fdopen(fd, "rb");
  if (f == NULL) {
    rc = LL__ERR(errno);
    close(fd);
    goto fail;
  }
  for (;;) {
    if (cap - len < 65536) {
      size_t ncap = cap ? cap * 2 : 65536 * 2;
      char *grown = realloc(buf, ncap);
      if (grown == NULL) {
        rc = LL_ENOMEM;
        goto fail;
      }
      buf = grown;
      cap = ncap;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) {
    rc = LL_EIO;
    goto fail;
  }
  fclose(f);
  f = NULL;
  rc = ll__massif_parse_buffer(buf, len, out, err);
  free(buf);
  return rc;

fail:
  if (f != NULL) fclose(f);
  free(buf);
  err->code = rc;
  err->line = 0;
  snprintf(err->what, sizeof err->what, "%s", ll_strerror(rc));
  return rc;
}

void ll__massif_free(ll__massif_t *m) {
  if (m == NULL) return;
  ll__mp_pool_free(m->ll__pool);
  free(m);
}

int ll__massif_format_error(char *buf, size_t len, const char *name,
                            const ll__massif_error_t *err) {
  if (err->line > 0) return snprintf(buf, len, "%s:%lu: %s", name, err->line, err->what);
  return snprintf(buf, len, "%s: %s", name, err->what);
}

const ll__massif_snapshot_t *ll__massif_peak(const ll__massif_t *m) {
  const ll__massif_snapshot_t *best = NULL;
  if (m == NULL || m->nsnapshots == 0) return NULL;
  if (m->peak >= 0) best = &m->snapshots[m->peak];
  for (size_t i = 0; i < m->nsnapshots; i++) {
    const ll__massif_snapshot_t *s = &m->snapshots[i];
    /* A larger heap wins; on a tie a snapshot with a tree beats one without (the heap that only
     * grows until exit has no peak snapshot, but its last snapshot is detailed when asked). */
    if (best == NULL || s->heap_b > best->heap_b ||
        (s->heap_b == best->heap_b && best->root == NULL && s->root != NULL))
      best = s;
  }
  return best;
}
