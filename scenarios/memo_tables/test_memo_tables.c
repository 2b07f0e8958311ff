/* test_memo_tables.c - Fibonacci and validator results per variant, call counts, the memo itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "memo_tables.h"

static void test_fib_values(void **state)
{
  (void)state;
  static const uint64_t first[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
  for (int v = 0; v < MT_VARIANT_COUNT; v++) {
    struct mt_fib_report r;
    for (unsigned n = 0; n < sizeof first / sizeof first[0]; n++) {
      mt_fib((enum mt_variant)v, n, &r);
      assert_int_equal(r.value, first[n]);
    }
    mt_fib((enum mt_variant)v, 35, &r);
    assert_int_equal(r.value, 9227465);
  }
  struct mt_fib_report r;
  mt_fib(MT_MEMOIZED, 90, &r);
  assert_int_equal(r.value, UINT64_C(2880067194370816120));
  mt_fib(MT_PRECOMPUTED, 90, &r);
  assert_int_equal(r.value, UINT64_C(2880067194370816120));
}

/* What cProfile's ncalls would show: 2 fib(n+1) - 1 calls naively, 2n - 1 with the memo. */
static void test_fib_work(void **state)
{
  (void)state;
  struct mt_fib_report naive, next, memo, table;
  for (unsigned n = 2; n <= 25; n++) {
    mt_fib(MT_NAIVE, n, &naive);
    mt_fib(MT_PRECOMPUTED, n + 1, &next);
    assert_int_equal(naive.calls, 2 * next.value - 1);
    assert_int_equal(naive.additions, next.value - 1);

    mt_fib(MT_MEMOIZED, n, &memo);
    assert_int_equal(memo.calls, 2 * n - 1);
    assert_int_equal(memo.additions, n - 1);
    assert_int_equal(memo.memo.entries, n + 1); /* fib(0) .. fib(n), each once */
    assert_int_equal(memo.memo.misses, n + 1);
    assert_int_equal(memo.memo.hits, n - 2);

    mt_fib(MT_PRECOMPUTED, n, &table);
    assert_int_equal(table.additions, n - 1);
    assert_int_equal(table.table_bytes, (n + 1) * sizeof(uint64_t));
  }
}

static void test_memo_get_put_and_growth(void **state)
{
  (void)state;
  mt_memo *m = mt_memo_new(0);
  uint64_t value = 0;
  assert_false(mt_memo_get(m, 7, &value));
  for (uint64_t k = 0; k < 5000; k++)
    mt_memo_put(m, k * 65536 + 3, k * k);
  for (uint64_t k = 0; k < 5000; k++) {
    assert_true(mt_memo_get(m, k * 65536 + 3, &value));
    assert_int_equal(value, k * k);
  }
  assert_false(mt_memo_get(m, 4, &value));
  struct mt_memo_stats s;
  mt_memo_stats(m, &s);
  assert_int_equal(s.entries, 5000);
  assert_int_equal(s.hits, 5000);
  assert_int_equal(s.misses, 2);
  assert_int_equal(s.evictions, 0);
  assert_true(s.buckets >= s.entries && s.buckets < 2 * s.entries); /* load factor at most 1 */
  assert_int_equal(s.bucket_bytes, s.buckets * sizeof(void *));
  assert_true(s.entry_bytes >= 2 * sizeof(uint64_t) + 3 * sizeof(void *));
  mt_memo_free(m);
}

/* A bounded memo drops the least recently used entry, and a hit makes an entry recent. */
static void test_memo_lru_eviction(void **state)
{
  (void)state;
  mt_memo *m = mt_memo_new(3);
  uint64_t value;
  mt_memo_put(m, 1, 10);
  mt_memo_put(m, 2, 20);
  mt_memo_put(m, 3, 30);
  assert_true(mt_memo_get(m, 1, &value)); /* 2 is now the oldest */
  mt_memo_put(m, 4, 40);
  assert_false(mt_memo_get(m, 2, &value));
  assert_true(mt_memo_get(m, 1, &value));
  assert_int_equal(value, 10);
  assert_true(mt_memo_get(m, 3, &value));
  assert_true(mt_memo_get(m, 4, &value));
  mt_memo_put(m, 5, 50); /* evicts 1: 3, 4 were used after it */
  assert_false(mt_memo_get(m, 1, &value));
  struct mt_memo_stats s;
  mt_memo_stats(m, &s);
  assert_int_equal(s.entries, 3);
  assert_int_equal(s.evictions, 2);
  mt_memo_free(m);
}

static void test_rule_check_range(void **state)
{
  (void)state;
  struct mt_rule rules[MT_RULES];
  mt_make_rules(rules);
  for (unsigned r = 0; r < MT_RULES; r++) {
    assert_true(rules[r].lo < rules[r].hi && rules[r].hi < MT_VALUES);
    assert_true(rules[r].divisor >= 3);
    if (rules[r].lo > 0)
      assert_false(mt_rule_check(&rules[r], rules[r].lo - 1));
    if (rules[r].hi + 1 < MT_VALUES)
      assert_false(mt_rule_check(&rules[r], rules[r].hi + 1));
    /* Inside the range, some values pass and some fail on their digest. */
    unsigned passed = 0;
    for (uint32_t x = rules[r].lo; x <= rules[r].hi; x++)
      passed += (unsigned)mt_rule_check(&rules[r], x);
    assert_true(passed > 0 && passed < rules[r].hi - rules[r].lo + 1);
  }
}

