/* test_state_churn.c - every variant finds the same delay as a brute-force oracle; what each allocates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "state_churn.h"

/* The link wraps the allocator for the lesson's objects only (-Wl,--wrap=...): while
 * `tallying`, allocation calls, frees and the most blocks live at once are counted. */

static bool tallying;
static struct {
  uint64_t calls, frees, live, peak_live;
} tally;

static void tally_add(void *p, size_t size)
{
  (void)size; /* counts blocks, not bytes */
  if (!tallying || !p)
    return;
  tally.calls++;
  if (++tally.live > tally.peak_live)
    tally.peak_live = tally.live;
}

static void tally_remove(void *p)
{
  if (!tallying || !p)
    return;
  tally.frees++;
  tally.live--;
}

#include "wrap_tally.h"

/* ---- an oracle that shares nothing with the lesson's code --------------------------------- */

/* Where a scanner of range r stands at time t, found by walking it there one step at a time. */
static uint32_t walked_position(uint32_t range, uint64_t t)
{
  int pos = 0, dir = 1;
  for (uint64_t i = 0; i < t; i++) {
    if (pos + dir < 0 || pos + dir >= (int)range)
      dir = -dir;
    pos += dir;
  }
  return (uint32_t)pos;
}

/* The same, walking only the part of t after whole round trips (the period is checked against
 * longer walks in test_closed_form_matches_walking), so the lesson's firewall stays cheap. */
static uint32_t position_at(uint32_t range, uint64_t t)
{
  return walked_position(range, t % (2 * ((uint64_t)range - 1)));
}

/* The depth that catches a packet sent at t, or -1 when it gets through. */
static long oracle_catch(const struct sc_layer *layers, size_t count, uint64_t t)
{
  for (size_t i = 0; i < count; i++)
    if (position_at(layers[i].range, t + layers[i].depth) == 0)
      return (long)layers[i].depth;
  return -1;
}

static long oracle_delay(const struct sc_layer *layers, size_t count, uint64_t limit)
{
  for (uint64_t t = 0; t < limit; t++)
    if (oracle_catch(layers, count, t) < 0)
      return (long)t;
  return -1;
}

static void expect_delay(const struct sc_layer *layers, size_t count, uint64_t limit, long want)
{
  sc_firewall *fw = sc_firewall_new(layers, count);
  for (int v = 0; v < SC_VARIANT_COUNT; v++) {
    struct sc_result r;
    sc_find_delay((enum sc_variant)v, fw, limit, &r);
    if (want < 0) {
      assert_false(r.found);
    } else {
      assert_true(r.found);
      assert_int_equal(r.delay, (uint64_t)want);
    }
  }
  sc_firewall_free(fw);
}

/* Small firewalls worked out by hand. */
static void test_small_known_firewalls(void **state)
{
  (void)state;
  /* A range-2 scanner at depth 0 is at the top at every even time. */
  expect_delay((const struct sc_layer[]){{0, 2}}, 1, 100, 1);
  /* t must be even (depth 1, period 2) and not a multiple of 4 (depth 0, period 4). */
  expect_delay((const struct sc_layer[]){{0, 3}, {1, 2}}, 2, 100, 2);
  /* t odd, and t + 3 not a multiple of 4: 1 is caught at depth 3, 3 gets through. */
  expect_delay((const struct sc_layer[]){{0, 2}, {3, 3}}, 2, 100, 3);
  /* t = 2 mod 4 is forced by the first two, and then t + 2 is a multiple of 4: no delay. */
  expect_delay((const struct sc_layer[]){{0, 3}, {1, 2}, {2, 3}}, 3, 1000, -1);
  /* No scanners at all: the first packet gets through. */
  expect_delay(NULL, 0, 10, 0);
}

static void test_closed_form_matches_walking(void **state)
{
  (void)state;
  for (uint32_t range = 2; range < 10; range++) {
    struct sc_layer layer = {0, range};
    for (uint64_t t = 0; t < 100; t++) {
      assert_int_equal(sc_at_top(&layer, t), walked_position(range, t) == 0);
      assert_int_equal(position_at(range, t), walked_position(range, t));
    }
  }
}

