/* test_massif_parse.c - the massif.out reader on real valgrind files and on every way to break them. */
#include "test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "massif_attr.h"
#include "massif_parse.h"

#ifndef LL_MASSIF_DATA_DIR
#error "LL_MASSIF_DATA_DIR must name tests/data/massif"
#endif

static ll__massif_t *parse_fixture(const char *name) {
  char path[1024];
  ll__massif_t *m = NULL;
  ll__massif_error_t err;
  snprintf(path, sizeof path, "%s/%s", LL_MASSIF_DATA_DIR, name);
  int rc = ll__massif_parse_file(path, &m, &err);
  if (rc != 0) fail_msg("%s: %s (line %lu)", name, err.what, err.line);
  assert_non_null(m);
  return m;
}

/* ---- real files -------------------------------------------------------------------------- */

static void test_pattern_file(void **state) {
  (void)state;
  ll__massif_t *m = parse_fixture("pattern.out");
  assert_string_equal(m->cmd, "./mp");
  assert_string_equal(m->time_unit, "B");
  assert_non_null(strstr(m->desc, "--peak-inaccuracy=0"));
  assert_int_equal(m->nsnapshots, 22);
  for (size_t i = 0; i < m->nsnapshots; i++) assert_int_equal(m->snapshots[i].number, i);
  assert_int_equal(m->snapshots[0].heap_b, 0);
  /* --detailed-freq=1: every snapshot has a tree, the first one an empty root. */
  assert_int_equal(m->snapshots[0].tree, LL__MASSIF_TREE_DETAILED);
  assert_int_equal(m->snapshots[0].root->bytes, 0);
  assert_int_equal(m->snapshots[0].root->nchildren, 0);

  assert_true(m->peak > 0);
  const ll__massif_snapshot_t *peak = ll__massif_peak(m);
  assert_ptr_equal(peak, &m->snapshots[m->peak]);
  assert_int_equal(peak->tree, LL__MASSIF_TREE_PEAK);
  assert_int_equal(peak->heap_b, 216700);
  assert_int_equal(peak->heap_extra_b, 52);
  assert_int_equal(peak->stacks_b, 0);

  const ll__massif_node_t *root = peak->root;
  assert_non_null(root);
  assert_int_equal(root->kind, LL__MASSIF_NODE_ROOT);
  assert_int_equal(root->bytes, 216700);
  assert_int_equal(root->nchildren, 6);
  assert_string_equal(root->label, "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.");

  const ll__massif_node_t *big = &root->children[0];
  assert_int_equal(big->kind, LL__MASSIF_NODE_FRAME);
  assert_int_equal(big->bytes, 200000);
  assert_int_equal(big->addr, 0x1092DD);
  assert_string_equal(big->function, "big_block");
  assert_string_equal(big->file, "massif_pattern.c");
  assert_int_equal(big->line, 41);
  assert_null(big->object);
  assert_int_equal(big->nchildren, 1);
  assert_string_equal(big->children[0].function, "main");
  assert_int_equal(big->children[0].line, 51);
  assert_int_equal(big->children[0].nchildren, 0);

  const ll__massif_node_t *dup = &root->children[4];
  assert_string_equal(dup->function, "strdup");
  assert_string_equal(dup->file, "strdup.c");
  assert_int_equal(dup->bytes, 28);

  /* The end: 4 table blocks and the string. */
  const ll__massif_snapshot_t *end = &m->snapshots[m->nsnapshots - 1];
  assert_int_equal(end->heap_b, 4556);
  assert_int_equal(end->tree, LL__MASSIF_TREE_DETAILED);
  ll__massif_free(m);
}

static void test_threshold_file(void **state) {
  (void)state;
  ll__massif_t *m = parse_fixture("threshold.out");
  const ll__massif_snapshot_t *peak = ll__massif_peak(m);
  assert_non_null(peak);
  assert_int_equal(peak->heap_b, 71000);
  assert_int_equal(peak->root->nchildren, 4);
  const ll__massif_node_t *below = &peak->root->children[3];
  assert_int_equal(below->kind, LL__MASSIF_NODE_BELOW);
  assert_int_equal(below->places, 5);
  assert_int_equal(below->bytes, 1000);
  assert_null(below->function);
  ll__massif_free(m);
}

