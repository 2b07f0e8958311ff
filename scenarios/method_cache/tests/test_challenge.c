/* test_challenge.c - the method_cache challenge as a cmocka test (memray's tests/test_exercise_3.py in C): factorial_plus stays right, and the lesson's two runs peak below 70 MiB. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <leaklab/cmocka.h>

#include "method_cache.h"

/* Built with -include leaklab/hooks.h, as method_cache.c is in this test: every malloc, realloc
 * and free below is traced with its line. */

/* The variant under test: argv[1] (default leaky, the one the challenge asks you to fix). */
static enum mc_variant variant = MC_LEAKY;
/* The world of the budget test, freed by its teardown even when the budget fails. */
static mc_world *world;

/* GMP allocates the digits of its numbers inside libgmp, where the hooks header cannot see:
 * route GMP's allocator through these functions, compiled in this file with the hooks. (leaklab
 * run sees them without this: the preload catches every malloc of the process.) */
static void *gmp_alloc(size_t n)
{
  void *p = malloc(n);
  if (!p)
    abort();
  return p;
}

static void *gmp_realloc(void *p, size_t old, size_t n)
{
  (void)old;
  void *q = realloc(p, n);
  if (!q)
    abort();
  return q;
}

static void gmp_free(void *p, size_t n)
{
  (void)n;
  free(p);
}

/* factorial_plus(n) of a fresh instance A(inc) (a fresh world each time, as pytest's fixtures). */
static int factorial_plus_is(unsigned long inc, unsigned long n, unsigned long expected)
{
  mc_world *w = mc_world_new(variant);
  mc_algorithms *a = mc_algorithms_new(w, inc);
  int cmp = mpz_cmp_ui(mc_factorial_plus(a, n), expected);
  mc_algorithms_release(a);
  mc_world_free(w);
  return cmp;
}

/* test_exercise_3.py: with inc 0, factorial_plus(v) is v! for v in 1, 4, 10. */
static void test_factorial_plus_is_factorial(void **state)
{
  (void)state;
  assert_int_equal(factorial_plus_is(0, 1, 1), 0);
  assert_int_equal(factorial_plus_is(0, 4, 24), 0);
  assert_int_equal(factorial_plus_is(0, 10, 3628800), 0);
}

/* test_exercise_3.py: with inc 5, factorial_plus(3) is 56 and factorial_plus(4) is 229. */
static void test_factorial_plus_adds_inc(void **state)
{
  (void)state;
  assert_int_equal(factorial_plus_is(5, 3, 56), 0);
  assert_int_equal(factorial_plus_is(5, 4, 229), 0);
}

struct digits {
  unsigned got[16];
  size_t n;
};

static void collect(void *ctx, unsigned digit)
{
  struct digits *d = ctx;
  if (d->n < sizeof d->got / sizeof d->got[0])
    d->got[d->n] = digit;
  d->n++;
}

static void expect_digits(unsigned long plus, unsigned long fact, const unsigned *want, size_t n)
{
  struct digits d = {{0}, 0};
  mc_world *w = mc_world_new(variant);
  mc_generate_last_digits(w, plus, fact, collect, &d);
  mc_world_free(w);
  assert_int_equal(d.n, n);
  assert_memory_equal(d.got, want, n * sizeof *want);
}

/* test_exercise_3.py: the last digits for (1, 6), (5, 1) and (3, 5). */
static void test_last_digits(void **state)
{
  (void)state;
  static const unsigned one_six[] = {1, 1, 2, 6, 4, 0};
  static const unsigned five_one[] = {1, 2, 3, 4, 5};
  static const unsigned three_five[] = {1, 1, 2, 6, 4, 2, 2, 5, 6, 5, 3, 3, 8, 6, 6};
  expect_digits(1, 6, one_six, 6);
  expect_digits(5, 1, five_one, 5);
  expect_digits(3, 5, three_five, 15);
}

/* The challenge: the program's two runs, (500, 500) then (1000, 1000), on one module-level
 * world as main.c does, peak strictly below 70 MiB (memray's limit_memory, binary units). */
static void test_peak_below_70MiB(void **state)
{
  (void)state;
  uint64_t counts[10] = {0};
  ll_cmocka_limit_memory_begin("70 MiB");
  world = mc_world_new(variant);
  mc_count_last_digits(world, MC_RUN1_RANGE, MC_RUN1_RANGE, counts);
  mc_count_last_digits(world, MC_RUN2_RANGE, MC_RUN2_RANGE, counts);
  ll_cmocka_limit_memory_end();
  /* Every variant counts the same digits: a fix must not change the answer. */
  assert_int_equal(counts[0], 96950 + 388900);
  assert_int_equal(counts[5], 32150 + 129300);
}

static int free_world(void **state)
{
  (void)state;
  if (world)
    mc_world_free(world);
  world = NULL;
  return 0;
}

int main(int argc, char **argv)
{
  if (argc > 2) {
    fprintf(stderr, "usage: %s [VARIANT]\n", argv[0]);
    return 2;
  }
  if (argc == 2) {
    int v = 0;
    while (v < MC_VARIANT_COUNT && strcmp(argv[1], mc_variant_names[v]) != 0)
      v++;
    if (v == MC_VARIANT_COUNT) {
      fprintf(stderr, "%s: unknown variant '%s' (leaky, per_instance, value_keyed, lru, "
                      "periodic_clear)\n", argv[0], argv[1]);
      return 2;
    }
    variant = (enum mc_variant)v;
  }
  mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free);
  printf("method_cache challenge, variant %s\n", mc_variant_names[variant]);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_factorial_plus_is_factorial),
    cmocka_unit_test(test_factorial_plus_adds_inc),
    cmocka_unit_test(test_last_digits),
    cmocka_unit_test_teardown(test_peak_below_70MiB, free_world),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
