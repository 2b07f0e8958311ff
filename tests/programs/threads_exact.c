/* threads_exact.c - threaded allocation patterns whose figures are known: cross-thread frees and reallocs, a peak serialised by the program's own lock, thread churn, fork, a thread still running at exit. */
/*
 * usage: threads_exact MODE [N]
 *   cross N   8 threads; each makes N blocks (@cross_alloc, 16 + i % 200 bytes), hands each to the
 *             next thread, which grows it with realloc (@cross_realloc, +8 bytes) and frees it.
 *             Then a phase where every malloc and free runs under one program lock, from all 8
 *             threads (@locked_alloc, N / 4 per thread of 1000..65535 bytes, each replacing a
 *             block of a pool of 64 slots, whoever allocated it): the program
 *             prints that phase's own peak of its blocks ("locked_peak N"): every recorder that
 *             applies the events in the order they happened sees the same peak over the same
 *             baseline. Each thread keeps 2 blocks of 500 + t bytes (@keep).
 *   churn N   N waves of threads: 100 at once in the first wave (more than a recorder's rings),
 *             then 24 per wave; each makes 50 blocks (@churn_alloc), frees 49, hands the last to
 *             main, which frees it; each thread keeps one block of 300 bytes (@churn_keep).
 *   fork N    4 threads run the cross pattern while main forks 3 children (each allocates and
 *             exits; one of them through exec of /bin/true); main keeps 1 block (@fork_keep).
 *   hold      4 threads allocate, then the program waits for the end of its stdin while they
 *             exist (a test looks at the recorder meanwhile), then they allocate again.
 *   running   a thread allocates and frees without end; main keeps 3 blocks of 700 bytes
 *             (@running_keep) and returns from main while the thread runs.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NT 8
#define QCAP 1024
#include "locked_queue.h"
#define POOL 64

static queue_t queues[NT];
static int nthreads = NT;
static long iterations;
static pthread_barrier_t barrier;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool[POOL];
static size_t pool_size[POOL];
static uint64_t live, peak;
static void *kept[NT][2];
static void *volatile sink; /* blocks kept on purpose */

static void finish_block(void *p) {
  void *q = realloc(p, 16 + 200 + 8); /* @cross_realloc */
  free(q);
}

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void locked_phase(long t) {
  uint64_t r = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
  for (long i = 0; i < iterations / 4; i++) {
    uint64_t x = next_rand(&r);
    pthread_mutex_lock(&pool_lock);
    size_t k = (size_t)(x % POOL), n = 1000 + (size_t)(x >> 20) % 64536;
    if (pool[k] != NULL) { /* which thread frees which block depends on the interleaving */
      live -= pool_size[k];
      free(pool[k]);
    }
    pool[k] = malloc(n); /* @locked_alloc */
    pool_size[k] = n;
    live += n;
    if (live > peak) peak = live;
    pthread_mutex_unlock(&pool_lock);
  }
}

static void *cross(void *arg) {
  long t = (long)arg;
  queue_t *mine = &queues[t], *next = &queues[(t + 1) % nthreads];
  for (long i = 0; i < iterations; i++) {
    void *p = malloc(16 + (size_t)(i % 200)); /* @cross_alloc */
    memset(p, 1, 16);
    if (!push(next, p)) finish_block(p);
    void *q = pop(mine);
    if (q != NULL) finish_block(q);
  }
  pthread_barrier_wait(&barrier); /* nothing is pushed any more */
  for (void *q; (q = pop(mine)) != NULL;) finish_block(q);
  for (int k = 0; k < 2; k++) kept[t][k] = malloc(500 + (size_t)t); /* @keep */
  pthread_barrier_wait(&barrier);
  /* Nothing but the locked phase runs now, and the threads end only after it: its peak over
   * what lives around it is the program's. */
  if (nthreads == NT) locked_phase(t);
  pthread_barrier_wait(&barrier);
  return NULL;
}

static void run_cross(int n) {
  pthread_t th[NT];
  nthreads = n;
  pthread_barrier_init(&barrier, NULL, (unsigned)n);
  for (int t = 0; t < n; t++) pthread_mutex_init(&queues[t].lock, NULL);
  for (long t = 0; t < n; t++) pthread_create(&th[t], NULL, cross, (void *)t);
  for (int t = 0; t < n; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&barrier);
}

static void *cross4(void *arg) {
  (void)arg;
  run_cross(4);
  return NULL;
}

static void *churn_thread(void *arg) {
  void *blocks[50];
  for (int i = 0; i < 50; i++) blocks[i] = malloc(32 + (size_t)i); /* @churn_alloc */
  for (int i = 0; i < 49; i++) free(blocks[i]);
  *(void **)arg = blocks[49];
  sink = malloc(300); /* @churn_keep */
  return NULL;
}

static void *hold_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) free(malloc(40)); /* @hold_alloc */
  pthread_barrier_wait(&barrier);
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < 1000; i++) free(malloc(40)); /* @hold_alloc2 */
  return NULL;
}

static void *spin(void *arg) {
  (void)arg;
  for (;;) free(malloc(64)); /* @running_alloc */
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  iterations = argc > 2 ? atol(argv[2]) : 10000;
  if (strcmp(argv[1], "cross") == 0) {
    run_cross(NT);
    for (int k = 0; k < POOL; k++) free(pool[k]);
    printf("locked_peak %llu\n", (unsigned long long)peak);
  } else if (strcmp(argv[1], "churn") == 0) {
    for (long w = 0; w < iterations; w++) {
      int n = w == 0 ? 100 : 24;
      pthread_t th[100];
      void *last[100];
      for (int t = 0; t < n; t++) pthread_create(&th[t], NULL, churn_thread, &last[t]);
      for (int t = 0; t < n; t++) pthread_join(th[t], NULL);
      for (int t = 0; t < n; t++) free(last[t]);
    }
    printf("churn done\n");
  } else if (strcmp(argv[1], "fork") == 0) {
    void *k = malloc(4321); /* @fork_keep */
    pthread_t th;
    pthread_create(&th, NULL, cross4, NULL);
    for (int c = 0; c < 3; c++) {
      pid_t pid = fork();
      if (pid == 0) {
        free(malloc(100000));
        if (c == 1) execl("/bin/true", "true", (char *)NULL);
        _exit(0);
      }
      int st;
      waitpid(pid, &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    }
    pthread_join(th, NULL);
    printf("fork done %p\n", k != NULL ? (void *)1 : NULL);
  } else if (strcmp(argv[1], "hold") == 0) {
    pthread_t th[4];
    pthread_barrier_init(&barrier, NULL, 5);
    for (long t = 0; t < 4; t++) pthread_create(&th[t], NULL, hold_thread, (void *)t);
    pthread_barrier_wait(&barrier);
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    while (getchar() != EOF) {
    }
    pthread_barrier_wait(&barrier);
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
  } else if (strcmp(argv[1], "running") == 0) {
    void *k[3];
    for (int i = 0; i < 3; i++) k[i] = malloc(700); /* @running_keep */
    pthread_t th;
    pthread_create(&th, NULL, spin, NULL);
    usleep(100000);
    printf("running %d\n", k[2] != NULL);
  } else {
    return 2;
  }
  return 0;
}
