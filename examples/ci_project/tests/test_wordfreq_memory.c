/* test_wordfreq_memory.c - wordfreq's memory budgets in cmocka: a peak limit and a leak limit per test, measured by leaklab. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <leaklab/cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordfreq.h"

/* nwords words drawn in turn from a vocabulary of `distinct` ("w0", "w1", ...). This file is not
 * traced (only the library is), so the text itself is outside every budget. */
static char *make_text(size_t nwords, size_t distinct) {
  char *text = malloc(nwords * 12 + 1), *p = text;
  assert_non_null(text);
  for (size_t i = 0; i < nwords; i++) p += sprintf(p, "w%zu ", i % distinct);
  *p = '\0';
  return text;
}

/* 20,000 words, 500 distinct: the counts must fit in 64 KiB at their peak. */
static void test_counts_fit_in_64k(void **state) {
  (void)state;
  char *text = make_text(20000, 500);
  wf_table_t *t = NULL;

  ll_cmocka_limit_memory_begin("64 KiB");
  t = wf_count(text);
  ll_cmocka_limit_memory_end();

  assert_non_null(t);
  assert_int_equal(wf_get(t, "w7"), 40);
  wf_free(t);
  free(text);
}

/* Counting and freeing leaves nothing behind: no line may keep even one byte. */
static void test_free_releases_everything(void **state) {
  (void)state;
  char *text = make_text(5000, 1000);
  LL_ASSERT_LEAKS_BELOW(1, wf_free(wf_count(text)));
  free(text);
}

/* A budget that is too small on purpose: 20,000 distinct words cannot be counted in 1 MiB. The
 * CTest entry for it passes when the failure message names the limit and the lines. */
static void test_big_vocabulary_over_budget(void **state) {
  (void)state;
  char *text = make_text(20000, 20000);
  wf_table_t *t = NULL;

  ll_cmocka_limit_memory_begin("1 MiB");
  t = wf_count(text);
  wf_free(t);
  free(text);
  ll_cmocka_limit_memory_end();
}

int main(int argc, char **argv) {
  const struct CMUnitTest budgets[] = {
      cmocka_unit_test(test_counts_fit_in_64k),
      cmocka_unit_test(test_free_releases_everything),
  };
  const struct CMUnitTest over_budget[] = {
      cmocka_unit_test(test_big_vocabulary_over_budget),
  };
  if (argc > 1 && strcmp(argv[1], "--over-budget") == 0)
    return cmocka_run_group_tests_name("over budget", over_budget, NULL, NULL);
  return cmocka_run_group_tests_name("memory budgets", budgets, NULL, NULL);
}
