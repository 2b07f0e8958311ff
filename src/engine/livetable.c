/* livetable.c - the live-block table: 16-byte packed entries in 4-slot buckets with overflow
 * counts; a small table of full-width entries for the rare record that does not pack. */
#include <string.h>

#include "tracker_internal.h"

_Static_assert(sizeof(ll__live_t) == 16, "a live entry must stay 16 bytes (<= 32 B per block)");

/* Packing (see tracker_internal.h). Pointers from malloc are 8-aligned and below 2^48 on
 * x86-64 and aarch64 (4-level paging; 5-level hands out higher addresses only on request).
 * Two bits of every slot's `a` word belong to its bucket, not to the slot (see below). */
#define KEY_BITS 45
#define KEY_MASK ((1ull << KEY_BITS) - 1)
#define OVF_SHIFT KEY_BITS
#define OVF_MASK (3ull << OVF_SHIFT)
#define SLACK_SHIFT (KEY_BITS + 2)
#define SLACK_MAX ((1ull << (64 - SLACK_SHIFT)) - 1)
#define SIZE_BITS 40
#define SIZE_MASK ((1ull << SIZE_BITS) - 1)
#define TB_LIMIT (1ull << (64 - SIZE_BITS))

/*
 * Buckets of 4 slots (one 64-byte cache line): a key lives in its home bucket or, when that was
 * full, in one of the next ones. Each bucket counts the keys stored beyond it whose home is at
 * or before it (F14's overflow count, 8 bits spread 2 per slot, sticky at 255): a lookup stops
 * at the first bucket with a count of 0, and a removal only clears its slot and decrements the
 * counts on its key's path - no backward shift, no tombstones, one cache line in the common
 * case, and the 4 compares are branch-free.
 *
 * Load bounds: grow past 3/4 to 9/16, shrink below 3/16 back to 9/16. With 16-byte slots that
 * keeps the table between 21 and 28.5 bytes per live block, and the gap between the bounds
 * means a steady churn never resizes.
 */
#define BUCKET 4
#define OVF_STICKY 255u
#define GROW_NUM 3
#define GROW_DEN 4
#define SHRINK_NUM 3
#define SHRINK_DEN 16
#define FILL_NUM 16 /* slots per block after a resize: 16/9 */
#define FILL_DEN 9
#define PAGE_SLOTS (4096 / sizeof(ll__live_t))

_Static_assert(4096 % (BUCKET * sizeof(ll__live_t)) == 0, "buckets must not straddle pages");
/* tracker_internal.h's inline fast paths use the same layout and bounds. */
_Static_assert(KEY_BITS == LL__LT_KEY_BITS && SIZE_BITS == LL__LT_SIZE_BITS &&
                   SLACK_SHIFT == LL__LT_SLACK_SHIFT && BUCKET == LL__LT_BUCKET &&
                   GROW_NUM == LL__LT_GROW_NUM && GROW_DEN == LL__LT_GROW_DEN &&
                   SHRINK_NUM == LL__LT_SHRINK_NUM && SHRINK_DEN == LL__LT_SHRINK_DEN,
               "livetable.c and tracker_internal.h disagree on the table layout");

__extension__ typedef unsigned __int128 u128;

/* Fibonacci hashing spreads aligned pointers; a multiply-shift maps the hash onto any number of
 * buckets (no division anywhere), so the table can use every byte of its pages. */
static inline size_t home(uint64_t key, size_t n) {
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return (size_t)(((u128)h * n) >> 64);
}

/* Key of a pointer that packs, else 0 (never a key: ptr 0 is never recorded). */
static inline uint64_t key_of(uintptr_t ptr) {
  return ((uint64_t)ptr & 7) == 0 && ((uint64_t)ptr >> (KEY_BITS + 3)) == 0 ? (uint64_t)ptr >> 3
                                                                           : 0;
}

static inline int packs(const ll__rec_t *r) {
  return r->size <= SIZE_MASK && r->usable - r->size <= SLACK_MAX && r->tb < TB_LIMIT;
}

static inline void unpack(const ll__live_t *e, ll__rec_t *r) {
  r->size = e->b & SIZE_MASK;
  r->usable = r->size + (e->a >> SLACK_SHIFT);
  r->tb = (uint32_t)(e->b >> SIZE_BITS);
}

static inline void pack(ll__live_t *e, uint64_t key, const ll__rec_t *r) {
  e->a = key | (e->a & OVF_MASK) | (r->usable - r->size) << SLACK_SHIFT;
  e->b = r->size | (uint64_t)r->tb << SIZE_BITS;
}

static inline size_t nbuckets(const ll__livetab_t *t) { return t->cap / BUCKET; }
static inline size_t next_bucket(size_t b, size_t n) { return b + 1 == n ? 0 : b + 1; }

static inline unsigned ovf_get(const ll__live_t *s) {
  unsigned c = 0;
  for (int k = 0; k < BUCKET; k++) c |= (unsigned)((s[k].a >> OVF_SHIFT) & 3) << (2 * k);
  return c;
}

