/* churn.c - bench workload: free+malloc pairs of 16..256 B over live slots, 1 or N threads. */
/*
 * usage: churn [--pairs N] [--slots N] [--threads T]
 *
 * One thread: each step frees a random slot and refills it with a new block of 16..256 B
 * (xorshift64*, fixed seed: every run makes the same calls). Prints the exact peak of requested
 * bytes it held, so the bench can check each tool's peak against the truth.
 *
 * T threads: the same churn split over T threads (pairs/T each, slots/T each), but a block
 * taken out of a slot is handed to the next thread through a lock-free single-producer
 * single-consumer ring and freed there: cross-thread frees, as servers do. A full ring means the
 * producer frees the block itself. The exact peak is not defined across threads (the order of
 * concurrent calls varies), so none is printed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rand.h"

#define RING 1024 /* power of two */
#define MAX_THREADS 64

typedef struct ring {
  _Alignas(64) atomic_size_t head; /* next slot the consumer reads */
  _Alignas(64) atomic_size_t tail; /* next slot the producer writes */
  void *items[RING];
} ring_t;

typedef struct worker {
  pthread_t tid;
  int index;
  uint64_t pairs;
  size_t slots;
  uint64_t seed;
  ring_t *in;  /* blocks other thread hands us to free */
  ring_t *out; /* blocks we hand the next thread */
  uint64_t checksum;
} worker_t;

static size_t next_size(uint64_t *s) { return 16 + (size_t)(ll_bench_rand(s) % 241); }

/* Touch the block so the compiler cannot elide the malloc/free pair. */
static void *take(size_t size, uint64_t *checksum) {
  unsigned char *p = malloc(size);
  if (p == NULL) {
    fprintf(stderr, "churn: out of memory\n");
    exit(1);
  }
  p[0] = (unsigned char)size;
  p[size - 1] = (unsigned char)(size >> 1);
  *checksum += (uintptr_t)p[0] + p[size - 1];
  return p;
}

static int ring_push(ring_t *r, void *p) {
  size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  if (tail - head == RING) return 0;
  r->items[tail & (RING - 1)] = p;
  atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
  return 1;
}

static void *ring_pop(ring_t *r) {
  size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  if (head == tail) return NULL;
  void *p = r->items[head & (RING - 1)];
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  return p;
}

static int run_single(uint64_t pairs, size_t nslots) {
  void **slot = calloc(nslots, sizeof *slot);
  size_t *sizes = calloc(nslots, sizeof *sizes);
  if (slot == NULL || sizes == NULL) return 1;
  uint64_t s = 0x9E3779B97F4A7C15ULL, checksum = 0;
  /* The bookkeeping arrays are live the whole run: they count towards the peak too. */
  uint64_t live = nslots * sizeof *slot + nslots * sizeof *sizes, peak = live;
  for (size_t i = 0; i < nslots; i++) {
    sizes[i] = next_size(&s);
    slot[i] = take(sizes[i], &checksum);
    live += sizes[i];
    if (live > peak) peak = live;
  }
  for (uint64_t i = 0; i < pairs; i++) {
    size_t j = (size_t)(ll_bench_rand(&s) % nslots);
    free(slot[j]);
    live -= sizes[j];
    sizes[j] = next_size(&s);
    slot[j] = take(sizes[j], &checksum);
    live += sizes[j];
    if (live > peak) peak = live;
  }
  for (size_t i = 0; i < nslots; i++) free(slot[i]);
  free(slot);
  free(sizes);
  /* Printed after every block is freed, so stdout's buffer is not live at the peak. */
  printf("churn: pairs=%llu slots=%zu threads=1 checksum=%llu peak_bytes=%llu\n",
         (unsigned long long)pairs, nslots, (unsigned long long)checksum,
         (unsigned long long)peak);
  return 0;
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  void **slot = calloc(w->slots, sizeof *slot);
  if (slot == NULL) return NULL;
  uint64_t s = w->seed;
  for (size_t i = 0; i < w->slots; i++) slot[i] = take(next_size(&s), &w->checksum);
  for (uint64_t i = 0; i < w->pairs; i++) {
    size_t j = (size_t)(ll_bench_rand(&s) % w->slots);
    if (!ring_push(w->out, slot[j])) free(slot[j]);
    slot[j] = take(next_size(&s), &w->checksum);
    void *p = ring_pop(w->in);
    if (p != NULL) free(p);
  }
  for (size_t i = 0; i < w->slots; i++) free(slot[i]);
  free(slot);
  return NULL;
}

static int run_threads(uint64_t pairs, size_t nslots, int nthreads) {
  ring_t *rings = aligned_alloc(64, sizeof(ring_t) * (size_t)nthreads);
  worker_t *w = calloc((size_t)nthreads, sizeof *w);
  if (rings == NULL || w == NULL) return 1;
  memset(rings, 0, sizeof(ring_t) * (size_t)nthreads);
  for (int t = 0; t < nthreads; t++) {
    w[t].index = t;
    w[t].pairs = pairs / (uint64_t)nthreads;
    w[t].slots = nslots / (size_t)nthreads > 0 ? nslots / (size_t)nthreads : 1;
    w[t].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1);
    w[t].in = &rings[t];
    w[t].out = &rings[(t + 1) % nthreads];
    if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
      fprintf(stderr, "churn: cannot start thread %d\n", t);
      return 1;
    }
  }
  uint64_t checksum = 0;
  for (int t = 0; t < nthreads; t++) {
    pthread_join(w[t].tid, NULL);
    checksum += w[t].checksum;
  }
  /* Blocks handed over after their consumer finished: freed here, still cross-thread. */
  for (int t = 0; t < nthreads; t++) {
    void *p;
    while ((p = ring_pop(&rings[t])) != NULL) free(p);
  }
  free(rings);
  free(w);
  printf("churn: pairs=%llu slots=%zu threads=%d checksum=%llu\n", (unsigned long long)pairs,
         nslots, nthreads, (unsigned long long)checksum);
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v == 0) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  uint64_t pairs = 5000000, slots = 1024, threads = 1;
  for (int i = 1; i < argc; i++) {
    uint64_t *target = NULL;
    if (strcmp(argv[i], "--pairs") == 0) target = &pairs;
    else if (strcmp(argv[i], "--slots") == 0) target = &slots;
    else if (strcmp(argv[i], "--threads") == 0) target = &threads;
    if (target == NULL || i + 1 >= argc || parse_u64(argv[i + 1], target) != 0 ||
        threads > MAX_THREADS) {
      fprintf(stderr, "usage: churn [--pairs N] [--slots N] [--threads T] (positive numbers, "
                      "T <= %d)\n", MAX_THREADS);
      return 2;
    }
    i++;
  }
  return threads == 1 ? run_single(pairs, (size_t)slots) : run_threads(pairs, (size_t)slots, (int)threads);
}
