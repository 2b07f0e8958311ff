/* hash.h - the engine's integer mixer (MurmurHash3's fmix64), shared by its hash tables. */
#ifndef LEAKLAB_HASH_H
#define LEAKLAB_HASH_H
/*
 * Contract: a pure function; every input bit moves every output bit, so tables may take the
 * low bits of the result as a slot index.
 */
#include <stdint.h>

static inline uint64_t ll__mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

#endif