/* Whether any key passes the bucket: what lookups ask, cheaper than the count itself. */
static inline int ovf_any(const ll__live_t *s) { return ll__lt_ovf_any(s); }

static inline void ovf_set(ll__live_t *s, unsigned c) {
  for (int k = 0; k < BUCKET; k++)
    s[k].a = (s[k].a & ~OVF_MASK) | (uint64_t)((c >> (2 * k)) & 3) << OVF_SHIFT;
}

/* The count's lowest base-4 digit lives in slot 0: most changes are one add to it (no carry or
 * borrow); the rest go through get/set, sticky count included. */
static inline void ovf_inc(ll__live_t *s) {
  if (((s[0].a >> OVF_SHIFT) & 3) != 3) {
    s[0].a += 1ull << OVF_SHIFT;
    return;
  }
  unsigned c = ovf_get(s);
  if (c != OVF_STICKY) ovf_set(s, c + 1);
}

static inline void ovf_dec(ll__live_t *s) {
  if (((s[0].a >> OVF_SHIFT) & 3) != 0) {
    unsigned c = ovf_get(s); /* a sticky count (255) has digit 3 here: never decremented */
    if (c != OVF_STICKY) s[0].a -= 1ull << OVF_SHIFT;
    return;
  }
  unsigned c = ovf_get(s);
  if (c != OVF_STICKY) ovf_set(s, c - 1);
}

/* Bit k set when slot k of the bucket holds key / is empty (SSE2 where there is, see
 * tracker_internal.h). */
static inline unsigned match(const ll__live_t *s, uint64_t key) {
  _Static_assert(BUCKET == 4, "match() is unrolled for 4 slots");
  return ll__lt_match(s, key);
}

/* The slot holding key, or NULL; *bucket receives the bucket it was found in. */
static inline ll__live_t *find(const ll__livetab_t *t, uint64_t key, size_t *bucket) {
  size_t n = nbuckets(t), b = home(key, n);
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * BUCKET];
    unsigned m = match(s, key);
    if (m != 0) {
      *bucket = b;
      return &s[__builtin_ctz(m)];
    }
    if (!ovf_any(s)) break;
  }
  return NULL;
}

/* Store a key known to be absent (the table has an empty slot: the load bound holds). */
static void insert_new(ll__live_t *slots, size_t n, uint64_t key, const ll__rec_t *r) {
  for (size_t b = home(key, n);; b = next_bucket(b, n)) {
    ll__live_t *s = &slots[b * BUCKET];
    unsigned m = match(s, 0);
    if (m != 0) {
      pack(&s[__builtin_ctz(m)], key, r);
      return;
    }
    ovf_inc(s);
  }
}

static int resize(ll__livetab_t *t, size_t want_slots) {
  size_t len;
  if (want_slots > SIZE_MAX / sizeof(ll__live_t)) return -1;
  ll__live_t *slots = ll__tmem_map(want_slots * sizeof(ll__live_t), &len);
  if (slots == NULL) return -1;
  size_t cap = len / sizeof(ll__live_t); /* whole pages: a whole number of buckets */
  for (size_t k = 0; k < t->cap; k++) {
    uint64_t key = t->slots[k].a & KEY_MASK;
    if (key == 0) continue;
    ll__rec_t r;
    unpack(&t->slots[k], &r);
    insert_new(slots, cap / BUCKET, key, &r);
  }
  ll__tmem_unmap(t->slots, t->bytes);
  t->slots = slots;
  t->cap = cap;
  t->bytes = len;
  return 0;
}

/* Empty slot e of bucket bf, holding key: the buckets on the key's path before bf no longer
 * see it pass. */
static void main_delete(ll__livetab_t *t, uint64_t key, ll__live_t *e, size_t bf) {
  size_t n = nbuckets(t);
  e->a &= OVF_MASK;
  e->b = 0;
  for (size_t b = home(key, n); b != bf; b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * BUCKET];
    ovf_dec(s);
  }
  t->count--;
  ll__live_maybe_shrink(t);
}

void ll__live_maybe_shrink(ll__livetab_t *t) {
  if (t->cap > PAGE_SLOTS && t->count * SHRINK_DEN < t->cap * SHRINK_NUM) {
    size_t want = t->count * FILL_NUM / FILL_DEN;
    (void)resize(t, want < PAGE_SLOTS ? PAGE_SLOTS : want); /* failure: keep the bigger table */
  }
}

/* ---- the overflow table: full-width entries, rarely used ---------------------------------- */

static ll__wide_t *wide_probe(const ll__livetab_t *t, uintptr_t ptr, size_t *at) {
  size_t mask = t->wcap - 1;
  for (size_t i = home(ptr, t->wcap);; i = (i + 1) & mask) {
    if (t->wide[i].ptr == ptr || t->wide[i].ptr == 0) {
      *at = i;
      return t->wide[i].ptr == ptr ? &t->wide[i] : NULL;
    }
  }
}