/* Walk a tree: counts of object frames and unknown functions. */
static void count_nodes(const ll__massif_node_t *n, int *objects, int *unknown, int *below) {
  if (n->kind == LL__MASSIF_NODE_FRAME) {
    if (n->object != NULL) {
      (*objects)++;
      assert_null(n->file);
      assert_int_equal(n->line, 0);
    }
    if (strcmp(n->function, "???") == 0) (*unknown)++;
  }
  if (n->kind == LL__MASSIF_NODE_BELOW) (*below)++;
  for (uint32_t i = 0; i < n->nchildren; i++) count_nodes(&n->children[i], objects, unknown, below);
}

static void test_perl_file(void **state) {
  (void)state;
  ll__massif_t *m = parse_fixture("perl.out");
  assert_string_equal(m->time_unit, "i");
  int objects = 0, unknown = 0, below = 0;
  for (size_t i = 0; i < m->nsnapshots; i++)
    if (m->snapshots[i].root != NULL) count_nodes(m->snapshots[i].root, &objects, &unknown, &below);
  assert_true(objects > 10);
  assert_int_equal(unknown, 0);
  assert_true(below > 0);
  ll__massif_free(m);
}

/* A heap that only grows has no heap_tree=peak snapshot: the last, detailed one is the peak. */
static void test_growth_file(void **state) {
  (void)state;
  ll__massif_t *m = parse_fixture("growth.out");
  assert_int_equal(m->peak, -1);
  const ll__massif_snapshot_t *peak = ll__massif_peak(m);
  assert_ptr_equal(peak, &m->snapshots[m->nsnapshots - 1]);
  assert_int_equal(peak->heap_b, 500);
  assert_non_null(peak->root);
  ll__massif_free(m);
}

static void test_top_lines(void **state) {
  (void)state;
  ll__massif_t *m = parse_fixture("pattern.out");
  ll__massif_line_t *lines = NULL;
  long n = ll__massif_top_lines(ll__massif_peak(m)->root, &lines);
  assert_int_equal(n, 5);
  static const struct {
    const char *fn;
    unsigned line;
    uint64_t bytes;
  } want[] = {{"big_block", 41, 200000},
              {"make_table", 22, 8672},
              {"grow_buffer", 31, 5000},
              {"main", 49, 3000},
              {"main", 50, 28}}; /* strdup's bytes go to its caller: libc is not the program */
  uint64_t sum = 0;
  for (long i = 0; i < n; i++) {
    assert_non_null(lines[i].frame);
    assert_string_equal(lines[i].frame->function, want[i].fn);
    assert_int_equal(lines[i].frame->line, want[i].line);
    assert_int_equal(lines[i].bytes, want[i].bytes);
    sum += lines[i].bytes;
  }
  assert_int_equal(sum, 216700);
  free(lines);

  /* Below-threshold bytes get a line of their own, frame NULL, last among equals. */
  ll__massif_free(m);
  m = parse_fixture("threshold.out");
  n = ll__massif_top_lines(ll__massif_peak(m)->root, &lines);
  assert_int_equal(n, 4);
  assert_null(lines[3].frame);
  assert_int_equal(lines[3].bytes, 1000);
  free(lines);
  ll__massif_free(m);
}

/* ---- broken files ------------------------------------------------------------------------ */

static void expect_error(const char *name, int code, unsigned long line, const char *what) {
  char path[1024];
  ll__massif_t *m = NULL;
  ll__massif_error_t err;
  snprintf(path, sizeof path, "%s/%s", LL_MASSIF_DATA_DIR, name);
  int rc = ll__massif_parse_file(path, &m, &err);
  if (rc != code || err.line != line || strstr(err.what, what) == NULL)
    fail_msg("%s: got %d at line %lu '%s', want %d at line %lu '%s'", name, rc, err.line,
             err.what, code, line, what);
  assert_null(m);
  char msg[300];
  ll__massif_format_error(msg, sizeof msg, name, &err);
  assert_null(strchr(msg, '\n'));
}