/* Firewalls from a fixed-seed generator: every variant agrees with the oracle. */
static void test_variants_match_oracle(void **state)
{
  (void)state;
  uint64_t s = 88172645463325252u;
  for (int trial = 0; trial < 60; trial++) {
    struct sc_layer layers[6];
    size_t count = 1 + trial % 6;
    uint32_t depth = 0;
    for (size_t i = 0; i < count; i++) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      depth += (uint32_t)(s % 3);
      layers[i] = (struct sc_layer){depth, 2 + (uint32_t)((s >> 8) % 6)};
      depth++;
    }
    expect_delay(layers, count, 400, oracle_delay(layers, count, 400));
  }
}

/* The lesson's firewall: the program's answer, and the same one cut short by --scale 0.5. */
static void test_lesson_firewall(void **state)
{
  (void)state;
  sc_firewall *fw = sc_firewall_lesson(SC_DEFAULT_LAYERS);
  assert_int_equal(fw->count, SC_DEFAULT_LAYERS);
  long want = oracle_delay(fw->layers, fw->count, 30000);
  assert_true(want > 10000); /* enough packets to make the copying variant churn */
  expect_delay(fw->layers, fw->count, 1u << 20, want);
  sc_firewall_free(fw);

  fw = sc_firewall_lesson(SC_DEFAULT_LAYERS / 2);
  expect_delay(fw->layers, fw->count, 1u << 20, oracle_delay(fw->layers, fw->count, 1000));
  sc_firewall_free(fw);
}

/* The lesson's point in numbers: the same answer, but copying allocates one block per scanner
 * (and one for the world) per time step simulated, in place allocates two worlds, arithmetic
 * nothing, while the most blocks live at once stays small for all of them. */
static void test_allocations_per_variant(void **state)
{
  (void)state;
  sc_firewall *fw = sc_firewall_lesson(14);
  long delay = oracle_delay(fw->layers, fw->count, 100000);
  assert_true(delay > 0);
  const uint64_t per_world = fw->count + 1;

  /* World copies the copying search makes: the first world, then per delay tried one for the
   * packet, one per step it survives, and (if caught) one to move time on. */
  uint64_t copies = 1;
  for (long t = 0; t <= delay; t++) {
    long caught = oracle_catch(fw->layers, fw->count, (uint64_t)t);
    copies += 1 + (uint64_t)(caught >= 0 ? caught : (long)fw->depths - 1) + (t < delay);
  }

  for (int v = 0; v < SC_VARIANT_COUNT; v++) {
    struct sc_result r;
    memset(&tally, 0, sizeof tally);
    tallying = true;
    sc_find_delay((enum sc_variant)v, fw, 1u << 20, &r);
    tallying = false;
    assert_true(r.found);
    assert_int_equal(r.delay, (uint64_t)delay);
    assert_int_equal(tally.live, 0);
    assert_int_equal(tally.frees, tally.calls);
    switch ((enum sc_variant)v) {
    case SC_COPYING:
      assert_int_equal(tally.calls, copies * per_world);
      assert_int_equal(tally.peak_live, 3 * per_world);
      break;
    case SC_IN_PLACE:
      assert_int_equal(tally.calls, 2 * per_world);
      assert_int_equal(tally.peak_live, 2 * per_world);
      break;
    case SC_ARITHMETIC:
    default:
      assert_int_equal(tally.calls, 0);
      assert_int_equal(r.scanner_moves, 0);
      break;
    }
  }
  sc_firewall_free(fw);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_small_known_firewalls),
    cmocka_unit_test(test_closed_form_matches_walking),
    cmocka_unit_test(test_variants_match_oracle),
    cmocka_unit_test(test_lesson_firewall),
    cmocka_unit_test(test_allocations_per_variant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
