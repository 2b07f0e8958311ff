/* test_budget.c - unit tests of memory budgets: SIZE, sizes, a block's own peak and leaks, limit texts, cmocka assertions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/budget.h>
#include <leaklab/cmocka.h>
#include <leaklab/leaklab.h>
/* Last: the allocations of this file are the ones the budgets measure. */
#include <leaklab/hooks.h>

/* ---- allocation sites with known lines (the site and its line number on one source line) --- */

static unsigned line_big, line_small, line_other;
static void *alloc_big(size_t n) { line_big = __LINE__; return malloc(n); }
static void *alloc_small(size_t n) { line_small = __LINE__; return malloc(n); }
static void *alloc_other(size_t n) { line_other = __LINE__; return malloc(n); }

static char *msg_buf(void) {
  static char msg[LL_LIMIT_MSG_SIZE];
  return msg;
}

/* The message text with this file's name and a line filled in. */
static const char *expect_text(const char *fmt, ...) {
  static char want[LL_LIMIT_MSG_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(want, sizeof want, fmt, ap);
  va_end(ap);
  return want;
}

static int teardown(void **state) {
  (void)state;
  ll_budget_abort();
  ll_stop();
  return 0;
}

/* ---- SIZE: the same semantics as the command's --limit-memory --------------------------------- */

static void expect_size(const char *text, uint64_t want) {
  uint64_t got = 12345;
  if (ll_parse_size(text, &got) != 0) fail_msg("SIZE '%s' rejected", text);
  if (got != want)
    fail_msg("SIZE '%s' = %llu, want %llu", text, (unsigned long long)got,
             (unsigned long long)want);
}

static void expect_bad_size(const char *text) {
  uint64_t got = 12345;
  if (ll_parse_size(text, &got) != LL_EINVAL)
    fail_msg("SIZE '%s' accepted as %llu", text, (unsigned long long)got);
  assert_true(got == 12345);
}

static void test_parse_size_good(void **state) {
  (void)state;
  expect_size("70MB", 70ull << 20);
  expect_size("70 MiB", 70ull << 20);
  expect_size("70mb", 70ull << 20);
  expect_size("24 MiB", 24ull << 20);
  expect_size("1.5GB", 1610612736ull);
  expect_size("512KB", 524288);
  expect_size("512 kib", 524288);
  expect_size("100B", 100);
  expect_size("100", 100);
  expect_size("0", 0);
  expect_size("0B", 0);
  expect_size("200 MB", 200ull << 20);
  expect_size("2TiB", 2ull << 40);
  expect_size("0.5KB", 512);
  expect_size("1.3KB", 1331); /* 1331.2: the fraction of a byte is dropped */
  expect_size("0.1B", 0);
  expect_size("1.9999999999999999999999999B", 1); /* exact, no float rounding up */
  expect_size("0.0009765625KiB", 1);                /* 2^-10 KiB is exactly 1 B */
  expect_size("18446744073709551615", UINT64_MAX);
  expect_size("16777215TiB", UINT64_MAX - ((1ull << 40) - 1));
  /* A hair under 2^64: the fraction floors to 2^40 - 1, so exactly the largest value. */
  expect_size("16777215.99999999999999999999999999999TiB", UINT64_MAX);
  expect_size("16777215.5TiB", UINT64_MAX - ((1ull << 40) - 1) + (1ull << 39));
}

static void test_parse_size_bad(void **state) {
  (void)state;
  expect_bad_size("");
  expect_bad_size(NULL);
  expect_bad_size("MB");
  expect_bad_size("-1MB");
  expect_bad_size("+1MB");
  expect_bad_size(" 70MB");
  expect_bad_size("70MB ");
  expect_bad_size("70MBs");
  expect_bad_size("70 M B");
  expect_bad_size("70XB");
  expect_bad_size("70M"); /* the units are spelled out, as pytest-memray's */
  expect_bad_size("1.MB");
  expect_bad_size(".5MB");
  expect_bad_size("1.5.3MB");
  expect_bad_size("1,5GB");
  expect_bad_size("1e3");
  expect_bad_size("0x10");
  expect_bad_size("nan");
  expect_bad_size("inf");
  expect_bad_size("18446744073709551616");   /* 2^64 */
  expect_bad_size("16777216TiB");            /* 2^64 */
  expect_bad_size("99999999999999999999999GB");
}

static void expect_memray(double bytes, const char *want) {
  char buf[64];
  ll_format_memray_size(buf, sizeof buf, bytes);
  assert_string_equal(buf, want);
}

static void test_memray_size(void **state) {
  (void)state;
  expect_memray(0, "0.0B");
  expect_memray(100, "100.0B");
  expect_memray(1023, "1023.0B");
  expect_memray(1024, "1.0KiB");
  expect_memray(70.0 * 1024 * 1024, "70.0MiB");
  expect_memray(200.0 * 1024 * 1024, "200.0MiB");
  expect_memray(776166604, "740.2MiB"); /* pytest-memray's README example */
  expect_memray(1536.0 * 1024 * 1024, "1.5GiB");
  expect_memray(18446744073709551615.0, "16.0EiB");
}

/* ---- budgets ------------------------------------------------------------------------------- */

static void test_block_peak_exact(void **state) {
  (void)state;
  ll_budget_t b;
  char *msg = msg_buf();

  assert_int_equal(ll_is_tracing(), 0);
  assert_int_equal(ll_budget_begin(&b), 0);
  assert_int_equal(ll_is_tracing(), 1);
  void *p = alloc_big(3000);
  void *q = alloc_small(1000);
  free(p);
  void *r = alloc_other(500);
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(ll_is_tracing(), 0); /* begin started it, end stopped it */
  assert_int_equal(b.begin_bytes, 0);
  assert_int_equal(b.peak_bytes, 4000);
  assert_int_equal(b.end_bytes, 1500);

  /* Strictly below: 4001 passes, 4000 fails. */
  assert_int_equal(ll_budget_limit_memory(&b, 4001, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_OK);
  assert_string_equal(msg, "peak 3.9KiB (4000 B) is below the limit 3.9KiB\n");
  assert_int_equal(ll_budget_limit_memory(&b, 4000, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_string_equal(msg, expect_text("Test was limited to 3.9KiB but allocated 3.9KiB\n"
                                       "List of allocations:\n"
                                       "    - 3000 B allocated here:\n"
                                       "        alloc_big at %s:%u\n"
                                       "    - 1000 B allocated here:\n"
                                       "        alloc_small at %s:%u\n",
                                       __FILE__, line_big, __FILE__, line_small));
  ll_budget_free(&b);
  free(q);
  free(r);
}

/* What was live before the block is neither in its peak nor in its lines. */
static void test_block_excludes_earlier_memory(void **state) {
  (void)state;
  ll_budget_t b;
  char *msg = msg_buf();

  assert_int_equal(ll_start(1), 0);
  void *before = alloc_big(100000);
  assert_int_equal(ll_budget_begin(&b), 0);
  assert_int_equal(b.begin_bytes, 100000);
  void *p = alloc_small(2048);
  void *q = alloc_big(4096); /* a line that already held memory: only its growth counts */
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(ll_is_tracing(), 1); /* tracing was on before: it stays on */
  assert_int_equal(b.peak_bytes, 6144);
  assert_int_equal(ll_budget_limit_memory(&b, 1024, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_string_equal(msg, expect_text("Test was limited to 1.0KiB but allocated 6.0KiB\n"
                                       "List of allocations:\n"
                                       "    - 4096 B allocated here:\n"
                                       "        alloc_big at %s:%u\n"
                                       "    - 2048 B allocated here:\n"
                                       "        alloc_small at %s:%u\n",
                                       __FILE__, line_big, __FILE__, line_small));
  ll_budget_free(&b);
  free(before);
  free(p);
  free(q);
  ll_stop();
}

/* pytest-memray cannot reset the peak within a process; each block here measures its own. */
static void test_peak_resets_between_blocks(void **state) {
  (void)state;
  ll_budget_t b;

  assert_int_equal(ll_start(1), 0);
  assert_int_equal(ll_budget_begin(&b), 0);
  free(alloc_big(1 << 20));
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(b.peak_bytes, 1 << 20);
  ll_budget_free(&b);

  assert_int_equal(ll_budget_begin(&b), 0);
  free(alloc_small(10));
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(b.peak_bytes, 10);
  ll_budget_free(&b);
  ll_stop();
}

/* The same work gives the same figure every time: a limit can be exact. */
static void test_peak_repeats_exactly(void **state) {
  (void)state;
  uint64_t peaks[3];
  for (int run = 0; run < 3; run++) {
    ll_budget_t b;
    assert_int_equal(ll_budget_begin(&b), 0);
    char *rows[64];
    for (int i = 0; i < 64; i++) rows[i] = alloc_small((size_t)(i * 37 + 1));
    for (int i = 0; i < 64; i += 2) free(rows[i]);
    void *big = alloc_big(77777);
    free(big);
    for (int i = 1; i < 64; i += 2) free(rows[i]);
    assert_int_equal(ll_budget_end(&b), 0);
    peaks[run] = b.peak_bytes;
    ll_budget_free(&b);
  }
  /* 64 rows of 37i+1 bytes = 74656 B; the even rows freed leave 37920 B, then 77777 B more. */
  assert_int_equal(peaks[0], 37920 + 77777);
  assert_int_equal(peaks[1], peaks[0]);
  assert_int_equal(peaks[2], peaks[0]);
}

static void test_leaks_per_line(void **state) {
  (void)state;
  ll_budget_t b;
  char *msg = msg_buf();
  void *keep[4];

  assert_int_equal(ll_budget_begin(&b), 0);
  keep[0] = alloc_big(3072);
  keep[1] = alloc_big(1024);
  keep[2] = alloc_small(100);
  keep[3] = alloc_other(1023);
  free(alloc_other(50000)); /* temporary: not a leak */
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(b.end_bytes - b.begin_bytes, 3072 + 1024 + 100 + 1023);

  assert_int_equal(ll_budget_limit_leaks(&b, 4097, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_OK);
  assert_string_equal(msg, "no line leaked 4.0KiB or more (largest: 4.0KiB)\n");
  /* 1023 B at one line is below 1 KiB; 4 KiB at another is not. */
  assert_int_equal(ll_budget_limit_leaks(&b, 1024, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_string_equal(msg, expect_text("Test was limited to leaking 1.0KiB per line but leaked "
                                       "4.0KiB at 1 line\n"
                                       "List of leaks:\n"
                                       "    - 4096 B leaked here:\n"
                                       "        alloc_big at %s:%u\n",
                                       __FILE__, line_big));
  assert_int_equal(ll_budget_limit_leaks(&b, 100, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_non_null(strstr(msg, "but leaked 5.1KiB at 3 lines\n"));
  ll_budget_free(&b);
  for (int i = 0; i < 4; i++) free(keep[i]);
}

/* Twelve lines: the message shows ten and counts the rest. */
#define ALLOC_LINE(i) ptrs[i] = malloc(1000 + (size_t)(i))
static void test_top_ten_and_more(void **state) {
  (void)state;
  ll_budget_t b;
  char *msg = msg_buf();
  void *ptrs[12];

  assert_int_equal(ll_budget_begin(&b), 0);
  ALLOC_LINE(0);
  ALLOC_LINE(1);
  ALLOC_LINE(2);
  ALLOC_LINE(3);
  ALLOC_LINE(4);
  ALLOC_LINE(5);
  ALLOC_LINE(6);
  ALLOC_LINE(7);
  ALLOC_LINE(8);
  ALLOC_LINE(9);
  ALLOC_LINE(10);
  ALLOC_LINE(11);
  assert_int_equal(ll_budget_end(&b), 0);
  assert_int_equal(b.peak_bytes, 12 * 1000 + 66);
  assert_int_equal(ll_budget_limit_memory(&b, 10000, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  size_t nlines = 0;
  for (const char *p = strstr(msg, "allocated here:"); p != NULL; p = strstr(p + 1, "allocated here:"))
    nlines++;
  assert_int_equal(nlines, 10);
  assert_non_null(strstr(msg, "    - 1011 B allocated here:\n")); /* largest first */
  assert_null(strstr(msg, "    - 1000 B allocated here:\n"));
  assert_non_null(strstr(msg, "\n...and 2 more\n"));
  assert_int_equal(msg[strlen(msg) - 1], '\n');

  /* A small buffer is cut at a line end and says so. */
  char small[200];
  assert_int_equal(ll_budget_limit_memory(&b, 10000, small, sizeof small), LL_LIMIT_EXCEEDED);
  assert_true(strlen(small) < sizeof small);
  size_t n = strlen(small), note = strlen("[message truncated]\n");
  assert_true(n > note);
  assert_string_equal(small + n - note, "[message truncated]\n");
  assert_int_equal(strncmp(small, msg, n - note), 0);
  ll_budget_free(&b);
  for (int i = 0; i < 12; i++) free(ptrs[i]);
}

static void test_block_errors(void **state) {
  (void)state;
  ll_budget_t a, b;
  char *msg = msg_buf();

  assert_int_equal(ll_budget_end(&a), LL_EINVAL); /* never begun */
  assert_int_equal(ll_budget_is_open(), 0);
  assert_int_equal(ll_budget_begin(&a), 0);
  assert_int_equal(ll_budget_is_open(), 1);
  assert_int_equal(ll_budget_begin(&b), LL_EINVAL); /* blocks do not nest */
  assert_int_equal(ll_budget_end(&b), LL_EINVAL);   /* not b's block */
  assert_int_equal(ll_budget_end(&a), 0);
  assert_int_equal(ll_budget_is_open(), 0);
  ll_budget_free(&a);
  assert_int_equal(ll_budget_limit_memory(&a, 1, msg, LL_LIMIT_MSG_SIZE), LL_EINVAL);

  /* Tracing stopped under the block: nothing to say, and the block is closed. */
  assert_int_equal(ll_budget_begin(&a), 0);
  ll_stop();
  assert_int_equal(ll_budget_end(&a), LL_ENOTRACING);
  assert_int_equal(ll_budget_is_open(), 0);

  /* Abort drops an open block and the tracing it started. */
  assert_int_equal(ll_budget_begin(&a), 0);
  ll_budget_abort();
  assert_int_equal(ll_budget_is_open(), 0);
  assert_int_equal(ll_is_tracing(), 0);
  ll_budget_free(&a);
}

/* The snapshot-level check `leaklab check` uses: no base, deep stacks cut at LL_LIMIT_FRAMES, and
 * each line shown with its largest stack. Blocks are recorded by hand (fake addresses). */
static void test_limit_on_snapshot_stacks(void **state) {
  (void)state;
  static const ll_site_t deep[7] = {{"a.c", "f0", 10}, {"a.c", "f1", 11}, {"a.c", "f2", 12},
                                    {"a.c", "f3", 13}, {"a.c", "f4", 14}, {"a.c", "f5", 15},
                                    {"a.c", "main", 16}};
  static const ll_site_t other[2] = {{"a.c", "f0", 10}, {"b.c", "g", 20}};
  static const ll_site_t anon = {"libx.so", "", 0};
  ll_snapshot_t *snap = NULL;
  char *msg = msg_buf();

  assert_int_equal(ll_start(16), 0);
  ll_track_alloc((void *)0x1000, 300, 300, deep, 7);
  ll_track_alloc((void *)0x2000, 500, 500, other, 2); /* same line a.c:10, larger stack */
  ll_track_alloc((void *)0x3000, 50, 50, &anon, 1);
  assert_int_equal(ll_take_snapshot(&snap), 0);
  assert_int_equal(ll_limit_memory(800, 850, snap, NULL, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_string_equal(msg, "Test was limited to 800.0B but allocated 850.0B\n"
                           "List of allocations:\n"
                           "    - 800 B allocated here:\n"
                           "        f0 at a.c:10\n"
                           "        g at b.c:20\n"
                           "    - 50 B allocated here:\n"
                           "        0x0 in libx.so\n");
  ll_track_free((void *)0x2000);
  ll_snapshot_free(snap);
  assert_int_equal(ll_take_snapshot(&snap), 0);
  uint64_t largest = 0;
  assert_int_equal(ll_limit_leaks(100, snap, NULL, &largest, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_EXCEEDED);
  assert_int_equal(largest, 300);
  assert_string_equal(msg, "Test was limited to leaking 100.0B per line but leaked 300.0B at 1 line\n"
                           "List of leaks:\n"
                           "    - 300 B leaked here:\n"
                           "        f0 at a.c:10\n"
                           "        f1 at a.c:11\n"
                           "        f2 at a.c:12\n"
                           "        f3 at a.c:13\n"
                           "        f4 at a.c:14\n"
                           "        ...\n");
  assert_int_equal(ll_limit_leaks(301, snap, NULL, NULL, msg, LL_LIMIT_MSG_SIZE), LL_LIMIT_OK);
  assert_string_equal(msg, "no line leaked 301.0B or more (largest: 300.0B)\n");
  assert_int_equal(ll_limit_memory(1, 0, NULL, NULL, msg, LL_LIMIT_MSG_SIZE), LL_EINVAL);
  ll_snapshot_free(snap);
  ll_stop();
}

/* ---- cmocka assertions that pass ------------------------------------------------------------ */

static void test_cmocka_assertions_pass(void **state) {
  (void)state;
  void *p = NULL;
  LL_ASSERT_PEAK_BELOW(4097, p = alloc_big(4096), free(p));
  LL_ASSERT_LEAKS_BELOW(1024, p = alloc_small(1023));
  free(p);

  ll_cmocka_limit_memory_begin("24 MiB");
  for (int i = 0; i < 10; i++) free(alloc_big(2u << 20));
  ll_cmocka_limit_memory_end();

  ll_cmocka_limit_leaks_begin("1 KB");
  free(alloc_other(1 << 20));
  ll_cmocka_limit_leaks_end();
  assert_int_equal(ll_is_tracing(), 0);
}

/* ---- cmocka assertions that must fail (run with --failing; tests/e2e/budget_cmocka.sh) ------ */

/* What the failing tests keep: reachable, so LeakSanitizer (sanitize preset) stays quiet. */
static void *kept[3];

static void test_fail_peak(void **state) {
  (void)state;
  LL_ASSERT_PEAK_BELOW(1024, kept[0] = alloc_big(4096));
}

static void test_fail_leaks(void **state) {
  (void)state;
  ll_cmocka_limit_leaks_begin("1 KB");
  kept[1] = alloc_small(2048); /* the leak the budget is there to catch */
  ll_cmocka_limit_leaks_end();
}

static void test_fail_bad_size(void **state) {
  (void)state;
  ll_cmocka_limit_memory_begin("24 MB of RAM");
  ll_cmocka_limit_memory_end();
}

/* A test that failed inside its block must not break the next one. */
static void test_fail_inside_block(void **state) {
  (void)state;
  ll_cmocka_limit_memory_begin("1 MiB");
  kept[2] = alloc_other(100);
  assert_null(kept[2]); /* fails: longjmp out with the block open */
}

static void test_after_abandoned_block(void **state) {
  (void)state;
  LL_ASSERT_PEAK_BELOW(1 << 20, free(alloc_other(1000)));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--failing") == 0) {
    const struct CMUnitTest failing[] = {
        cmocka_unit_test_teardown(test_fail_peak, teardown),
        cmocka_unit_test_teardown(test_fail_leaks, teardown),
        cmocka_unit_test_teardown(test_fail_bad_size, teardown),
        cmocka_unit_test(test_fail_inside_block),
        cmocka_unit_test_teardown(test_after_abandoned_block, teardown),
    };
    return cmocka_run_group_tests_name("budget assertions that must fail", failing, NULL, NULL);
  }
  if (argc > 1) {
    fprintf(stderr, "usage: %s [--failing]\n", argv[0]);
    return 2;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_parse_size_good, teardown),
      cmocka_unit_test_teardown(test_parse_size_bad, teardown),
      cmocka_unit_test_teardown(test_memray_size, teardown),
      cmocka_unit_test_teardown(test_block_peak_exact, teardown),
      cmocka_unit_test_teardown(test_block_excludes_earlier_memory, teardown),
      cmocka_unit_test_teardown(test_peak_resets_between_blocks, teardown),
      cmocka_unit_test_teardown(test_peak_repeats_exactly, teardown),
      cmocka_unit_test_teardown(test_leaks_per_line, teardown),
      cmocka_unit_test_teardown(test_top_ten_and_more, teardown),
      cmocka_unit_test_teardown(test_block_errors, teardown),
      cmocka_unit_test_teardown(test_limit_on_snapshot_stacks, teardown),
      cmocka_unit_test_teardown(test_cmocka_assertions_pass, teardown),
  };
  return cmocka_run_group_tests_name("budgets", tests, NULL, NULL);
}
