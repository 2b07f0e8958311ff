/* containers.h - small mmap-backed containers for snapshots and statistics: a growable byte vector, a pointer-keyed table. */
#ifndef LEAKLAB_CONTAINERS_H
#define LEAKLAB_CONTAINERS_H
/*
 * Contract: memory comes from ll__mmap_alloc (the engine never calls malloc); a zeroed struct
 * is an empty container; functions that need memory return NULL or -1 and leave the container
 * as it was. Not thread-safe: one owner.
 */
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* A growable byte vector. Fresh mmap pages are zero and nothing is ever popped, so bytes pushed
 * are zero until written. */
typedef struct ll__vec {
  void *p;
  size_t len; /* bytes used */
  size_t cap; /* bytes mapped */
} ll__vec_t;

/* n more bytes at the end (zero until written), or NULL. */
void *ll__vec_push(ll__vec_t *v, size_t n);
void ll__vec_free(ll__vec_t *v);

/* Pointer-keyed table of 64-bit values (caches: string pointer -> id, -> copy, -> match mask). */
typedef struct ll__pslot {
  uintptr_t key; /* 0: empty */
  uint64_t val;
} ll__pslot_t;

typedef struct ll__ptab {
  ll__pslot_t *s;
  size_t cap;
  size_t used;
} ll__ptab_t;

static inline size_t ll__ptr_hash(uintptr_t p) { return (size_t)ll__mix64((uint64_t)p); }

/* 1 and *val when key is present, else 0. Inline: filters and key tables ask once per frame. */
static inline int ll__ptab_get(const ll__ptab_t *t, const void *key, uint64_t *val) {
  if (t->cap == 0) return 0;
  uintptr_t k = (uintptr_t)key;
  for (size_t i = ll__ptr_hash(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    if (t->s[i].key == k) {
      *val = t->s[i].val;
      return 1;
    }
    if (t->s[i].key == 0) return 0;
  }
}
/* Insert a key known to be absent: 0, or -1 (no memory). */
int ll__ptab_put(ll__ptab_t *t, const void *key, uint64_t val);
void ll__ptab_free(ll__ptab_t *t);

/* *r = a * b when that does not overflow (1), else 0. */
static inline int ll__mul_ok(size_t a, size_t b, size_t *r) {
  if (b != 0 && a > SIZE_MAX / b) return 0;
  *r = a * b;
  return 1;
}

#endif
