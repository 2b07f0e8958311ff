/* chunked.h - the Basel sum three ways: full-size temporary arrays, fixed-size chunks, a stream. */
#ifndef LL_CHUNKED_H
#define LL_CHUNKED_H

#include <stddef.h>

enum ck_variant {
  CK_FULL,      /* whole-array steps: indices, squares, inverses, each an array of n doubles */
  CK_CHUNKED,   /* the same steps over one reused buffer of `chunk` doubles */
  CK_STREAMING, /* one term at a time, no array at all */
  CK_VARIANT_COUNT
};

#define CK_DEFAULT_TERMS 5000000UL
#define CK_DEFAULT_CHUNK 4096UL

extern const char *const ck_variant_names[CK_VARIANT_COUNT];

/* 1/1^2 + 1/2^2 + ... + 1/n^2 (n >= 1), added smallest term first (k = n down to 1). Every
 * variant computes each term as 1.0 / (k * k) in doubles and adds in that same order, so they
 * agree to the last bit. chunk (>= 1) is used by CK_CHUNKED only. */
double ck_basel(enum ck_variant v, size_t n, size_t chunk);

/* Bytes the variant holds on the heap at once while it runs: what its peak should be. */
size_t ck_working_bytes(enum ck_variant v, size_t n, size_t chunk);

#endif
