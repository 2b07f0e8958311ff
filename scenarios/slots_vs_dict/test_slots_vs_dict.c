/* test_slots_vs_dict.c - sums per variant, and the computed layout against a tally of mallocs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "slots_vs_dict.h"

/* The link wraps malloc, calloc, realloc and free for the lesson's own objects only
 * (-Wl,--wrap=...): while `tallying`, every block they hand out or take back is recorded here. */

#define MAX_BLOCKS 64

static bool tallying;
static struct {
  size_t calls;      /* allocation calls */
  size_t bytes;      /* bytes requested by them */
  size_t live;       /* blocks handed out and not yet freed */
  size_t foreign_frees; /* frees of blocks this tally never saw */
  void *ptr[MAX_BLOCKS];
  size_t size[MAX_BLOCKS];
} tally;

static void tally_add(void *p, size_t size)
{
  if (!tallying || !p)
    return;
  tally.calls++;
  tally.bytes += size;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (!tally.ptr[i]) {
      tally.ptr[i] = p;
      tally.size[i] = size;
      tally.live++;
      return;
    }
  }
  fail_msg("more than %d live blocks in one tally", MAX_BLOCKS);
}

static void tally_remove(void *p)
{
  if (!tallying || !p)
    return;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (tally.ptr[i] == p) {
      tally.ptr[i] = NULL;
      tally.live--;
      return;
    }
  }
  tally.foreign_frees++;
}

#include "wrap_tally.h"

static void tally_start(void)
{
  tally.calls = tally.bytes = tally.live = tally.foreign_frees = 0;
  for (size_t i = 0; i < MAX_BLOCKS; i++)
    tally.ptr[i] = NULL;
  tallying = true;
}

/* One object of each variant: its allocation calls and requested bytes are what its layout
 * says, its attributes read back, and freeing it returns every block. */
static void test_layout_matches_allocation_tally(void **state)
{
  (void)state;
  for (int v = 0; v < SV_VARIANT_COUNT; v++) {
    struct sv_layout l;
    sv_layout_of((enum sv_variant)v, &l);

    tally_start();
    void *obj = sv_new_object((enum sv_variant)v, 42, -7);
    tallying = false;
    assert_int_equal(tally.calls, l.allocations);
    assert_int_equal(tally.bytes, l.requested_bytes);
    assert_int_equal(tally.live, l.allocations);

    assert_int_equal(sv_get_a((enum sv_variant)v, obj), 42);
    assert_int_equal(sv_get_b((enum sv_variant)v, obj), -7);

    tallying = true;
    sv_free_object((enum sv_variant)v, obj);
    tallying = false;
    assert_int_equal(tally.live, 0);
    assert_int_equal(tally.foreign_frees, 0);
  }
}

/* The parts add up, and the representations really differ in the way the lesson says. */
static void test_layout_parts(void **state)
{
  (void)state;
  struct sv_layout d, s, p;
  sv_layout_of(SV_DICT, &d);
  sv_layout_of(SV_SLOTS, &s);
  sv_layout_of(SV_STRUCT, &p);
  assert_int_equal(d.requested_bytes, d.header_bytes + d.dict_bytes + 2 * d.box_bytes);
  assert_int_equal(s.requested_bytes, s.header_bytes + 2 * s.box_bytes);
  assert_int_equal(p.requested_bytes, 2 * sizeof(long));
  assert_true(d.dict_bytes > 0 && s.dict_bytes == 0 && p.dict_bytes == 0);
  assert_true(d.requested_bytes > s.requested_bytes);
  assert_true(s.requested_bytes > p.requested_bytes);
}

/* The whole workload: the array plus n objects, everything freed, and the right sum. */
static void test_run_sums_and_frees(void **state)
{
  (void)state;
  static const size_t sizes[] = {1, 2, 7, 1000};
  for (int v = 0; v < SV_VARIANT_COUNT; v++) {
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      size_t n = sizes[k];
      int64_t expected = 0;
      for (size_t i = 0; i < n; i++)
        expected += (int64_t)i + (3 * (int64_t)i + 1);
      if (n <= 7) { /* few enough blocks to follow one by one */
        struct sv_layout l;
        sv_layout_of((enum sv_variant)v, &l);
        tally_start();
        assert_int_equal(sv_run((enum sv_variant)v, n), expected);
        tallying = false;
        assert_int_equal(tally.calls, 1 + n * l.allocations);
        assert_int_equal(tally.bytes, n * sizeof(void *) + n * l.requested_bytes);
        assert_int_equal(tally.live, 0);
        assert_int_equal(tally.foreign_frees, 0);
      } else {
        assert_int_equal(sv_run((enum sv_variant)v, n), expected);
      }
    }
  }
}

/* The program's default size, on the plain struct only (cheap): the closed form holds. */
static void test_default_size_sum(void **state)
{
  (void)state;
  const int64_t n = (int64_t)SV_DEFAULT_OBJECTS;
  assert_int_equal(sv_run(SV_STRUCT, SV_DEFAULT_OBJECTS), 2 * n * (n - 1) + n);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_layout_matches_allocation_tally),
    cmocka_unit_test(test_layout_parts),
    cmocka_unit_test(test_run_sums_and_frees),
    cmocka_unit_test(test_default_size_sum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
