/* test_reclock.c - the tracker's spin-then-sleep lock: exclusion under many threads, sleepers woken, threads that exit while others wait, fork, errno. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reclock.h"

static ll__lock_t lock = LL__LOCK_INIT;
/* Plain (not atomic) on purpose: only the lock keeps the increments whole, and ThreadSanitizer
 * (test_reclock_tsan) reports a race on them if taking and giving do not order them. */
static uint64_t counter;
static int inside; /* how many threads are between take and give: never above 1 */
static atomic_int overlaps;

static void sleep_us(long us) { nanosleep(&(struct timespec){0, us * 1000}, NULL); }

static void critical(int hold_us) {
  ll__lock_take(&lock);
  if (++inside != 1) atomic_fetch_add(&overlaps, 1);
  uint64_t c = counter;
  if (hold_us > 0) sleep_us(hold_us); /* longer than any spin: the others sleep on the futex */
  counter = c + 1;
  inside--;
  ll__lock_give(&lock);
}

typedef struct {
  int iters, hold_every, hold_us;
} work_t;

static void *worker(void *arg) {
  const work_t *w = arg;
  for (int i = 0; i < w->iters; i++) critical(w->hold_every > 0 && i % w->hold_every == 0 ? w->hold_us : 0);
  return NULL;
}

static void run(int nthread, const work_t *w) {
  pthread_t th[32];
  for (int i = 0; i < nthread; i++) assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)w), 0);
  for (int i = 0; i < nthread; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
}

static void reset(void) {
  counter = 0;
  atomic_store(&overlaps, 0);
}

/* 16 threads on short holds (the recording paths'): every increment is kept, nobody overlaps,
 * and the lock ends free. */
static void test_many_threads_short_holds(void **state) {
  (void)state;
  reset();
  work_t w = {50000, 0, 0};
  run(16, &w);
  assert_int_equal(counter, 16 * 50000);
  assert_int_equal(atomic_load(&overlaps), 0);
  assert_int_equal(atomic_load(&lock.v), 0);
}

/* Holds far longer than the spin, so waiters sleep on the futex: each must be woken (a lost
 * wake leaves the test hanging until ctest's timeout), and the count stays exact. */
static void test_sleepers_woken(void **state) {
  (void)state;
  reset();
  work_t w = {400, 4, 200};
  run(8, &w);
  assert_int_equal(counter, 8 * 400);
  assert_int_equal(atomic_load(&overlaps), 0);
  assert_int_equal(atomic_load(&lock.v), 0);
}

/* Waves of short-lived threads that take the lock a few times and exit while others spin or
 * sleep on it, and a long-lived thread taking it throughout. */
static void test_threads_exit_while_others_wait(void **state) {
  (void)state;
  reset();
  work_t slow = {2000, 16, 50}, quick = {300, 50, 100};
  pthread_t longer;
  assert_int_equal(pthread_create(&longer, NULL, worker, &slow), 0);
  for (int wave = 0; wave < 20; wave++) run(6, &quick);
  assert_int_equal(pthread_join(longer, NULL), 0);
  assert_int_equal(counter, 2000 + 20 * 6 * 300);
  assert_int_equal(atomic_load(&overlaps), 0);
}

static void test_try(void **state) {
  (void)state;
  assert_true(ll__lock_try(&lock));
  assert_false(ll__lock_try(&lock));
  ll__lock_give(&lock);
  assert_true(ll__lock_try(&lock));
  ll__lock_give(&lock);
}

/* The contended path sleeps and wakes with system calls; a caller's errno stays as it was (the
 * preload's hooks restore it, the compile-time hooks do not). */
static atomic_int holder_took;

static void *errno_holder(void *arg) {
  (void)arg;
  ll__lock_take(&lock);
  atomic_store(&holder_took, 1);
  sleep_us(20000);
  ll__lock_give(&lock);
  return NULL;
}

static void test_errno_kept(void **state) {
  (void)state;
  pthread_t th;
  for (int i = 0; i < 20; i++) {
    atomic_store(&holder_took, 0);
    assert_int_equal(pthread_create(&th, NULL, errno_holder, NULL), 0);
    /* Until the holder took it (not "until the word is set": on a loaded machine the holder
     * may have given it back before this thread looks). */
    while (!atomic_load(&holder_took)) sched_yield();
    errno = ERANGE;
    ll__lock_take(&lock); /* spins, then sleeps: the word is 2 when the holder gives it */
    assert_int_equal(errno, ERANGE);
    errno = EDOM;
    ll__lock_give(&lock);
    assert_int_equal(errno, EDOM);
    assert_int_equal(pthread_join(th, NULL), 0);
  }
}

/* fork while another thread sleeps on the lock: the forking thread holds it (the tracker's
 * atfork prepare), the child frees it without a wake and can take it again. */
static void *fork_waiter(void *arg) {
  (void)arg;
  ll__lock_take(&lock);
  ll__lock_give(&lock);
  return NULL;
}

static void test_fork_child(void **state) {
  (void)state;
  ll__lock_take(&lock);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, fork_waiter, NULL), 0);
  for (int i = 0; i < 10000 && atomic_load(&lock.v) != 2; i++) sleep_us(1000); /* it sleeps */
  assert_int_equal(atomic_load(&lock.v), 2);
  pid_t pid = fork();
  if (pid == 0) {
    ll__lock_forked(&lock);
    int ok = ll__lock_try(&lock);
    ll__lock_give(&lock);
    ll__lock_take(&lock);
    ll__lock_give(&lock);
    _exit(ok && atomic_load(&lock.v) == 0 ? 0 : 1);
  }
  assert_true(pid > 0);
  ll__lock_give(&lock); /* the parent's sleeper is woken */
  assert_int_equal(pthread_join(th, NULL), 0);
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_threads_short_holds),
      cmocka_unit_test(test_sleepers_woken),
      cmocka_unit_test(test_threads_exit_while_others_wait),
      cmocka_unit_test(test_try),
      cmocka_unit_test(test_errno_kept),
      cmocka_unit_test(test_fork_child),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
