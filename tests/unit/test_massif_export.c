/* test_massif_export.c - leaklab snapshots as massif.out: read back by our parser and by ms_print. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "massif_export.h"
#include "massif_parse.h"
#include "snapshot_fixtures.h"

/* The export of (peak, end) as text, and parsed back. */
static char *export_text(const ll_snapshot_t *peak, const ll_snapshot_t *end, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  assert_int_equal(ll_report_massif(f, peak, end), 0);
  assert_int_equal(fclose(f), 0);
  return buf;
}

static ll__massif_t *export_parsed(const ll_snapshot_t *peak, const ll_snapshot_t *end) {
  size_t len;
  char *text = export_text(peak, end, &len);
  ll__massif_t *m = NULL;
  ll__massif_error_t err;
  int rc = ll__massif_parse_buffer(text, len, &m, &err);
  if (rc != 0) fail_msg("export does not parse: line %lu: %s\n%s", err.line, err.what, text);
  free(text);
  return m;
}

static uint32_t depth_of(const ll_trace_t *t) {
  return t->traceback->nframe < LL__MASSIF_EXPORT_DEPTH ? t->traceback->nframe
                                                        : LL__MASSIF_EXPORT_DEPTH;
}

/* Does a parsed node stand for this leaklab frame? */
static int node_is(const ll__massif_node_t *n, const ll_frame_t *f) {
  if (n->kind != LL__MASSIF_NODE_FRAME || n->addr != f->ip) return 0;
  if (strcmp(n->function, f->function[0] ? f->function : "???") != 0) return 0;
  int known = strcmp(f->filename, "<unknown>") != 0 && f->filename[0] != '\0';
  if (!known) return n->file == NULL && n->object == NULL;
  if (f->lineno == 0) return n->object != NULL && strcmp(n->object, f->filename) == 0;
  return n->file != NULL && strcmp(n->file, f->filename) == 0 && n->line == f->lineno;
}

static int ends_leaf(const ll__massif_node_t *n) {
  return n->kind == LL__MASSIF_NODE_FRAME && strcmp(n->function, "(traceback ends here)") == 0;
}

/* Every node at depth d holds exactly the bytes of the traces through its path; children are
 * largest first; the "ends here" leaf holds the traces that stop at its parent. */
static void check_subtree(const ll__massif_node_t *node, const ll_snapshot_t *s,
                          const ll_frame_t **path, uint32_t d) {
  uint64_t through = 0, ends = 0;
  for (size_t i = 0; i < s->ntraces; i++) {
    const ll_trace_t *t = &s->traces[i];
    if (depth_of(t) < d) continue;
    uint32_t k = 0;
    while (k < d && t->traceback->frames[k].ip == path[k]->ip &&
           t->traceback->frames[k].lineno == path[k]->lineno &&
           strcmp(t->traceback->frames[k].filename, path[k]->filename) == 0 &&
           strcmp(t->traceback->frames[k].function, path[k]->function) == 0)
      k++;
    if (k < d) continue;
    through += t->size;
    if (depth_of(t) == d) ends += t->size;
  }
  assert_int_equal(node->bytes, through);
  int has_ends_leaf = 0;
  for (uint32_t c = 0; c < node->nchildren; c++) {
    const ll__massif_node_t *child = &node->children[c];
    if (c > 0) assert_true(node->children[c - 1].bytes >= child->bytes);
    if (ends_leaf(child)) {
      assert_int_equal(child->bytes, ends);
      has_ends_leaf = 1;
      continue;
    }
    /* Find the frame this child stands for among the traces through the path. */
    const ll_frame_t *frame = NULL;
    for (size_t i = 0; i < s->ntraces && frame == NULL; i++)
      if (depth_of(&s->traces[i]) > d && node_is(child, &s->traces[i].traceback->frames[d]))
        frame = &s->traces[i].traceback->frames[d];
    assert_non_null(frame);
    path[d] = frame;
    check_subtree(child, s, path, d + 1);
  }
  if (node->nchildren > 0 && ends > 0) assert_true(has_ends_leaf);
}

