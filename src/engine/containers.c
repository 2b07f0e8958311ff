/* containers.c - the mmap-backed byte vector and pointer-keyed table of containers.h. */
#include <string.h>

#include "arena.h"
#include "containers.h"

void *ll__vec_push(ll__vec_t *v, size_t n) {
  if (v->cap - v->len < n) {
    size_t ncap = v->cap ? v->cap : 64 * 1024;
    while (ncap - v->len < n) {
      if (ncap > SIZE_MAX / 2) return NULL;
      ncap *= 2;
    }
    void *np = ll__mmap_alloc(ncap);
    if (np == NULL) return NULL;
    if (v->len) memcpy(np, v->p, v->len);
    ll__mmap_free(v->p, v->cap);
    v->p = np;
    v->cap = ncap;
  }
  void *r = (char *)v->p + v->len;
  v->len += n;
  return r;
}

void ll__vec_free(ll__vec_t *v) {
  ll__mmap_free(v->p, v->cap);
  v->p = NULL;
  v->len = v->cap = 0;
}

int ll__ptab_put(ll__ptab_t *t, const void *key, uint64_t val) {
  if (t->cap == 0 || (t->used + 1) * 4 > t->cap * 3) {
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    if (ncap > SIZE_MAX / sizeof(ll__pslot_t)) return -1;
    ll__pslot_t *ns = ll__mmap_alloc(ncap * sizeof *ns);
    if (ns == NULL) return -1;
    for (size_t i = 0; i < t->cap; i++) {
      if (t->s[i].key == 0) continue;
      size_t j = ll__ptr_hash(t->s[i].key) & (ncap - 1);
      while (ns[j].key != 0) j = (j + 1) & (ncap - 1);
      ns[j] = t->s[i];
    }
    ll__mmap_free(t->s, t->cap * sizeof(ll__pslot_t));
    t->s = ns;
    t->cap = ncap;
  }
  uintptr_t k = (uintptr_t)key;
  size_t i = ll__ptr_hash(k) & (t->cap - 1);
  while (t->s[i].key != 0) i = (i + 1) & (t->cap - 1);
  t->s[i].key = k;
  t->s[i].val = val;
  t->used++;
  return 0;
}

void ll__ptab_free(ll__ptab_t *t) {
  ll__mmap_free(t->s, t->cap * sizeof(ll__pslot_t));
  t->s = NULL;
  t->cap = t->used = 0;
}
