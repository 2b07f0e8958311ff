/* test_engine_share.c - ll__tracker_share: a process forked afterwards records into the very tracker its parent then reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "engine.h"

static const ll_site_t A = {"share.c", "a", 10};
static const ll_site_t B = {"share.c", "b", 20};
#define BASE ((uintptr_t)0x10000000)

static uint64_t size_at_line(const ll_snapshot_t *s, uint32_t line, uint64_t *count) {
  uint64_t size = 0;
  *count = 0;
  for (size_t i = 0; i < s->ntraces; i++)
    if (s->traces[i].traceback->frames[0].lineno == line) {
      size += s->traces[i].size;
      *count += s->traces[i].count;
    }
  return size;
}

/* What a helper process does: apply events. Many blocks, so that the live table and the
 * intern tables grow (new mappings carved from the shared region after the fork). */
static void child_records(void) {
  for (uintptr_t i = 0; i < 100000; i++) ll_track_alloc((void *)(BASE + i * 16), 16, 16, &A, 1);
  for (uintptr_t i = 0; i < 100000; i += 2) ll_track_free((void *)(BASE + i * 16));
  ll_realloc_token_t tok;
  ll_track_realloc_begin((void *)(BASE + 16), &tok); /* an odd one: still live */
  ll_track_realloc_end(&tok, (void *)(uintptr_t)0x20000000, 5000, 5008, &B, 1);
  _exit(0);
}

static void test_child_records_parent_reads(void **state) {
  (void)state;
  assert_int_equal(ll__tracker_share((size_t)1 << 30), 0);
  assert_int_equal(ll_start(1), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) child_records();
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  /* Everything the child did is the parent's now. */
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(peak, 100000 * 16);
  assert_int_equal(cur, 49999 * 16 + 5000);
  ll_counters_t c;
  ll_get_counters(&c);
  assert_int_equal(c.total_allocations, 100001);
  assert_true(ll_get_tracker_memory() > 100000 * 8);

  ll_snapshot_t *s;
  uint64_t n;
  assert_int_equal(ll_take_snapshot(&s), 0);
  assert_int_equal(size_at_line(s, 10, &n), 49999 * 16);
  assert_int_equal(n, 49999);
  assert_int_equal(size_at_line(s, 20, &n), 5000);
  assert_int_equal(n, 1);
  ll__arena_free(s->ll__arena);
  assert_int_equal(ll_take_peak_snapshot(&s), 0);
  assert_int_equal(size_at_line(s, 10, &n), 100000 * 16);
  ll__arena_free(s->ll__arena);

  /* And the parent goes on recording into it (growing it further). */
  for (uintptr_t i = 1; i < 100000; i += 2) ll_track_free((void *)(BASE + i * 16));
  ll_track_free((void *)(uintptr_t)0x20000000);
  for (uintptr_t i = 0; i < 300000; i++) ll_track_alloc((void *)(BASE + i * 32), 8, 8, &B, 1);
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 300000 * 8);
  assert_int_equal(peak, 300000 * 8);
  for (uintptr_t i = 0; i < 300000; i++) ll_track_free((void *)(BASE + i * 32));
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 0);
}

static void test_refused_once_tracing(void **state) {
  (void)state;
  assert_true(ll_is_tracing());
  assert_int_equal(ll__tracker_share((size_t)1 << 30), LL_EINVAL);
  ll_stop();
}

int main(void) {
  /* In this order: sharing is only possible before the tracker starts, once per process. */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_child_records_parent_reads),
      cmocka_unit_test(test_refused_once_tracing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