/* Each trace can be followed from the root down to its last frame. */
static void check_reachable(const ll__massif_node_t *root, const ll_snapshot_t *s) {
  for (size_t i = 0; i < s->ntraces; i++) {
    const ll__massif_node_t *n = root;
    for (uint32_t d = 0; d < depth_of(&s->traces[i]); d++) {
      const ll__massif_node_t *next = NULL;
      for (uint32_t c = 0; c < n->nchildren && next == NULL; c++)
        if (node_is(&n->children[c], &s->traces[i].traceback->frames[d])) next = &n->children[c];
      if (next == NULL) fail_msg("trace %zu: frame %u not in the tree", i, d);
      n = next;
    }
  }
}

static void check_snapshot_tree(const ll__massif_snapshot_t *ms, const ll_snapshot_t *s) {
  uint64_t heap = 0, extra = 0;
  for (size_t i = 0; i < s->ntraces; i++) {
    heap += s->traces[i].size;
    extra += s->traces[i].usable - s->traces[i].size;
  }
  assert_int_equal(ms->heap_b, heap);
  assert_int_equal(ms->heap_extra_b, extra);
  assert_non_null(ms->root);
  const ll_frame_t *path[LL__MASSIF_EXPORT_DEPTH + 1];
  check_subtree(ms->root, s, path, 0);
  check_reachable(ms->root, s);
}

/* ---- hand-made snapshots ----------------------------------------------------------------- */

static ll_snapshot_t *hand_peak(void) {
  ll_snapshot_t *s = fx_snapshot_new(LL_AT_PEAK, 16);
  assert_non_null(s);
  /* Two callers of one allocation site, a third site, a deeper path through the same caller. */
  assert_non_null(fx_trace(s, "table.c:22:make_table main.c:47:main", 8672, 8));
  assert_non_null(fx_trace(s, "table.c:22:make_table main.c:60:main", 1000, 1));
  assert_non_null(fx_trace(s, "big.c:41:big_block main.c:51:main", 200000, 1));
  /* A traceback that ends where another goes on (the second is deeper). */
  assert_non_null(fx_trace(s, "buf.c:31:grow", 300, 1));
  assert_non_null(fx_trace(s, "buf.c:31:grow main.c:48:main", 5000, 1));
  /* Native frames: not symbolised (ip only), and a library without line numbers. */
  assert_non_null(fx_trace(s, "<unknown>:0@7f0012345678 <unknown>:0@401234", 64, 2));
  assert_non_null(fx_trace(s, "/usr/lib/libz.so.1:0:inflate@7f00aa main.c:70:main", 128, 1));
  /* Names the format cannot hold as they are. */
  assert_non_null(fx_trace(s, "we#ird.c:5:f#g main.c:80:main", 10, 1));
  assert_non_null(fx_trace(s, "cpp.cc:9:ns::f(int main.c:81:main", 20, 1));
  /* malloc(0) blocks: in the tree with 0 bytes, as massif shows freed sites. */
  assert_non_null(fx_trace(s, "zero.c:1:z main.c:90:main", 0, 3));
  return s;
}

