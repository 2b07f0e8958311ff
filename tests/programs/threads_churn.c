/* threads_churn.c - 8 threads allocate and free across threads; exact totals and a known live set at the end. */
/*
 * usage: threads_churn N. Each of 8 threads makes N blocks (sizes 16 + (i % 241)), hands every
 * block to the next thread through a locked queue (locked_queue.h), and frees the blocks handed to it: frees
 * happen on another thread than the allocation (on its own only when the queue is full). At the end each thread keeps 4 blocks of
 * 1000 + thread bytes (@keep) alive: 32 blocks, 32 * 1000 + (0 + 1 + ... + 7) = 32112 bytes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NT 8
#define QCAP 4096
#include "locked_queue.h"

static queue_t queues[NT];
static long iterations;
static void *kept[NT][4];

static void *worker(void *arg) {
  long t = (long)arg;
  queue_t *mine = &queues[t], *next = &queues[(t + 1) % NT];
  for (long i = 0; i < iterations; i++) {
    char *p = malloc(16 + (size_t)(i % 241)); /* @churn */
    p[0] = (char)i;
    if (!push(next, p)) free(p); /* the next thread is done or far behind: free it here */
    free(pop(mine));
  }
  for (int k = 0; k < 4; k++) kept[t][k] = malloc(1000 + (size_t)t); /* @keep */
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t th[NT];
  iterations = argc > 1 ? atol(argv[1]) : 100000;
  for (int t = 0; t < NT; t++) pthread_mutex_init(&queues[t].lock, NULL);
  for (long t = 0; t < NT; t++)
    if (pthread_create(&th[t], NULL, worker, (void *)t) != 0) return 1;
  for (int t = 0; t < NT; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < NT; t++) /* what is still queued */
    for (void *p; (p = pop(&queues[t])) != NULL;) free(p);
  /* Exact totals the test checks against the capture's counters. */
  unsigned long long bytes = 0;
  for (long i = 0; i < iterations; i++) bytes += 16 + (unsigned long long)(i % 241);
  printf("churn %ld allocations %llu bytes\n", NT * iterations, NT * bytes);
  return 0;
}
