/* test_chunked.c - every variant gives the same sum, known small sums, and each one's heap use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"

/* The link wraps malloc and free for the lesson's own objects only (-Wl,--wrap=...): while
 * `tallying`, calls, live bytes and the highest live bytes are counted here. */

#define MAX_BLOCKS 8

static bool tallying;
static struct {
  size_t calls, live_bytes, peak_bytes;
  void *ptr[MAX_BLOCKS];
  size_t size[MAX_BLOCKS];
} tally;

static void tally_add(void *p, size_t size)
{
  if (!tallying || !p)
    return;
  tally.calls++;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (!tally.ptr[i]) {
      tally.ptr[i] = p;
      tally.size[i] = size;
      tally.live_bytes += size;
      if (tally.live_bytes > tally.peak_bytes)
        tally.peak_bytes = tally.live_bytes;
      return;
    }
  }
  fail_msg("more than %d live blocks", MAX_BLOCKS);
}

static void tally_remove(void *p)
{
  if (!tallying || !p)
    return;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (tally.ptr[i] == p) {
      tally.live_bytes -= tally.size[i];
      tally.ptr[i] = NULL;
      return;
    }
  }
  fail_msg("free of a block the tally never saw");
}

#include "wrap_tally.h"

static double tallied_basel(enum ck_variant v, size_t n, size_t chunk)
{
  memset(&tally, 0, sizeof tally);
  tallying = true;
  double sum = ck_basel(v, n, chunk);
  tallying = false;
  assert_int_equal(tally.live_bytes, 0); /* every temporary array was freed */
  return sum;
}

/* Sums small enough to write out: the order is smallest term first. */
static void test_small_known_sums(void **state)
{
  (void)state;
  for (int v = 0; v < CK_VARIANT_COUNT; v++) {
    for (size_t chunk = 1; chunk <= 4; chunk++) {
      assert_true(ck_basel((enum ck_variant)v, 1, chunk) == 1.0);
      assert_true(ck_basel((enum ck_variant)v, 2, chunk) == 1.25);
      assert_true(ck_basel((enum ck_variant)v, 3, chunk) == (1.0 / 9.0 + 0.25) + 1.0);
      assert_true(ck_basel((enum ck_variant)v, 4, chunk) ==
                  ((1.0 / 16.0 + 1.0 / 9.0) + 0.25) + 1.0);
    }
  }
}

/* Bit-for-bit the same result whatever the variant and the chunk size, including chunks that
 * do not divide n and chunks larger than n. */
static void test_variants_agree_bitwise(void **state)
{
  (void)state;
  static const size_t sizes[] = {5, 4095, 4096, 4097, 3 * 4096 + 17, 100000};
  static const size_t chunks[] = {1, 7, 4096, 1000000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    double ref = ck_basel(CK_STREAMING, sizes[i], 1);
    assert_true(ck_basel(CK_FULL, sizes[i], 1) == ref);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
      assert_true(ck_basel(CK_CHUNKED, sizes[i], chunks[c]) == ref);
  }
}

/* The sum approaches pi^2/6 with a tail of about 1/n - 1/(2 n^2). */
static void test_close_to_pi_squared_over_six(void **state)
{
  (void)state;
  const double pi = 3.14159265358979323846;
  const double n = 100000.0;
  double expected = pi * pi / 6.0 - 1.0 / n + 1.0 / (2.0 * n * n);
  for (int v = 0; v < CK_VARIANT_COUNT; v++)
    assert_true(fabs(ck_basel((enum ck_variant)v, 100000, CK_DEFAULT_CHUNK) - expected) < 1e-13);
}

/* The lesson's claim: O(n), O(chunk) and O(1) heap, exactly what ck_working_bytes says. */
static void test_heap_use_per_variant(void **state)
{
  (void)state;
  const size_t n = 100000, chunk = 256;
  double ref = ck_basel(CK_STREAMING, n, chunk);

  assert_true(tallied_basel(CK_FULL, n, chunk) == ref);
  assert_int_equal(tally.calls, 3);
  assert_int_equal(tally.peak_bytes, 3 * n * sizeof(double));
  assert_int_equal(tally.peak_bytes, ck_working_bytes(CK_FULL, n, chunk));

  assert_true(tallied_basel(CK_CHUNKED, n, chunk) == ref);
  assert_int_equal(tally.calls, 1); /* one buffer for every chunk */
  assert_int_equal(tally.peak_bytes, chunk * sizeof(double));
  assert_int_equal(tally.peak_bytes, ck_working_bytes(CK_CHUNKED, n, chunk));

  /* A chunk larger than the whole problem is cut down to n. */
  assert_true(tallied_basel(CK_CHUNKED, 10, chunk) == ck_basel(CK_STREAMING, 10, 1));
  assert_int_equal(tally.peak_bytes, 10 * sizeof(double));
  assert_int_equal(tally.peak_bytes, ck_working_bytes(CK_CHUNKED, 10, chunk));

  assert_true(tallied_basel(CK_STREAMING, n, chunk) == ref);
  assert_int_equal(tally.calls, 0);
  assert_int_equal(ck_working_bytes(CK_STREAMING, n, chunk), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_small_known_sums),
    cmocka_unit_test(test_variants_agree_bitwise),
    cmocka_unit_test(test_close_to_pi_squared_over_six),
    cmocka_unit_test(test_heap_use_per_variant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