static void test_hand_snapshot(void **state) {
  (void)state;
  ll_snapshot_t *peak = hand_peak();
  ll_snapshot_t *end = fx_snapshot_new(LL_AT_END, 4);
  assert_non_null(end);
  assert_non_null(fx_trace(end, "table.c:22:make_table main.c:47:main", 4528, 4));
  end->total_bytes = 500000;

  ll__massif_t *m = export_parsed(peak, end);
  assert_string_equal(m->time_unit, "B");
  assert_string_equal(m->cmd, "fixture --test");
  assert_int_equal(m->nsnapshots, 3);
  assert_int_equal(m->snapshots[0].tree, LL__MASSIF_TREE_EMPTY);
  assert_int_equal(m->snapshots[0].heap_b, 0);
  assert_int_equal(m->peak, 1);
  assert_int_equal(m->snapshots[1].heap_b, 8672 + 1000 + 200000 + 300 + 5000 + 64 + 128 + 10 + 20);
  assert_int_equal(m->snapshots[2].tree, LL__MASSIF_TREE_DETAILED);
  assert_int_equal(m->snapshots[2].heap_b, 4528);
  assert_int_equal(m->snapshots[2].time, 500000);
  assert_true(m->snapshots[1].time <= m->snapshots[2].time);
  assert_ptr_equal(ll__massif_peak(m), &m->snapshots[1]);

  /* The structure, exactly: big_block first, then make_table with two callers. */
  const ll__massif_node_t *root = m->snapshots[1].root;
  assert_string_equal(root->children[0].function, "big_block");
  assert_string_equal(root->children[1].function, "make_table");
  assert_int_equal(root->children[1].bytes, 9672);
  assert_int_equal(root->children[1].nchildren, 2);
  assert_int_equal(root->children[1].children[0].line, 47);
  assert_int_equal(root->children[1].children[1].line, 60);
  assert_string_equal(root->children[2].function, "grow");
  assert_int_equal(root->children[2].nchildren, 2);
  assert_true(ends_leaf(&root->children[2].children[1]));
  assert_int_equal(root->children[2].children[1].bytes, 300);

  /* '#' would end the line for ms_print; an unpaired '(' would eat the location. */
  int hashes = 0, cpp = 0;
  for (uint32_t c = 0; c < root->nchildren; c++) {
    const ll__massif_node_t *n = &root->children[c];
    if (n->kind != LL__MASSIF_NODE_FRAME) continue;
    if (strcmp(n->function, "f?g") == 0 && strcmp(n->file, "we?ird.c") == 0) hashes++;
    if (strcmp(n->function, "ns::f?int") == 0 && strcmp(n->file, "cpp.cc") == 0) cpp++;
    if (n->addr == 0x7f00aa) assert_string_equal(n->object, "/usr/lib/libz.so.1");
  }
  assert_int_equal(hashes, 1);
  assert_int_equal(cpp, 1);

  /* The names were rewritten, so compare the tree on a copy without them. */
  check_snapshot_tree(&m->snapshots[2], end);
  ll__massif_free(m);
  ll_snapshot_free(peak);
  ll_snapshot_free(end);
}

static void test_random_snapshots(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    ll_snapshot_t *peak = fx_random_snapshot(seed, LL_AT_PEAK, 40 + seed * 10, 1 + (uint32_t)(seed % 6),
                                             1 + (uint32_t)(seed % 3));
    assert_non_null(peak);
    ll__massif_t *m = export_parsed(peak, NULL);
    assert_int_equal(m->nsnapshots, 2);
    check_snapshot_tree(&m->snapshots[1], peak);
    ll__massif_free(m);
    ll_snapshot_free(peak);
  }
}

/* Tracebacks deeper than massif's --depth limit are cut at 200 frames, as massif cuts them. */
static void test_depth_cap(void **state) {
  (void)state;
  ll_snapshot_t *peak = fx_snapshot_new(LL_AT_PEAK, 2);
  assert_non_null(peak);
  ll_frame_t frames[300];
  for (uint32_t i = 0; i < 300; i++)
    frames[i] = (ll_frame_t){"deep.c", "recurse", i + 1, 0};
  assert_non_null(fx_trace_tb(peak, fx_traceback_frames(peak, frames, 300, 300), 77, 80, 1));
  assert_non_null(fx_trace_tb(peak, fx_traceback_frames(peak, frames, 250, 250), 23, 32, 1));
  ll__massif_t *m = export_parsed(peak, NULL);
  const ll__massif_node_t *n = m->snapshots[1].root;
  uint32_t depth = 0;
  while (n->nchildren > 0) {
    assert_int_equal(n->nchildren, 1);
    n = &n->children[0];
    depth++;
  }
  assert_int_equal(depth, LL__MASSIF_EXPORT_DEPTH);
  assert_int_equal(n->bytes, 100);
  check_snapshot_tree(&m->snapshots[1], peak);
  ll__massif_free(m);
  ll_snapshot_free(peak);
}

static void test_errors(void **state) {
  (void)state;
  ll_snapshot_t *peak = hand_peak();
  assert_int_equal(ll_report_massif(NULL, peak, NULL), LL_EINVAL);
  assert_int_equal(ll_report_massif(stdout, NULL, NULL), LL_EINVAL);
  FILE *full = fopen("/dev/full", "w");
  if (full != NULL) {
    assert_int_equal(ll_report_massif(full, peak, NULL), LL_EIO);
    fclose(full);
  }
  ll_snapshot_free(peak);
}

/* ---- snapshots from the engine ----------------------------------------------------------- */

