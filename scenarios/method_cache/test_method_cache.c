/* test_method_cache.c - factorial_plus, the digit sequences and each cache's lifetime rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "method_cache.h"

/* factorial_plus(inc, n) for one instance, computed on a fresh world of the given variant. */
static int factorial_plus_equals(enum mc_variant v, unsigned long inc, unsigned long n,
                                 mpz_srcptr expected)
{
  mc_world *w = mc_world_new(v);
  mc_algorithms *a = mc_algorithms_new(w, inc);
  int cmp = mpz_cmp(mc_factorial_plus(a, n), expected);
  mc_algorithms_release(a);
  mc_world_free(w);
  return cmp;
}

static void test_inc_zero_is_factorial(void **state)
{
  (void)state;
  static const unsigned long values[] = {1, 4, 10};
  mpz_t fact;
  mpz_init(fact);
  for (int v = 0; v < MC_VARIANT_COUNT; v++) {
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      mpz_fac_ui(fact, values[i]);
      assert_int_equal(factorial_plus_equals((enum mc_variant)v, 0, values[i], fact), 0);
    }
  }
  mpz_clear(fact);
}

static void test_inc_five(void **state)
{
  (void)state;
  mpz_t expected;
  mpz_init(expected);
  for (int v = 0; v < MC_VARIANT_COUNT; v++) {
    mpz_set_ui(expected, 56);
    assert_int_equal(factorial_plus_equals((enum mc_variant)v, 5, 3, expected), 0);
    mpz_set_ui(expected, 229);
    assert_int_equal(factorial_plus_equals((enum mc_variant)v, 5, 4, expected), 0);
  }
  mpz_clear(expected);
}

struct digit_log {
  unsigned digits[64];
  size_t count;
};

static void log_digit(void *ctx, unsigned digit)
{
  struct digit_log *log = ctx;
  assert_true(log->count < sizeof log->digits / sizeof log->digits[0]);
  log->digits[log->count++] = digit;
}

static void check_sequence(unsigned long plus_range, unsigned long factorial_range,
                           const unsigned *expected, size_t expected_count)
{
  for (int v = 0; v < MC_VARIANT_COUNT; v++) {
    struct digit_log log = {.count = 0};
    mc_world *w = mc_world_new((enum mc_variant)v);
    mc_generate_last_digits(w, plus_range, factorial_range, log_digit, &log);
    mc_world_free(w);
    assert_int_equal(log.count, expected_count);
    assert_memory_equal(log.digits, expected, expected_count * sizeof expected[0]);
  }
}

static void test_last_digit_sequences(void **state)
{
  (void)state;
  static const unsigned one_by_six[] = {1, 1, 2, 6, 4, 0};
  static const unsigned five_by_one[] = {1, 2, 3, 4, 5};
  static const unsigned three_by_five[] = {1, 1, 2, 6, 4, 2, 2, 5, 6, 5, 3, 3, 8, 6, 6};
  check_sequence(1, 6, one_by_six, 6);
  check_sequence(5, 1, five_by_one, 5);
  check_sequence(3, 5, three_by_five, 15);
}

/* The digit counts computed without any cache: the reference every variant must match. */
static void reference_counts(unsigned long plus_range, unsigned long factorial_range,
                             uint64_t counts[10])
{
  mpz_t x;
  mpz_init(x);
  for (unsigned long inc = 0; inc < plus_range; inc++) {
    for (unsigned long j = 0; j < factorial_range; j++) {
      if (j <= 1) {
        mpz_set_ui(x, 1 + inc);
      } else {
        mpz_mul_ui(x, x, j);
        mpz_add_ui(x, x, inc);
      }
      counts[mpz_fdiv_ui(x, 10)]++;
    }
  }
  mpz_clear(x);
}

/* The program's two runs at a fifth of their size: every variant prints the same counts. */
static void test_variants_agree_at_reduced_scale(void **state)
{
  (void)state;
  const unsigned long ranges[2] = {MC_RUN1_RANGE / 5, MC_RUN2_RANGE / 5};
  uint64_t expected[2][10] = {{0}};
  for (int run = 0; run < 2; run++)
    reference_counts(ranges[run], ranges[run], expected[run]);
  for (int v = 0; v < MC_VARIANT_COUNT; v++) {
    mc_world *w = mc_world_new((enum mc_variant)v);
    for (int run = 0; run < 2; run++) {
      uint64_t counts[10] = {0};
      mc_count_last_digits(w, ranges[run], ranges[run], counts);
      assert_memory_equal(counts, expected[run], sizeof counts);
    }
    mc_world_free(w);
  }
}

