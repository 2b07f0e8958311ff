/* symbolize_pmap.c - the symboliser's u64 -> pointer map: mmap'd, open addressing, grows by doubling. */
#include "symbolize_pmap.h"

#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "hash.h"

static size_t pmap_slot(uint64_t k, size_t cap) { return (size_t)ll__mix64(k) & (cap - 1); }

void ll__pmap_free(ll__pmap_t *m) {
  ll__mmap_free(m->keys, m->cap * sizeof *m->keys);
  ll__mmap_free(m->vals, m->cap * sizeof *m->vals);
  memset(m, 0, sizeof *m);
}

void *ll__pmap_get(const ll__pmap_t *m, uint64_t k) {
  if (m->cap == 0) return NULL;
  for (size_t i = pmap_slot(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == k) return m->vals[i];
    if (m->keys[i] == 0) return NULL;
  }
}

int ll__pmap_put(ll__pmap_t *m, uint64_t k, void *v) {
  if ((m->n + 1) * 2 > m->cap) {
    ll__pmap_t g = {0};
    g.cap = m->cap ? m->cap * 2 : 1024;
    g.keys = ll__mmap_alloc(g.cap * sizeof *g.keys);
    g.vals = ll__mmap_alloc(g.cap * sizeof *g.vals);
    if (g.keys == NULL || g.vals == NULL) {
      ll__pmap_free(&g);
      return LL_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i] != 0) ll__pmap_put(&g, m->keys[i], m->vals[i]);
    ll__pmap_free(m);
    *m = g;
  }
  size_t i = pmap_slot(k, m->cap);
  while (m->keys[i] != 0 && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  if (m->keys[i] == 0) m->n++;
  m->keys[i] = k;
  m->vals[i] = v;
  return 0;
}
