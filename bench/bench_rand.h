/* bench_rand.h - the bench programs' one random generator (xorshift64*, fixed seeds: every run makes the same calls). */
#ifndef LL_BENCH_RAND_H
#define LL_BENCH_RAND_H
#include <stdint.h>

static inline uint64_t ll_bench_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

#endif