/* The same verdicts whatever the variant, and the work each one did: the naive one evaluates
 * every event, the memo each distinct key once, the table every possible key once. */
static void test_validator_variants_agree(void **state)
{
  (void)state;
  const uint64_t events = 200000;
  struct mt_validation naive, memo, bounded, table;
  mt_validate(MT_NAIVE, events, 0, NULL, &naive);
  mt_validate(MT_MEMOIZED, events, 0, NULL, &memo);
  mt_validate(MT_MEMOIZED, events, 1000, NULL, &bounded);
  mt_validate(MT_PRECOMPUTED, events, 0, NULL, &table);

  assert_true(naive.valid > events / 4 && naive.valid < events);
  const struct mt_validation *others[] = {&memo, &bounded, &table};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(others[i]->events, events);
    assert_int_equal(others[i]->valid, naive.valid);
    assert_int_equal(others[i]->checksum, naive.checksum);
  }

  /* Count the distinct (rule, value) keys of the stream independently, with a bitmap. */
  size_t keys = (size_t)MT_RULES * MT_VALUES;
  uint8_t *seen = calloc(keys / 8, 1);
  assert_non_null(seen);
  uint64_t distinct = 0;
  for (uint64_t i = 0; i < events; i++) {
    uint32_t r, x;
    mt_event(i, &r, &x);
    size_t k = (size_t)r * MT_VALUES + x;
    if (!(seen[k / 8] & (1u << (k % 8)))) {
      seen[k / 8] |= (uint8_t)(1u << (k % 8));
      distinct++;
    }
  }
  free(seen);
  assert_true(distinct < events); /* keys repeat: the memo has something to save */

  assert_int_equal(naive.evaluations, events);
  assert_int_equal(memo.evaluations, distinct);
  assert_int_equal(memo.memo.entries, distinct);
  assert_int_equal(memo.memo.misses, distinct);
  assert_int_equal(memo.memo.hits, events - distinct);
  assert_int_equal(table.evaluations, keys);
  assert_int_equal(table.table_bytes, keys);

  /* The bounded memo keeps its size, and pays for it in evictions and re-evaluations. */
  assert_int_equal(bounded.memo.entries, 1000);
  assert_true(bounded.memo.evictions > 0);
  assert_true(bounded.evaluations > distinct);
  assert_int_equal(bounded.memo.hits + bounded.memo.misses, events);
}

/* The stream is fixed: event 0 and the rule set never change between runs or builds. */
static void test_stream_is_deterministic(void **state)
{
  (void)state;
  uint32_t r1, x1, r2, x2;
  mt_event(12345, &r1, &x1);
  mt_event(12345, &r2, &x2);
  assert_int_equal(r1, r2);
  assert_int_equal(x1, x2);
  assert_true(r1 < MT_RULES && x1 < MT_VALUES);
  struct mt_rule a[MT_RULES], b[MT_RULES];
  mt_make_rules(a);
  mt_make_rules(b);
  assert_memory_equal(a, b, sizeof a);
  struct mt_validation v1, v2;
  mt_validate(MT_NAIVE, 1000, 0, NULL, &v1);
  mt_validate(MT_NAIVE, 1000, 0, NULL, &v2);
  assert_int_equal(v1.checksum, v2.checksum);
}

/* A kept memo is handed over with every entry in it (the lesson's --keep-memo); the other
 * variants have none to hand over. */
static void test_validator_keeps_memo(void **state)
{
  (void)state;
  const uint64_t events = 20000;
  struct mt_validation kept, bounded, naive;
  mt_memo *memo = (mt_memo *)&kept, *small = NULL, *none = (mt_memo *)&naive;
  mt_validate(MT_MEMOIZED, events, 0, &memo, &kept);
  mt_validate(MT_MEMOIZED, events, 500, &small, &bounded);
  mt_validate(MT_NAIVE, events, 0, &none, &naive);
  assert_non_null(memo);
  assert_non_null(small);
  assert_null(none);
  struct mt_memo_stats now;
  mt_memo_stats(memo, &now);
  assert_int_equal(now.entries, kept.memo.misses);
  assert_int_equal(now.hits, kept.memo.hits);
  mt_memo_stats(small, &now);
  assert_int_equal(now.entries, 500);
  uint64_t verdict;
  uint32_t r, x;
  mt_event(events - 1, &r, &x);
  assert_int_equal(mt_memo_get(small, (uint64_t)r * MT_VALUES + x, &verdict), 1);
  mt_memo_free(memo);
  mt_memo_free(small);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fib_values),
    cmocka_unit_test(test_fib_work),
    cmocka_unit_test(test_memo_get_put_and_growth),
    cmocka_unit_test(test_memo_lru_eviction),
    cmocka_unit_test(test_rule_check_range),
    cmocka_unit_test(test_validator_variants_agree),
    cmocka_unit_test(test_validator_keeps_memo),
    cmocka_unit_test(test_stream_is_deterministic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
