/* floor.c - bench probe: ns per operation of the building blocks a recorder pays on every malloc/free. */
/*
 * usage: floor [ITERATIONS]
 *
 * Prints one line per building block, "name ns_per_op", measured in a tight loop on one thread
 * (uncontended): the untracked malloc+free pair the churn workload makes, a pthread mutex
 * lock+unlock pair, one atomic read-modify-write, clock_gettime (vDSO), malloc_usable_size,
 * and a thread-local store. Together with a profile they say how far a per-event design can
 * go: e.g. a mutex pair on every malloc and every free alone costs 2x that line per churn pair.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long g_counter;
static __thread volatile int t_flag;
static volatile uint64_t g_sink;

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000000;
  if (n <= 0) {
    fprintf(stderr, "usage: floor [ITERATIONS > 0]\n");
    return 2;
  }
  double t0, t1;
  uint64_t s = 88172645463325252ULL, sum = 0;

  void *slots[1024] = {0};
  t0 = now_ns();
  for (long i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    size_t j = s % 1024;
    free(slots[j]);
    slots[j] = malloc(16 + (s >> 32) % 241);
    *(volatile char *)slots[j] = 1;
  }
  t1 = now_ns();
  printf("malloc_free_pair %.1f\n", (t1 - t0) / (double)n);

  t0 = now_ns();
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&g_lock);
    g_sink++;
    pthread_mutex_unlock(&g_lock);
  }
  t1 = now_ns();
  printf("mutex_lock_unlock %.1f\n", (t1 - t0) / (double)n);

  t0 = now_ns();
  for (long i = 0; i < n; i++) atomic_fetch_add(&g_counter, 1);
  t1 = now_ns();
  printf("atomic_rmw %.1f\n", (t1 - t0) / (double)n);

  t0 = now_ns();
  for (long i = 0; i < n / 4; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sum += (uint64_t)ts.tv_nsec;
  }
  t1 = now_ns();
  printf("clock_gettime_monotonic %.1f\n", (t1 - t0) / (double)(n / 4));

  t0 = now_ns();
  for (long i = 0; i < n / 4; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    sum += (uint64_t)ts.tv_nsec;
  }
  t1 = now_ns();
  printf("clock_gettime_coarse %.1f\n", (t1 - t0) / (double)(n / 4));

  t0 = now_ns();
  for (long i = 0; i < n; i++) sum += malloc_usable_size(slots[i & 1023]);
  t1 = now_ns();
  printf("malloc_usable_size %.1f\n", (t1 - t0) / (double)n);

  t0 = now_ns();
  for (long i = 0; i < n; i++) {
    t_flag = 1;
    t_flag = 0;
  }
  t1 = now_ns();
  printf("tls_guard_set_clear %.1f\n", (t1 - t0) / (double)n);

  for (size_t j = 0; j < 1024; j++) free(slots[j]);
  g_sink += sum;
  return 0;
}