static void test_broken_fixtures(void **state) {
  (void)state;
  expect_error("bad_header.out", LL_ECORRUPT, 2, "expected 'cmd: <command>'");
  expect_error("bad_time_unit.out", LL_ECORRUPT, 3, "time_unit must be i, ms or B");
  expect_error("bad_tree_line.out", LL_ECORRUPT, 172, "expected a code address");
  expect_error("children_mismatch.out", LL_ECORRUPT, 171, "declares 7 children, found 6");
  expect_error("nonnumeric.out", LL_ECORRUPT, 8, "mem_heap_B= is not a number");
  expect_error("sum_mismatch.out", LL_ECORRUPT, 99, "children of this tree node hold 8670");
  expect_error("out_of_order.out", LL_ECORRUPT, 36, "expected snapshot=3, got 7");
  expect_error("truncated.out", LL_ETRUNC, 194, "file ends in a heap tree");
  expect_error("no-such-file.out", LL_ENOENT, 0, "no such file");
}

static int parse_text(const char *text, ll__massif_error_t *err) {
  ll__massif_t *m = NULL;
  int rc = ll__massif_parse_buffer(text, strlen(text), &m, err);
  ll__massif_free(m);
  return rc;
}

#define HEAD "desc: x\ncmd: ./p\ntime_unit: B\n"
#define SNAP(tree) "snapshot=0\ntime=0\nmem_heap_B=10\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=" tree "\n"

static void test_small_cases(void **state) {
  (void)state;
  ll__massif_error_t err;
  assert_int_equal(parse_text("", &err), LL_ECORRUPT);
  assert_int_equal(parse_text(HEAD, &err), LL_ETRUNC);
  assert_non_null(strstr(err.what, "no snapshot"));
  assert_int_equal(parse_text(HEAD SNAP("empty"), &err), 0);
  /* A tree of exactly the snapshot's size, a child with a C++ name and an object. */
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 10 (root)\n n0: 10 0x1: f(int, char*) (in /lib/x.so)\n",
                              &err), 0);
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 9 (root)\n n0: 9 0x1: f (a.c:1)\n", &err),
                   LL_ECORRUPT);
  assert_non_null(strstr(err.what, "root holds 9 bytes"));
  assert_int_equal(parse_text(HEAD SNAP("peak") "n0: 11 (root)\n", &err), LL_ECORRUPT);
  assert_int_equal(parse_text(HEAD SNAP("bushy") "n0: 10 (root)\n", &err), LL_ECORRUPT);
  assert_int_equal(err.line, 9);
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 10 (root)\n  n0: 10 0x1: f (a.c:1)\n", &err),
                   LL_ECORRUPT);
  assert_non_null(strstr(err.what, "indented 2, expected 1"));
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 10 (root)\n n1: 10 in 3 places, below x\n", &err),
                   LL_ECORRUPT);
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 10 (root)\n n0: 10 0x1: f (a.c:1\n", &err),
                   LL_ECORRUPT);
  assert_int_equal(parse_text(HEAD SNAP("peak") "n1: 10 (root)\n n0: 99999999999999999999 0x1: f\n", &err),
                   LL_ECORRUPT);
  /* A children count no file could hold is refused before anything is allocated for it. */
  assert_int_equal(parse_text(HEAD SNAP("peak") "n4000000000: 10 (root)\n n0: 10 0x1: f (a.c:1)\n", &err),
                   LL_ETRUNC);
  assert_non_null(strstr(err.what, "declares 4000000000 children"));
  /* An unknown function in an object. */
  ll__massif_t *u = NULL;
  static const char unk[] = HEAD SNAP("detailed") "n1: 10 (root)\n n0: 10 0xABCdef: ??? (in /usr/lib/libz.so.1)\n";
  assert_int_equal(ll__massif_parse_buffer(unk, sizeof unk - 1, &u, &err), 0);
  assert_string_equal(u->snapshots[0].root->children[0].function, "???");
  assert_string_equal(u->snapshots[0].root->children[0].object, "/usr/lib/libz.so.1");
  assert_int_equal(u->snapshots[0].root->children[0].addr, 0xABCDEF);
  ll__massif_free(u);
  /* Two peaks. */
  assert_int_equal(parse_text(HEAD SNAP("peak") "n0: 10 (root)\n"
                              "snapshot=1\ntime=0\nmem_heap_B=10\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
                              "heap_tree=peak\nn0: 10 (root)\n", &err),
                   LL_ECORRUPT);
  assert_non_null(strstr(err.what, "second heap_tree=peak"));
  /* massif marks a peak only when a free follows it: a heap that grows afterwards peaks in a
   * later snapshot, which ll__massif_peak must prefer. */
  static const char later[] = HEAD SNAP("peak") "n0: 10 (root)\n"
                              "snapshot=1\ntime=5\nmem_heap_B=20\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
                              "heap_tree=detailed\nn1: 20 (root)\n n0: 20 0x1: f (a.c:1)\n";
  ll__massif_t *lm = NULL;
  assert_int_equal(ll__massif_parse_buffer(later, sizeof later - 1, &lm, &err), 0);
  assert_int_equal(lm->peak, 0);
  assert_ptr_equal(ll__massif_peak(lm), &lm->snapshots[1]);
  ll__massif_free(lm);
  /* A NUL byte. */
  static const char nul[] = HEAD "snapshot=0\0\ntime=0\n";
  ll__massif_t *m = NULL;
  assert_int_equal(ll__massif_parse_buffer(nul, sizeof nul - 1, &m, &err), LL_ECORRUPT);
  assert_int_equal(err.line, 4);
  assert_null(m);
}

