/* livetable.c - the live-block table: 24-byte entries, linear probing, backward-shift deletion. */
#include <string.h>

#include "tracker_internal.h"

_Static_assert(sizeof(ll__live_t) == 24, "a live entry must stay 24 bytes");

/* Load factor bounds: grow past 3/4 to 1/2 (growth factor 1.5 keeps the tracker near 32-48
 * bytes per live block); shrink below 3/16 back to 1/2 so memory follows frees. The gap
 * between the bounds means a steady churn never resizes. */
#define GROW_NUM 3
#define GROW_DEN 4
#define SHRINK_NUM 3
#define SHRINK_DEN 16

/* Fibonacci hashing spreads aligned pointers; a multiply-shift maps the hash onto any
 * capacity, so the table can use every byte of its pages. */
static size_t home(uintptr_t ptr, size_t cap) {
  uint64_t h = (uint64_t)ptr * 0x9E3779B97F4A7C15ull;
  __extension__ typedef unsigned __int128 u128;
  return (size_t)(((u128)h * cap) >> 64);
}

static size_t next(size_t i, size_t cap) { return i + 1 == cap ? 0 : i + 1; }

static int resize(ll__livetab_t *t, size_t want_slots) {
  size_t len;
  if (want_slots > SIZE_MAX / sizeof(ll__live_t)) return -1;
  ll__live_t *slots = ll__tmem_map(want_slots * sizeof(ll__live_t), &len);
  if (slots == NULL) return -1;
  size_t cap = len / sizeof(ll__live_t);
  for (size_t k = 0; k < t->cap; k++) {
    if (t->slots[k].ptr == 0) continue;
    size_t i = home(t->slots[k].ptr, cap);
    while (slots[i].ptr != 0) i = next(i, cap);
    slots[i] = t->slots[k];
  }
  ll__tmem_unmap(t->slots, t->bytes);
  t->slots = slots;
  t->cap = cap;
  t->bytes = len;
  return 0;
}

static ll__live_t *probe(ll__livetab_t *t, uintptr_t ptr, size_t *at) {
  size_t i = home(ptr, t->cap);
  for (;;) {
    ll__live_t *e = &t->slots[i];
    if (e->ptr == ptr || e->ptr == 0) {
      *at = i;
      return e->ptr == ptr ? e : NULL;
    }
    i = next(i, t->cap);
  }
}

ll__live_t *ll__live_find(ll__livetab_t *t, uintptr_t ptr) {
  size_t at;
  if (t->cap == 0 || ptr == 0) return NULL;
  return probe(t, ptr, &at);
}

ll__live_t *ll__live_upsert(ll__livetab_t *t, uintptr_t ptr, int *existed) {
  size_t at;
  if ((t->count + 1) * GROW_DEN > t->cap * GROW_NUM) {
    /* A failed growth is not fatal yet: ptr may already be present. */
    if (resize(t, (t->count + 1) * 2) != 0 && t->cap == 0) return NULL;
  }
  ll__live_t *e = probe(t, ptr, &at);
  if (e != NULL) {
    *existed = 1;
    return e;
  }
  /* Never fill the last empty slot over the load bound: probes must always end. */
  if ((t->count + 1) * GROW_DEN > t->cap * GROW_NUM) return NULL;
  e = &t->slots[at];
  e->ptr = ptr;
  t->count++;
  *existed = 0;
  return e;
}

int ll__live_remove(ll__livetab_t *t, uintptr_t ptr, ll__live_t *out) {
  size_t i;
  if (t->cap == 0 || ptr == 0) return 0;
  ll__live_t *e = probe(t, ptr, &i);
  if (e == NULL) return 0;
  *out = *e;
  /* Backward shift: pull later entries of the cluster into the hole when their home allows,
   * so lookups never need tombstones. */
  size_t cap = t->cap;
  for (size_t j = next(i, cap); t->slots[j].ptr != 0; j = next(j, cap)) {
    size_t h = home(t->slots[j].ptr, cap);
    size_t dist_home = (j + cap - h) % cap;
    size_t dist_hole = (j + cap - i) % cap;
    if (dist_home >= dist_hole) {
      t->slots[i] = t->slots[j];
      i = j;
    }
  }
  memset(&t->slots[i], 0, sizeof t->slots[i]);
  t->count--;
  size_t page_slots = 4096 / sizeof(ll__live_t);
  if (t->cap > page_slots && t->count * SHRINK_DEN < t->cap * SHRINK_NUM) {
    size_t want = t->count * 2;
    (void)resize(t, want < page_slots ? page_slots : want); /* failure: keep the bigger table */
  }
  return 1;
}

void ll__live_reset(ll__livetab_t *t) {
  ll__tmem_unmap(t->slots, t->bytes);
  memset(t, 0, sizeof *t);
}