/* What each cache holds after a run of p instances of f results each: the lesson in numbers. */
static void test_cache_lifetimes(void **state)
{
  (void)state;
  const unsigned long p = 20, f = 30;
  for (int v = 0; v < MC_VARIANT_COUNT; v++) {
    mc_world *w = mc_world_new((enum mc_variant)v);
    uint64_t counts[10] = {0};
    mc_count_last_digits(w, p, f, counts);
    size_t live = mc_world_live_instances(w), cached = mc_world_cached(w);
    assert_int_equal(mc_world_computed(w), p * f); /* distinct incs: never a hit across instances */
    switch ((enum mc_variant)v) {
    case MC_LEAKY: /* every instance pinned, every result kept */
      assert_int_equal(live, p);
      assert_int_equal(cached, p * f);
      break;
    case MC_PER_INSTANCE:
    case MC_PERIODIC_CLEAR: /* nothing outlives its instance */
      assert_int_equal(live, 0);
      assert_int_equal(cached, 0);
      break;
    case MC_VALUE_KEYED:
    case MC_LRU: /* no instance pinned; results kept (the LRU is not full yet) */
      assert_int_equal(live, 0);
      assert_int_equal(cached, p * f);
      break;
    default:
      fail();
    }
    /* A second, larger run: only the value-keyed caches can reuse the first run's results. */
    mc_count_last_digits(w, 2 * p, 2 * f, counts);
    uint64_t second = mc_world_computed(w) - p * f;
    assert_int_equal(second, v == MC_VALUE_KEYED || v == MC_LRU ? 4 * p * f - p * f : 4 * p * f);
    mc_world_free(w);
  }
}

static void test_lru_is_bounded_and_keeps_recent(void **state)
{
  (void)state;
  const unsigned long f = 1000, p = MC_LRU_CAPACITY / f + 5;
  mc_world *w = mc_world_new(MC_LRU);
  uint64_t counts[10] = {0};
  mc_count_last_digits(w, p, f, counts);
  assert_int_equal(mc_world_cached(w), MC_LRU_CAPACITY);
  assert_int_equal(mc_world_live_instances(w), 0);

  /* The last instance's results are the most recent: asking again computes nothing. */
  uint64_t before = mc_world_computed(w);
  mc_algorithms *a = mc_algorithms_new(w, p - 1);
  mc_factorial_plus(a, f - 1);
  assert_int_equal(mc_world_computed(w), before);
  /* The first instance's were evicted: asking again computes them anew. */
  mc_algorithms *b = mc_algorithms_new(w, 0);
  mc_factorial_plus(b, 3);
  assert_int_equal(mc_world_computed(w), before + 3); /* n = 3, 2, 1 */
  assert_int_equal(mc_world_cached(w), MC_LRU_CAPACITY);
  mc_algorithms_release(a);
  mc_algorithms_release(b);
  mc_world_free(w);
}

/* The leak itself: releasing the caller's reference does not free a pinned instance. */
static void test_leaky_cache_pins_instance(void **state)
{
  (void)state;
  mc_world *w = mc_world_new(MC_LEAKY);
  mc_algorithms *a = mc_algorithms_new(w, 7);
  mc_factorial_plus(a, 5);
  mc_algorithms_release(a);
  assert_int_equal(mc_world_live_instances(w), 1);
  assert_int_equal(mc_world_cached(w), 5);
  mc_world_free(w); /* drops the pins: under the sanitizers nothing may leak */

  w = mc_world_new(MC_PER_INSTANCE);
  a = mc_algorithms_new(w, 7);
  mc_factorial_plus(a, 5);
  mc_algorithms_release(a);
  assert_int_equal(mc_world_live_instances(w), 0);
  mc_world_free(w);
}

static void test_variant_names(void **state)
{
  (void)state;
  static const char *const expected[] = {"leaky", "per_instance", "value_keyed", "lru",
                                         "periodic_clear"};
  for (int v = 0; v < MC_VARIANT_COUNT; v++)
    assert_string_equal(mc_variant_names[v], expected[v]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_inc_zero_is_factorial),
    cmocka_unit_test(test_inc_five),
    cmocka_unit_test(test_last_digit_sequences),
    cmocka_unit_test(test_variants_agree_at_reduced_scale),
    cmocka_unit_test(test_cache_lifetimes),
    cmocka_unit_test(test_lru_is_bounded_and_keeps_recent),
    cmocka_unit_test(test_leaky_cache_pins_instance),
    cmocka_unit_test(test_variant_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
