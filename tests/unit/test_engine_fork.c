/* test_engine_fork.c - fork while other threads record: the child inherits a usable tracker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "arena.h"

static const ll_site_t SITE = {"fork.c", "busy", 5};
static const ll_site_t CHILD_SITE = {"fork.c", "child", 9};
static atomic_int done;

/* Keeps the tracker's lock busy so that forks land in the middle of recordings. */
static void *busy(void *arg) {
  uintptr_t base = (uintptr_t)arg;
  while (!atomic_load(&done)) {
    for (uintptr_t i = 0; i < 256; i++) ll_track_alloc((void *)(base + i * 16), 16, 16, &SITE, 1);
    for (uintptr_t i = 0; i < 256; i++) ll_track_free((void *)(base + i * 16));
  }
  return NULL;
}

/* In the child: record, query and snapshot; exit status says whether all of it worked. */
static int child_checks(void) {
  size_t before, peak, after;
  ll_get_traced_memory(&before, &peak);
  ll_track_alloc((void *)(uintptr_t)0x7000000, 1000, 1000, &CHILD_SITE, 1);
  ll_get_traced_memory(&after, &peak);
  if (after != before + 1000 || peak < after) return 1;
  ll_snapshot_t *s;
  if (ll_take_snapshot(&s) != 0) return 2;
  uint64_t sum = 0;
  int found = 0;
  for (size_t i = 0; i < s->ntraces; i++) {
    sum += s->traces[i].size;
    found |= s->traces[i].traceback->frames[0].lineno == 9;
  }
  ll__arena_free(s->ll__arena);
  if (sum != after || !found) return 3;
  ll_stop();
  return ll_is_tracing() ? 4 : 0;
}

static void test_fork_while_recording(void **state) {
  (void)state;
  assert_int_equal(ll_start(1), 0);
  pthread_t th[2];
  pthread_create(&th[0], NULL, busy, (void *)(uintptr_t)0x1000000);
  pthread_create(&th[1], NULL, busy, (void *)(uintptr_t)0x3000000);
  for (int k = 0; k < 30; k++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      alarm(10); /* a lock left held across fork would hang the child: fail it instead */
      _exit(child_checks());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  atomic_store(&done, 1);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  /* The parent is unaffected by its children's recordings. */
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(cur, 0);
  ll_stop();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fork_while_recording)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