static void test_engine_snapshot(void **state) {
  (void)state;
  static char blocks[6][1];
  const ll_site_t a[] = {{"engine_a.c", "alloc_a", 10}, {"main.c", "main", 3}};
  const ll_site_t b[] = {{"engine_b.c", "alloc_b", 20}, {"main.c", "main", 4}};
  assert_int_equal(ll_start(8), 0);
  ll_track_alloc(blocks[0], 1000, 1008, a, 2);
  ll_track_alloc(blocks[1], 3000, 3008, b, 2);
  ll_track_alloc(blocks[2], 500, 512, a, 1);
  ll_track_free(blocks[1]);
  ll_track_alloc(blocks[3], 100, 112, b, 2);
  size_t current, peak_bytes;
  ll_get_traced_memory(&current, &peak_bytes);
  assert_int_equal(peak_bytes, 4500);
  ll_snapshot_t *peak = NULL, *end = NULL;
  assert_int_equal(ll_take_peak_snapshot(&peak), 0);
  assert_int_equal(ll_take_snapshot(&end), 0);
  ll_stop();

  ll__massif_t *m = export_parsed(peak, end);
  assert_int_equal(ll__massif_peak(m)->heap_b, peak_bytes);
  assert_int_equal(m->snapshots[2].heap_b, current);
  check_snapshot_tree(&m->snapshots[1], peak);
  check_snapshot_tree(&m->snapshots[2], end);
  ll__massif_free(m);
  ll_snapshot_free(peak);
  ll_snapshot_free(end);
}

/* ---- ms_print ------------------------------------------------------------------------------ */

/* Useful-heap column of snapshot `n` in ms_print's table, -1 when missing. */
static long long ms_print_useful(const char *text, int n) {
  const char *p = text;
  while ((p = strchr(p, '\n')) != NULL) {
    p++;
    int num;
    char t[32], total[32], useful[32];
    if (sscanf(p, "%d %31s %31s %31s", &num, t, total, useful) == 4 && num == n) {
      char digits[32];
      size_t k = 0;
      for (const char *u = useful; *u && k < sizeof digits - 1; u++)
        if (*u != ',') digits[k++] = *u;
      digits[k] = '\0';
      return atoll(digits);
    }
  }
  return -1;
}

static void test_ms_print_accepts(void **state) {
  (void)state;
  if (system("command -v ms_print >/dev/null 2>&1") != 0) skip();
  const char *dir = getenv("LL_TEST_TMPDIR");
  char in[1024], out[1100], cmd[2300];
  snprintf(in, sizeof in, "%s/massif_export_%d.out", dir ? dir : "/tmp", (int)getpid());
  snprintf(out, sizeof out, "%s.txt", in);

  ll_snapshot_t *peak = hand_peak();
  ll_snapshot_t *end = fx_snapshot_new(LL_AT_END, 2);
  assert_non_null(fx_trace(end, "table.c:22:make_table main.c:47:main", 4528, 4));
  FILE *f = fopen(in, "w");
  assert_non_null(f);
  assert_int_equal(ll_report_massif(f, peak, end), 0);
  assert_int_equal(fclose(f), 0);

  snprintf(cmd, sizeof cmd, "ms_print '%s' > '%s' 2>&1", in, out);
  int status = system(cmd);
  assert_true(WIFEXITED(status));
  size_t len = 0;
  char *text = NULL;
  FILE *r = fopen(out, "r");
  assert_non_null(r);
  char chunk[4096];
  size_t n;
  FILE *mem = open_memstream(&text, &len);
  while ((n = fread(chunk, 1, sizeof chunk, r)) > 0) fwrite(chunk, 1, n, mem);
  fclose(mem);
  fclose(r);
  if (WEXITSTATUS(status) != 0) fail_msg("ms_print failed:\n%s", text);

  uint64_t heap = 0;
  for (size_t i = 0; i < peak->ntraces; i++) heap += peak->traces[i].size;
  assert_int_equal(ms_print_useful(text, 1), (long long)heap);
  assert_int_equal(ms_print_useful(text, 2), 4528);
  assert_non_null(strstr(text, "Detailed snapshots: [1 (peak), 2]"));
  assert_non_null(strstr(text, "big_block (big.c:41)"));
  free(text);
  unlink(in);
  unlink(out);
  ll_snapshot_free(peak);
  ll_snapshot_free(end);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_snapshot),   cmocka_unit_test(test_random_snapshots),
      cmocka_unit_test(test_depth_cap),       cmocka_unit_test(test_errors),
      cmocka_unit_test(test_engine_snapshot), cmocka_unit_test(test_ms_print_accepts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
