/* engine_rate.c - bench probe: how fast the engine applies recorded events, with no hooks around it. */
/*
 * usage: engine_rate [--pairs N] [--slots N] [--frames 1|16] [--prefetch D]
 *
 * First makes churn's calls for real (N free+malloc pairs of 16..256 B over the slots, the same
 * generator as churn.c) and keeps the event stream: each malloc's pointer, size and usable size,
 * each free's pointer, in order, as an interposer would have seen them. Then, with nothing else
 * running, feeds that stream to the engine the way the preload does (ll__track_alloc_ips_c with
 * a per-thread stack cache, ll_track_free), once with one frame and once with a 4-frame stack
 * under a 16-frame limit (churn's depth). Prints one line per depth:
 *   engine_rate: frames=F events=E ns_per_event=X peak_bytes=P
 * and exits 1 if the engine's peak differs from the stream's own. --frames runs one depth only
 * (for instruction counts under valgrind, one depth per run). --prefetch D has the engine prefetch
 * the live-table bucket of the event D ahead, as the helper does with a table bigger than the
 * caches (preload_apply.c's drain; with --slots 1000000 every event is a miss otherwise).
 *
 * This is the engine's cost as the consumer of an asynchronous recorder would pay it: an
 * asynchronous leaklab cannot take less than E * X ns on that core, however cheap its producer.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <leaklab/leaklab.h>

#include "bench_rand.h"
#include "engine.h"

typedef struct event {
  uintptr_t ptr;   /* low bit set: a free */
  uint32_t size;   /* malloc only */
  uint32_t usable; /* malloc only */
} event_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned long long parse(const char *opt, const char *v) {
  char *end;
  unsigned long long n = v != NULL ? strtoull(v, &end, 10) : 0;
  if (v == NULL || *end != '\0' || n == 0) {
    fprintf(stderr, "engine_rate: %s needs a positive number\n", opt);
    exit(2);
  }
  return n;
}

static size_t g_ahead; /* --prefetch D: the bucket of the event D ahead */

/* Apply the stream with `depth` frames per stack (limit `limit`); the engine's peak, or 0 when
 * tracing could not start. */
static uint64_t apply(const event_t *ev, size_t n, int depth, int limit, double *secs) {
  /* Return addresses as a frame-pointer walk of churn would give them (values only matter as
   * keys: reports are not symbolised here). */
  static const uintptr_t stack[4] = {0x401156, 0x4012a0, 0x4013c4, 0x7f0000029d90};
  static ll__tbcache_t cache;
  memset(&cache, 0, sizeof cache);
  if (ll_start(limit) != 0) return 0;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    if (g_ahead != 0 && i + g_ahead < n) ll__track_prefetch((void *)(ev[i + g_ahead].ptr & ~(uintptr_t)1));
    if (ev[i].ptr & 1)
      ll_track_free((void *)(ev[i].ptr & ~(uintptr_t)1));
    else
      ll__track_alloc_ips_c((void *)ev[i].ptr, ev[i].size, ev[i].usable, stack, depth, &cache);
  }
  *secs = now_s() - t0;
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  ll_stop();
  return peak;
}

int main(int argc, char **argv) {
  unsigned long long pairs = 5000000, slots = 1024, only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--pairs") == 0) pairs = parse("--pairs", i + 1 < argc ? argv[++i] : NULL);
    else if (strcmp(argv[i], "--slots") == 0) slots = parse("--slots", i + 1 < argc ? argv[++i] : NULL);
    else if (strcmp(argv[i], "--prefetch") == 0) g_ahead = parse("--prefetch", i + 1 < argc ? argv[++i] : NULL);
    else if (strcmp(argv[i], "--frames") == 0) {
      only = parse("--frames", i + 1 < argc ? argv[++i] : NULL);
      if (only != 1 && only != 16) {
        fprintf(stderr, "engine_rate: --frames takes 1 or 16\n");
        return 2;
      }
    } else {
      fprintf(stderr, "engine_rate: unknown argument '%s' (usage: engine_rate [--pairs N] [--slots N] [--frames 1|16] [--prefetch D])\n", argv[i]);
      return 2;
    }
  }
  size_t n = (size_t)(2 * (pairs + slots));
  event_t *ev = malloc(n * sizeof *ev);
  void **slot = calloc(slots, sizeof *slot);
  uint32_t *sizes = calloc(slots, sizeof *sizes);
  if (ev == NULL || slot == NULL || sizes == NULL) {
    fprintf(stderr, "engine_rate: out of memory for %zu events\n", n);
    return 1;
  }
  /* The stream, made with the real allocator (addresses reused as churn's are). */
  size_t k = 0;
  uint64_t s = 0x9E3779B97F4A7C15ULL, live = 0, peak = 0;
  for (unsigned long long i = 0; i < slots + pairs; i++) {
    size_t j = i < slots ? (size_t)i : (size_t)(ll_bench_rand(&s) % slots);
    if (slot[j] != NULL) {
      ev[k++] = (event_t){(uintptr_t)slot[j] | 1, 0, 0};
      live -= sizes[j];
      free(slot[j]);
    }
    uint32_t size = 16 + (uint32_t)(ll_bench_rand(&s) % 241);
    unsigned char *p = malloc(size);
    if (p == NULL) {
      fprintf(stderr, "engine_rate: out of memory\n");
      return 1;
    }
    p[0] = 1;
    slot[j] = p;
    sizes[j] = size;
    ev[k++] = (event_t){(uintptr_t)p, size, (uint32_t)malloc_usable_size(p)};
    live += size;
    if (live > peak) peak = live;
  }
  int rc = 0;
  const int depth[2] = {1, 4}, limit[2] = {1, 16};
  for (int d = 0; d < 2; d++) {
    if (only != 0 && (unsigned long long)limit[d] != only) continue;
    double secs = 0;
    uint64_t got = apply(ev, k, depth[d], limit[d], &secs);
    printf("engine_rate: frames=%d events=%zu ns_per_event=%.1f peak_bytes=%llu\n", limit[d], k,
           secs * 1e9 / (double)k, (unsigned long long)got);
    if (got != peak) {
      fprintf(stderr, "engine_rate: the engine's peak %llu differs from the stream's %llu\n",
              (unsigned long long)got, (unsigned long long)peak);
      rc = 1;
    }
  }
  for (size_t j = 0; j < slots; j++) free(slot[j]);
  free(slot);
  free(sizes);
  free(ev);
  return rc;
}