/* A chain of `depth` nested single-child nodes. */
static char *chain(unsigned depth) {
  size_t cap = (size_t)depth * (depth + 64) + 512, len = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  len += (size_t)snprintf(s + len, cap - len, HEAD SNAP("peak") "n1: 10 (root)\n");
  for (unsigned d = 1; d <= depth; d++) {
    memset(s + len, ' ', d);
    len += d;
    len += (size_t)snprintf(s + len, cap - len, "n%u: 10 0x%x: f%u (a.c:%u)\n", d < depth ? 1 : 0,
                            d, d, d);
  }
  return s;
}

static void test_depths(void **state) {
  (void)state;
  ll__massif_error_t err;
  char *ok = chain(LL__MASSIF_MAX_DEPTH);
  assert_int_equal(parse_text(ok, &err), 0);
  free(ok);
  char *deep = chain(LL__MASSIF_MAX_DEPTH + 5);
  assert_int_equal(parse_text(deep, &err), LL_ECORRUPT);
  assert_non_null(strstr(err.what, "deeper than"));
  free(deep);
}

/* ---- every truncation, every corruption -------------------------------------------------- */

/* A prefix that parses must describe the same snapshots as the whole file, as far as it goes. */
static void check_prefix(const ll__massif_t *whole, const ll__massif_t *part, size_t cut) {
  if (part->nsnapshots > whole->nsnapshots) fail_msg("cut at %zu: more snapshots", cut);
  for (size_t i = 0; i < part->nsnapshots; i++) {
    const ll__massif_snapshot_t *a = &whole->snapshots[i], *b = &part->snapshots[i];
    if (a->time != b->time || a->heap_b != b->heap_b || a->heap_extra_b != b->heap_extra_b ||
        a->stacks_b != b->stacks_b || a->tree != b->tree || (a->root == NULL) != (b->root == NULL) ||
        (a->root != NULL && a->root->bytes != b->root->bytes))
      fail_msg("cut at %zu: snapshot %zu differs from the whole file's", cut, i);
  }
}

static void check_error(const ll__massif_error_t *err, int rc, size_t cut) {
  if (rc != LL_ETRUNC && rc != LL_ECORRUPT) fail_msg("cut at %zu: code %d", cut, rc);
  if (err->code != rc || err->what[0] == '\0' || strchr(err->what, '\n') != NULL)
    fail_msg("cut at %zu: bad error text", cut);
}

