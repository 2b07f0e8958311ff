/* test_format.c - tracemalloc's size and line formats byte for byte, format names, and the CLI's integer parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <leaklab/report.h>

/* The CLI's value parsers live in the leaklab executable, not the library: compile them in. */
#include "../../src/cli/cli_util.c"

static void expect_size(double size, int sign, const char *want) {
  char buf[64];
  int n = ll_format_size(buf, sizeof buf, size, sign);
  if (strcmp(buf, want) != 0)
    fail_msg("ll_format_size(%.17g, %d) = '%s', want '%s'", size, sign, buf, want);
  assert_int_equal(n, (int)strlen(want));
}

/* Every expectation below is what CPython's tracemalloc._format_size prints. */
static void test_size_bytes(void **state) {
  (void)state;
  expect_size(0, 0, "0 B");
  expect_size(1, 0, "1 B");
  expect_size(99, 0, "99 B");   /* bytes never get a decimal, even under 100 */
  expect_size(100, 0, "100 B");
  expect_size(10239, 0, "10239 B");
}

static void test_size_unit_thresholds(void **state) {
  (void)state;
  expect_size(10240, 0, "10.0 KiB");
  expect_size(10250, 0, "10.0 KiB");
  expect_size(15000, 0, "14.6 KiB");
  expect_size(102399, 0, "100.0 KiB"); /* 99.999 KiB is under 100: "%.1f" rounds it up */
  expect_size(102400, 0, "100 KiB");
  expect_size(99.95 * 1024, 0, "100.0 KiB");
  expect_size(10485759, 0, "10240 KiB"); /* under 10 * 1024 KiB: still KiB */
  expect_size(10485760, 0, "10.0 MiB");
  expect_size(104857600, 0, "100 MiB");
  expect_size(10737418240.0, 0, "10.0 GiB");
  expect_size(1098437885952.0, 0, "1023 GiB");
  expect_size(10995116277760.0, 0, "10.0 TiB");
  expect_size(109951162777600.0, 0, "100 TiB");
  expect_size(1152921504606846976.0, 0, "1048576 TiB"); /* TiB is the last unit */
  expect_size((double)UINT64_MAX, 0, "16777216 TiB");
}

static void test_size_rounding(void **state) {
  (void)state;
  expect_size(124.0 / 3.0, 0, "41 B");
  expect_size(41.5, 0, "42 B"); /* printf rounds half to even, as Python's % does */
  expect_size(42.5, 0, "42 B");
  expect_size(0.5, 0, "0 B");
  expect_size(1.5, 0, "2 B");
}

static void test_size_signed(void **state) {
  (void)state;
  expect_size(0, 1, "+0 B");
  expect_size(24, 1, "+24 B");
  expect_size(-1, 1, "-1 B");
  expect_size(-124, 1, "-124 B");
  expect_size(10240, 1, "+10.0 KiB");
  expect_size(-10240, 1, "-10.0 KiB");
  expect_size(-102400, 1, "-100 KiB");
  expect_size(-10485760, 1, "-10.0 MiB");
  expect_size(-124, 0, "-124 B"); /* unsigned form still shows a minus */
}

static void test_size_snprintf_semantics(void **state) {
  char buf[4];
  (void)state;
  assert_int_equal(ll_format_size(buf, sizeof buf, 10240, 0), 8);
  assert_string_equal(buf, "10.");
  assert_int_equal(ll_format_size(NULL, 0, 124, 1), 6);
}

/* ---- statistic lines -------------------------------------------------------------------- */

static ll_frame_t frame_c12 = {"file.c", "make_names", 12, 0};
static ll_traceback_t tb_c12 = {1, 1, &frame_c12};

static void expect_stat(const ll_stat_t *st, int is_diff, const char *want) {
  char buf[256];
  int n = ll_format_stat(buf, sizeof buf, st, is_diff);
  assert_string_equal(buf, want);
  assert_int_equal(n, (int)strlen(want));
}

static void test_stat_tracemalloc_example(void **state) {
  /* Three blocks of 41, 41 and 42 bytes made at one line. */
  ll_stat_t st = {&tb_c12, 41 + 41 + 42, 144, 3, 0, 0};
  (void)state;
  expect_stat(&st, 0, "file.c:12: size=124 B, count=3, average=41 B");
}

static void test_stat_diff(void **state) {
  ll_stat_t grew = {&tb_c12, 124, 144, 3, 24, 1};
  ll_stat_t gone = {&tb_c12, 0, 0, 0, -124, -3};
  ll_stat_t same = {&tb_c12, 124, 144, 3, 0, 0};
  ll_stat_t shrank = {&tb_c12, 10485760, 10485760, 1, -20971520, -2};
  (void)state;
  expect_stat(&grew, 1, "file.c:12: size=124 B (+24 B), count=3 (+1), average=41 B");
  expect_stat(&gone, 1, "file.c:12: size=0 B (-124 B), count=0 (-3)");
  expect_stat(&same, 1, "file.c:12: size=124 B (+0 B), count=3 (+0), average=41 B");
  expect_stat(&shrank, 1,
              "file.c:12: size=10.0 MiB (-20.0 MiB), count=1 (-2), average=10.0 MiB");
}

static void test_stat_no_average_at_count_zero(void **state) {
  ll_stat_t st = {&tb_c12, 0, 0, 0, 0, 0};
  (void)state;
  expect_stat(&st, 0, "file.c:12: size=0 B, count=0");
}

