/* test_html_tree.c - the HTML report's flamegraph trees: each moment's tree holds only its own traces' paths and values, whatever other moments hold; the same trees when moments are added first; memory in proportion to the frames, not to the paths' prefixes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_tree.h"

static const ll_frame_t x_frames[2] = {{"a.c", "alloc", 1, 0}, {"main.c", "main", 9, 0}};
static const ll_frame_t y_frames[2] = {{"b.c", "other", 2, 0}, {"main.c", "main", 9, 0}};
static const ll_traceback_t tb_x = {2, 2, x_frames}, tb_y = {2, 2, y_frames};
/* Two moments: x and y live in a, only y in b. */
static ll_trace_t a_tr[2] = {{&tb_x, 100, 112, 1}, {&tb_y, 50, 64, 2}};
static ll_trace_t b_tr[1] = {{&tb_y, 30, 32, 1}};
static const ll_snapshot_t a = {.at = LL_AT_PEAK, .program = "t", .ntraces = 2, .traces = a_tr};
static const ll_snapshot_t b = {.at = LL_AT_END, .program = "t", .ntraces = 1, .traces = b_tr};

/* What ll__html_emit_trees writes for snap (the forest kept across calls). */
static char *trees(ll__html_forest_t *fo, const ll_snapshot_t *snap, const char *at, double share) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ll__html_emit_trees(f, fo, snap, at, share), 0);
  fclose(f);
  return buf;
}

/* trees() is `want`. */
static void assert_trees(ll__html_forest_t *fo, const ll_snapshot_t *snap, const char *at, double share,
                         const char *want) {
  char *t = trees(fo, snap, at, share);
  assert_string_equal(t, want);
  free(t);
}

static void moments_share_tries_not_values(void **state) {
  (void)state;
  ll__html_names_t *nm = ll__html_names_new();
  ll__html_forest_t *fo = ll__html_forest_new(nm);
  assert_true(nm != NULL && fo != NULL);

  /* Names in the order a callers walk first meets them: main 0, alloc 1, other 2. */
  assert_trees(fo, &a, "A", 0,
               "{\"callers\":[\"A\",150,3,[[0,150,3,[[1,100,1],[2,50,2]]]]],"
               "\"inverted\":[\"A\",150,3,[[1,100,1,[[0,100,1]]],[2,50,2,[[0,50,2]]]]]}");
  /* The second moment: alloc's path is in the tries but not in it, and its values are its own. */
  assert_trees(fo, &b, "B", 0,
               "{\"callers\":[\"B\",30,1,[[0,30,1,[[2,30,1]]]]],"
               "\"inverted\":[\"B\",30,1,[[2,30,1,[[0,30,1]]]]]}");
  /* The first again, after the second: the same as before. Small children merge (one alone is
   * kept: 34% of 150 is above 50, so "other" is merged only with a sibling as small). */
  assert_trees(fo, &a, "A", 0.34,
               "{\"callers\":[\"A\",150,3,[[0,150,3,[[1,100,1],[2,50,2]]]]],"
               "\"inverted\":[\"A\",150,3,[[1,100,1,[[0,100,1]]],[2,50,2,[[0,50,2]]]]]}");
  char *names = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&names, &len);
  ll__html_write_names(f, nm);
  fclose(f);
  assert_string_equal(names, "\"main (main.c:9)\",\"alloc (a.c:1)\",\"other (b.c:2)\"");
  free(names);
  ll__html_forest_free(fo);
  ll__html_names_free(nm);
}

/* Adding every moment before writing any (what html.c does) gives the same trees and names. */
static void added_first_same_trees(void **state) {
  (void)state;
  ll__html_names_t *nm = ll__html_names_new();
  ll__html_forest_t *fo = ll__html_forest_new(nm);
  assert_true(nm != NULL && fo != NULL);
  assert_int_equal(ll__html_forest_add(fo, &b), 0); /* b first: "other" is named before "alloc" */
  assert_int_equal(ll__html_forest_add(fo, &a), 0);
  assert_trees(fo, &a, "A", 0,
               "{\"callers\":[\"A\",150,3,[[0,150,3,[[2,100,1],[1,50,2]]]]],"
               "\"inverted\":[\"A\",150,3,[[2,100,1,[[0,100,1]]],[1,50,2,[[0,50,2]]]]]}");
  assert_trees(fo, &b, "B", 0,
               "{\"callers\":[\"B\",30,1,[[0,30,1,[[1,30,1]]]]],"
               "\"inverted\":[\"B\",30,1,[[1,30,1,[[0,30,1]]]]]}");
  ll__html_forest_free(fo);
  ll__html_names_free(nm);
}

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* 20,000 tracebacks of 64 frames, each a window one frame further along 20,063 distinct frames:
 * no two share a path prefix in either order, so one node per (traceback, depth) would be 1.28M
 * nodes a tree (the tries this replaced kept ~100 MB here; a 467k-traceback python3 capture
 * made them 960 MiB). The forest keeps one name per frame: 5 MB, at most 16 MB with slack.
 * (Under ASan, mallinfo2 does not see its allocator: nothing is measured there.) */
static void memory_follows_frames(void **state) {
  (void)state;
  enum { NTB = 20000, DEPTH = 64 };
  ll_frame_t *pool = calloc(NTB + DEPTH, sizeof *pool);
  ll_traceback_t *tbs = calloc(NTB, sizeof *tbs);
  ll_trace_t *tr = calloc(NTB, sizeof *tr);
  assert_true(pool != NULL && tbs != NULL && tr != NULL);
  for (uint32_t i = 0; i < NTB + DEPTH; i++) pool[i] = (ll_frame_t){"w.c", "walk", i + 1, 0};
  for (uint32_t i = 0; i < NTB; i++) {
    tbs[i] = (ll_traceback_t){DEPTH, DEPTH, &pool[i]};
    tr[i] = (ll_trace_t){&tbs[i], 16 + i % 7, 16, 1};
  }
  ll_snapshot_t snap = {.at = LL_AT_PEAK, .program = "t", .ntraces = NTB, .traces = tr};
  size_t before = heap_in_use();
  ll__html_names_t *nm = ll__html_names_new();
  ll__html_forest_t *fo = ll__html_forest_new(nm);
  assert_true(nm != NULL && fo != NULL);
  FILE *sink = fopen("/dev/null", "w");
  assert_non_null(sink);
  assert_int_equal(ll__html_emit_trees(sink, fo, &snap, "A", 0.01), 0);
  size_t used = heap_in_use() - before;
#if !defined(__SANITIZE_ADDRESS__)
  assert_true(used < (size_t)16 << 20);
#else
  (void)used;
#endif
  fclose(sink);
  ll__html_forest_free(fo);
  ll__html_names_free(nm);
  free(tr);
  free(tbs);
  free(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(moments_share_tries_not_values),
      cmocka_unit_test(added_first_same_trees),
      cmocka_unit_test(memory_follows_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
