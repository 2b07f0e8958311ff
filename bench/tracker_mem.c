/* tracker_mem.c - bench probe: the tracker's own memory per live block, via the in-process API. */
/*
 * usage: tracker_mem [--blocks N]...
 *
 * For each N: start tracing, hold N blocks of 16..256 B made through the compile-time hooks
 * (every block from one line, so interning is negligible and what remains is the per-block
 * cost: the live table), read ll_get_tracker_memory() before and after, print one line
 *   blocks=N live=N tracker_bytes=B per_block=X growth_per_block=Y
 * (per_block: all of the tracker's memory divided by N), then free everything and stop. The
 * preload uses the same engine, so its per-block cost is the same (its stacks are interned once
 * per distinct stack, not per block).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ll_*_at functions only: malloc and free below stay libc's. */
#define LL_HOOKS_NO_MACROS
#include <leaklab/hooks.h>

#include "bench_rand.h"

static int measure(size_t n) {
  /* The pointer array comes from the real malloc: it must not count as a live block. */
  void **blocks = malloc(n * sizeof *blocks);
  if (blocks == NULL || ll_start(1) != 0) return 1;
  size_t before = ll_get_tracker_memory();
  uint64_t s = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < n; i++) {
    size_t size = 16 + (size_t)(ll_bench_rand(&s) % 241);
    blocks[i] = ll_malloc_at(size, __FILE__, __LINE__, __func__);
    if (blocks[i] == NULL) return 1;
    memset(blocks[i], 1, 1);
  }
  size_t after = ll_get_tracker_memory();
  ll_counters_t c;
  ll_get_counters(&c);
  /* All of the tracker's memory over the blocks (the conservative figure), and the growth. */
  printf("blocks=%zu live=%llu tracker_bytes=%zu per_block=%.1f growth_per_block=%.1f\n", n,
         (unsigned long long)c.live_blocks, after, (double)after / (double)n,
         (double)(after - before) / (double)n);
  for (size_t i = 0; i < n; i++) ll_free_at(blocks[i], __FILE__, __LINE__, __func__);
  ll_stop();
  free(blocks);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 0, any = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    unsigned long long n;
    if (strcmp(argv[i], "--blocks") != 0 || i + 1 >= argc ||
        (n = strtoull(argv[i + 1], &end, 10)) == 0 || *end != '\0') {
      fprintf(stderr, "usage: tracker_mem [--blocks N]... (positive counts)\n");
      return 2;
    }
    rc |= measure((size_t)n);
    any = 1;
    i++;
  }
  if (!any) rc = measure(1000000);
  return rc;
}