static void test_stat_filename_and_big(void **state) {
  ll_frame_t f = {"src/big.c", "", 0, 0};
  ll_traceback_t tb = {1, 1, &f};
  ll_stat_t st = {&tb, 3 * 10485760ull, 3 * 10485760ull, 2, 0, 0};
  (void)state;
  expect_stat(&st, 0, "src/big.c:0: size=30.0 MiB, count=2, average=15.0 MiB");
}

static void test_stat_traceback_key_is_first_frame(void **state) {
  ll_frame_t frames[] = {{"inner.c", "leaf", 7, 0}, {"outer.c", "main", 40, 0}};
  ll_traceback_t tb = {2, 5, frames};
  ll_stat_t st = {&tb, 85, 96, 2, 0, 0};
  (void)state;
  expect_stat(&st, 0, "inner.c:7: size=85 B, count=2, average=42 B");
}

/* A line-less frame with a function (a library without debug information, or MODULE+0xOFFSET
 * in a stripped one) shows it: every such site would otherwise read the same MODULE:0. */
static void test_stat_no_line_shows_function(void **state) {
  ll_frame_t lib = {"/lib/libgmp.so.10", "__gmpz_mul_ui", 0, 0x7f0012345678};
  ll_frame_t bare = {"/usr/bin/sqlite3", "sqlite3+0x200c4", 0, 0x5608986450c4};
  ll_frame_t anon = {"/usr/bin/sqlite3", "", 0, 0x5608986450c4};
  ll_traceback_t tl = {1, 1, &lib}, tb = {1, 1, &bare}, ta = {1, 1, &anon};
  ll_stat_t sl = {&tl, 100, 112, 1, 0, 0}, sb = {&tb, 4096, 4096, 1, 4096, 1};
  ll_stat_t sa = {&ta, 100, 112, 1, 0, 0};
  (void)state;
  expect_stat(&sl, 0, "/lib/libgmp.so.10:0 (__gmpz_mul_ui): size=100 B, count=1, average=100 B");
  expect_stat(&sb, 1,
              "/usr/bin/sqlite3:0 (sqlite3+0x200c4): size=4096 B (+4096 B), count=1 (+1), "
              "average=4096 B");
  expect_stat(&sa, 0, "/usr/bin/sqlite3:0: size=100 B, count=1, average=100 B");
}

static void test_stat_malformed_key(void **state) {
  ll_traceback_t empty = {0, 0, NULL};
  ll_stat_t st = {&empty, 1, 8, 1, 0, 0};
  ll_stat_t nokey = {NULL, 1, 8, 1, 0, 0};
  (void)state;
  expect_stat(&st, 0, "<unknown>:0: size=1 B, count=1, average=1 B");
  expect_stat(&nokey, 0, "<unknown>:0: size=1 B, count=1, average=1 B");
}

static void test_stat_truncates_like_snprintf(void **state) {
  ll_stat_t st = {&tb_c12, 124, 144, 3, 0, 0};
  char buf[10];
  (void)state;
  assert_int_equal(ll_format_stat(buf, sizeof buf, &st, 0),
                   (int)strlen("file.c:12: size=124 B, count=3, average=41 B"));
  assert_string_equal(buf, "file.c:12");
}

static void test_format_parse(void **state) {
  (void)state;
  assert_int_equal(ll_format_parse("text"), LL_FORMAT_TEXT);
  assert_int_equal(ll_format_parse("json"), LL_FORMAT_JSON);
  assert_int_equal(ll_format_parse("massif"), LL_FORMAT_MASSIF);
  assert_int_equal(ll_format_parse("folded"), LL_FORMAT_FOLDED);
  assert_int_equal(ll_format_parse("pprof"), LL_FORMAT_PPROF);
  assert_int_equal(ll_format_parse("JSON"), -1);
  assert_int_equal(ll_format_parse("jsonx"), -1);
  assert_int_equal(ll_format_parse(""), -1);
  assert_int_equal(ll_format_parse(NULL), -1);
}

/* ---- integers (the CLI) ------------------------------------------------------------------ */

static void test_parse_uint(void **state) {
  uint64_t v = 7;
  (void)state;
  assert_int_equal(ll__parse_uint("10", 0, 100, &v), 0);
  assert_true(v == 10);
  assert_int_equal(ll__parse_uint("0", 0, 100, &v), 0);
  assert_true(v == 0);
  assert_int_equal(ll__parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
  assert_true(v == UINT64_MAX);
  v = 7;
  assert_int_equal(ll__parse_uint("101", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint("0", 1, 100, &v), -1);
  assert_int_equal(ll__parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -1);
  assert_int_equal(ll__parse_uint("", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint("-1", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint(" 1", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint("1 ", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint("1x", 0, 100, &v), -1);
  assert_int_equal(ll__parse_uint("+1", 0, 100, &v), -1);
  assert_true(v == 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_size_bytes),
      cmocka_unit_test(test_size_unit_thresholds),
      cmocka_unit_test(test_size_rounding),
      cmocka_unit_test(test_size_signed),
      cmocka_unit_test(test_size_snprintf_semantics),
      cmocka_unit_test(test_stat_tracemalloc_example),
      cmocka_unit_test(test_stat_diff),
      cmocka_unit_test(test_stat_no_average_at_count_zero),
      cmocka_unit_test(test_stat_filename_and_big),
      cmocka_unit_test(test_stat_traceback_key_is_first_frame),
      cmocka_unit_test(test_stat_no_line_shows_function),
      cmocka_unit_test(test_stat_malformed_key),
      cmocka_unit_test(test_stat_truncates_like_snprintf),
      cmocka_unit_test(test_format_parse),
      cmocka_unit_test(test_parse_uint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