static int wide_remove(ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out) {
  size_t i;
  if (t->wcount == 0) return 0;
  ll__wide_t *e = wide_probe(t, ptr, &i);
  if (e == NULL) return 0;
  *out = (ll__rec_t){e->size, e->usable, e->tb};
  size_t mask = t->wcap - 1;
  for (size_t j = (i + 1) & mask; t->wide[j].ptr != 0; j = (j + 1) & mask) {
    size_t h = home(t->wide[j].ptr, t->wcap);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      t->wide[i] = t->wide[j];
      i = j;
    }
  }
  memset(&t->wide[i], 0, sizeof t->wide[i]);
  t->wcount--;
  if (t->wcount == 0) { /* give the memory back: overflow records are rare */
    ll__tmem_unmap(t->wide, t->wbytes);
    t->wide = NULL;
    t->wcap = t->wbytes = 0;
  }
  return 1;
}

static int wide_insert(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r) {
  if ((t->wcount + 1) * 2 > t->wcap) {
    size_t cap = t->wcap ? t->wcap * 2 : 4096 / sizeof(ll__wide_t), len;
    ll__wide_t *w = ll__tmem_map(cap * sizeof(ll__wide_t), &len);
    if (w == NULL) return -1;
    for (size_t k = 0; k < t->wcap; k++) {
      if (t->wide[k].ptr == 0) continue;
      size_t i = home(t->wide[k].ptr, cap);
      while (w[i].ptr != 0) i = (i + 1) & (cap - 1);
      w[i] = t->wide[k];
    }
    ll__tmem_unmap(t->wide, t->wbytes);
    t->wide = w;
    t->wcap = cap; /* a power of two: the mapping is exactly cap entries (32 B each) */
    t->wbytes = len;
  }
  size_t i;
  (void)wide_probe(t, ptr, &i); /* the caller took any old record out: i is empty */
  t->wide[i] = (ll__wide_t){ptr, r->size, r->usable, r->tb, 0};
  t->wcount++;
  return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

int ll__live_get(const ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out) {
  size_t b;
  uint64_t key = key_of(ptr);
  if (key != 0 && t->cap != 0) {
    const ll__live_t *e = find(t, key, &b);
    if (e != NULL) {
      unpack(e, out);
      return 1;
    }
  }
  if (t->wcount == 0 || ptr == 0) return 0;
  const ll__wide_t *w = wide_probe(t, ptr, &b);
  if (w == NULL) return 0;
  *out = (ll__rec_t){w->size, w->usable, w->tb};
  return 1;
}

int ll__live_remove(ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out) {
  size_t b;
  uint64_t key = key_of(ptr);
  if (key != 0 && t->cap != 0) {
    ll__live_t *e = find(t, key, &b);
    if (e != NULL) {
      unpack(e, out);
      main_delete(t, key, e, b);
      return 1;
    }
  }
  return ptr != 0 && wide_remove(t, ptr, out);
}

int ll__live_put(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r, ll__rec_t *old,
                 int *had_old) {
  size_t b;
  uint64_t key = key_of(ptr);
  *had_old = 0;
  if (key == 0 || !packs(r)) {
    *had_old = ll__live_remove(t, ptr, old);
    return wide_insert(t, ptr, r);
  }
  if (t->wcount != 0) *had_old = wide_remove(t, ptr, old);
  /* One pass finds the key or proves it absent, and notes the first empty slot on its path:
   * usually both in the home bucket. */
  size_t n = nbuckets(t), h = n != 0 ? home(key, n) : 0, fb = SIZE_MAX;
  ll__live_t *fe = NULL;
  b = h;
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * BUCKET];
    unsigned m = match(s, key);
    if (m != 0) { /* the address is live again: its old block was freed unseen */
      ll__live_t *e = &s[__builtin_ctz(m)];
      unpack(e, old);
      *had_old = 1;
      pack(e, key, r);
      return 0;
    }
    if (fe == NULL && (m = match(s, 0)) != 0) {
      fe = &s[__builtin_ctz(m)];
      fb = b;
    }
    if (!ovf_any(s)) break;
  }
  /* Never fill the last empty slots over the load bound: probes must end, and stay short. */
  if ((t->count + 1) * GROW_DEN > t->cap * GROW_NUM) {
    if (resize(t, (t->count + 1) * FILL_NUM / FILL_DEN + BUCKET) != 0) return -1;
    insert_new(t->slots, nbuckets(t), key, r);
  } else if (fe != NULL) {
    for (b = h; b != fb; b = next_bucket(b, n)) { /* full buckets the key now passes */
      ll__live_t *s = &t->slots[b * BUCKET];
      ovf_inc(s);
    }
    pack(fe, key, r);
  } else {
    insert_new(t->slots, n, key, r);
  }
  t->count++;
  return 0;
}

void ll__live_reset(ll__livetab_t *t) {
  ll__tmem_unmap(t->slots, t->bytes);
  ll__tmem_unmap(t->wide, t->wbytes);
  memset(t, 0, sizeof *t);
}
