/* test_folded.c - snapshots as collapsed stacks: exact lines, root first, merged, weights that add up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>
#include <leaklab/report.h>

#include "snapshot_fixtures.h"

static char *folded(const ll_snapshot_t *s, ll_weight_t w) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ll_report_folded(f, s, w), 0);
  assert_int_equal(fclose(f), 0);
  return buf;
}

static void test_hand_snapshot(void **state) {
  (void)state;
  ll_snapshot_t *s = fx_snapshot_new(LL_AT_PEAK, 16);
  assert_non_null(s);
  assert_non_null(fx_trace(s, "table.c:22:make_table main.c:47:main", 4000, 4));
  /* Two return addresses on one line read the same once symbolised: one stack. */
  assert_non_null(fx_trace(s, "table.c:22:make_table@10 main.c:47:main@20", 500, 1));
  /* Separators in names, an unknown function, a library without lines, an address only. */
  assert_non_null(fx_trace(s, "op.cc:9:operator;() main.c:50:main", 30, 1));
  assert_non_null(fx_trace(s, "/usr/lib/libz.so.1:0:inflate@7f00aa lib.c:3@7f00ab", 7, 1));
  assert_non_null(fx_trace(s, "<unknown>:0@7f0012345678", 64, 2));
  /* malloc(0): nothing to draw by bytes, one block by count. */
  assert_non_null(fx_trace(s, "zero.c:1:z main.c:90:main", 0, 3));
  /* Cut by the traceback limit: the oldest frames are missing. */
  ll_frame_t deep[] = {{"deep.c", "leaf", 5, 0}, {"deep.c", "mid", 6, 0}};
  assert_non_null(fx_trace_tb(s, fx_traceback_frames(s, deep, 2, 9), 100, 116, 1));

  char *text = folded(s, LL_WEIGHT_BYTES);
  assert_string_equal(text,
                      "0x7f0012345678 64\n"
                      "0x7f00ab (lib.c:3);inflate (/usr/lib/libz.so.1) 7\n"
                      "[older frames not kept];mid (deep.c:6);leaf (deep.c:5) 100\n"
                      "main (main.c:47);make_table (table.c:22) 4500\n"
                      "main (main.c:50);operator?() (op.cc:9) 30\n");
  free(text);
  text = folded(s, LL_WEIGHT_COUNT);
  assert_non_null(strstr(text, "main (main.c:47);make_table (table.c:22) 5\n"));
  assert_non_null(strstr(text, "main (main.c:90);z (zero.c:1) 3\n"));
  free(text);
  ll_snapshot_free(s);
}

/* The weights of the lines add up to the snapshot's bytes and blocks. */
static void test_weights_add_up(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    ll_snapshot_t *s = fx_random_snapshot(seed, LL_AT_PEAK, 50 * seed, 1 + (uint32_t)(seed % 5),
                                          1 + (uint32_t)(seed % 3));
    assert_non_null(s);
    uint64_t bytes = 0, blocks = 0;
    for (size_t i = 0; i < s->ntraces; i++) {
      bytes += s->traces[i].size;
      blocks += s->traces[i].count;
    }
    for (int w = 0; w < 2; w++) {
      char *text = folded(s, w ? LL_WEIGHT_COUNT : LL_WEIGHT_BYTES);
      uint64_t sum = 0;
      size_t lines = 0;
      for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        sum += strtoull(sp + 1, NULL, 10);
        lines++;
      }
      assert_int_equal(sum, w ? blocks : bytes);
      assert_true(lines > 0 && lines <= s->ntraces);
      free(text);
    }
    ll_snapshot_free(s);
  }
}

static void test_errors(void **state) {
  (void)state;
  ll_snapshot_t *s = fx_snapshot_new(LL_AT_END, 1);
  assert_non_null(s);
  assert_int_equal(ll_report_folded(NULL, s, LL_WEIGHT_BYTES), LL_EINVAL);
  assert_int_equal(ll_report_folded(stdout, NULL, LL_WEIGHT_BYTES), LL_EINVAL);
  assert_int_equal(ll_report_folded(stdout, s, (ll_weight_t)7), LL_EINVAL);
  /* An empty snapshot is an empty file. */
  char *text = folded(s, LL_WEIGHT_BYTES);
  assert_string_equal(text, "");
  free(text);
  ll_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_snapshot),
      cmocka_unit_test(test_weights_add_up),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