static void truncate_everywhere(const char *name) {
  size_t len;
  char *buf = tf_slurp(LL_MASSIF_DATA_DIR, name, &len);
  ll__massif_t *whole = NULL;
  assert_int_equal(ll__massif_parse_buffer(buf, len, &whole, NULL), 0);
  size_t boundary_errors = 0, inline_ok = 0;
  for (size_t cut = 0; cut < len; cut++) {
    ll__massif_t *part = NULL;
    ll__massif_error_t err;
    /* A copy of exactly `cut` bytes, so that ASan sees any read past the end. */
    char *copy = malloc(cut ? cut : 1);
    assert_non_null(copy);
    memcpy(copy, buf, cut);
    int rc = ll__massif_parse_buffer(copy, cut, &part, &err);
    int at_boundary = cut == 0 || buf[cut - 1] == '\n';
    if (rc == 0) {
      check_prefix(whole, part, cut);
      if (!at_boundary) inline_ok++;
      ll__massif_free(part);
    } else {
      check_error(&err, rc, cut);
      assert_null(part);
      if (at_boundary) boundary_errors++;
    }
    free(copy);
  }
  /* Cuts inside a snapshot's fields or a tree are caught; only cuts that leave whole snapshots
   * (or a comment, or the last leaf's name) can pass, and they were checked against the file. */
  assert_true(boundary_errors > 0);
  assert_true(inline_ok < len / 4);
  ll__massif_free(whole);
  free(buf);
}

static void test_truncate_everywhere(void **state) {
  (void)state;
  truncate_everywhere("pattern.out");
  truncate_everywhere("threshold.out");
  truncate_everywhere("perl.out");
}

/* Every significant line deleted, or damaged, must be refused with a line number (deleting the
 * optional desc: line or a comment is harmless). */
static void test_corrupt_every_line(void **state) {
  (void)state;
  size_t len;
  char *buf = tf_slurp(LL_MASSIF_DATA_DIR, "pattern.out", &len);
  char *copy = malloc(len + 16);
  assert_non_null(copy);
  size_t start = 0;
  unsigned long lineno = 0;
  while (start < len) {
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - buf) + 1 : len;
    lineno++;
    int comment = buf[start] == '#';
    int desc = strncmp(buf + start, "desc:", 5) == 0;
    ll__massif_t *m = NULL;
    ll__massif_error_t err;

    /* deleted */
    memcpy(copy, buf, start);
    memcpy(copy + start, buf + end, len - end);
    int rc = ll__massif_parse_buffer(copy, len - (end - start), &m, &err);
    if (comment || desc) {
      assert_int_equal(rc, 0);
      ll__massif_free(m);
    } else if (rc == 0) {
      fail_msg("line %lu deleted: accepted", lineno);
    } else {
      check_error(&err, rc, start);
      assert_true(err.line > 0);
    }

    /* first character replaced by a letter that starts nothing massif writes */
    if (!comment) {
      memcpy(copy, buf, len);
      size_t at = start;
      while (at < end && copy[at] == ' ') at++;
      copy[at] = 'Z';
      m = NULL;
      rc = ll__massif_parse_buffer(copy, len, &m, &err);
      if (rc == 0) fail_msg("line %lu damaged: accepted", lineno);
      check_error(&err, rc, start);
      assert_int_equal(err.line, lineno);
    }

    /* a digit turned into a letter */
    memcpy(copy, buf, len);
    size_t digit = end;
    for (size_t k = start; k < end; k++)
      if (copy[k] >= '0' && copy[k] <= '9') {
        digit = k;
        break;
      }
    if (!comment && !desc && digit < end && strncmp(buf + start, "cmd:", 4) != 0) {
      copy[digit] = 'q';
      m = NULL;
      rc = ll__massif_parse_buffer(copy, len, &m, &err);
      if (rc == 0) fail_msg("line %lu with a letter for a digit: accepted", lineno);
      check_error(&err, rc, start);
    }
    start = end;
  }
  free(copy);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pattern_file),      cmocka_unit_test(test_threshold_file),
      cmocka_unit_test(test_perl_file),         cmocka_unit_test(test_growth_file),
      cmocka_unit_test(test_top_lines),         cmocka_unit_test(test_broken_fixtures),
      cmocka_unit_test(test_small_cases),       cmocka_unit_test(test_depths),
      cmocka_unit_test(test_truncate_everywhere), cmocka_unit_test(test_corrupt_every_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
