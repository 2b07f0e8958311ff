/* livetable.c - the live-block table (layout and contract in livetable.h): lookups, inserts, removals, resizing, the overflow table. */
#include <string.h>
#include <sys/mman.h>

#include "livetable.h"
#include "tracker_mem.h"

_Static_assert(sizeof(ll__live_t) == 16, "a live entry must stay 16 bytes (<= 32 B per block)");
_Static_assert(LL__LT_BUCKET == 4, "ll__lt_match and the overflow count are unrolled for 4 slots");

#define OVF_STICKY 255u
#define FILL_NUM 16 /* slots per block after a resize: 16/9 */
#define FILL_DEN 9
/* The smallest table: 64 KiB (4096 slots). Below it the bytes do not matter and the instructions
 * do (the table sits in cache): at churn's 1024 live blocks a one-page minimum left the table
 * half full, one put in seven found its home bucket full and its key then lived 1-2 buckets
 * further (an overflow walk for the put and the free: 165 instructions each, 21 per event); at
 * a quarter full that is one in fifty. Bigger tables keep the 3/4 and 3/16 bounds (their bytes
 * per block matter, and there a cache miss per event costs more than the walk). */
#define MIN_SLOTS (65536 / sizeof(ll__live_t))

_Static_assert(4096 % (LL__LT_BUCKET * sizeof(ll__live_t)) == 0, "buckets must not straddle pages");

static inline size_t nbuckets(const ll__livetab_t *t) { return t->cap / LL__LT_BUCKET; }
static inline size_t next_bucket(size_t b, size_t n) { return b + 1 == n ? 0 : b + 1; }

static inline unsigned ovf_get(const ll__live_t *s) {
  unsigned c = 0;
  for (unsigned k = 0; k < LL__LT_BUCKET; k++)
    c |= (unsigned)((ll__lt_a(s, k) >> LL__LT_OVF_SHIFT) & 3) << (2 * k);
  return c;
}

static inline void ovf_set(ll__live_t *s, unsigned c) {
  for (unsigned k = 0; k < LL__LT_BUCKET; k++)
    ll__lt_set_a(s, k, (ll__lt_a(s, k) & ~LL__LT_OVF_MASK) | (uint64_t)((c >> (2 * k)) & 3) << LL__LT_OVF_SHIFT);
}

/* The count's lowest base-4 digit lives in slot 0: most changes are one add to it (no carry or
 * borrow); the rest go through get/set, sticky count included. */
static inline void ovf_inc(ll__live_t *s) {
  uint64_t a0 = ll__lt_a(s, 0);
  if (((a0 >> LL__LT_OVF_SHIFT) & 3) != 3) {
    ll__lt_set_a(s, 0, a0 + (1ull << LL__LT_OVF_SHIFT));
    return;
  }
  unsigned c = ovf_get(s);
  if (c != OVF_STICKY) ovf_set(s, c + 1);
}

static inline void ovf_dec(ll__live_t *s) {
  uint64_t a0 = ll__lt_a(s, 0);
  if (((a0 >> LL__LT_OVF_SHIFT) & 3) != 0) {
    /* A sticky count (255: every digit 3) has digit 3 here: never decremented. */
    if ((a0 & ll__lt_a(s, 1) & ll__lt_a(s, 2) & ll__lt_a(s, 3) & LL__LT_OVF_MASK) != LL__LT_OVF_MASK)
      ll__lt_set_a(s, 0, a0 - (1ull << LL__LT_OVF_SHIFT));
    return;
  }
  unsigned c = ovf_get(s);
  if (c != OVF_STICKY) ovf_set(s, c - 1);
}

/* The bucket holding key (its slot in *k), or NULL; *bucket receives its number. */
static inline ll__live_t *find(const ll__livetab_t *t, uint64_t key, size_t *bucket, unsigned *k) {
  size_t n = nbuckets(t), b = ll__lt_home(key, n);
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    unsigned m = ll__lt_match(s, key);
    if (m != 0) {
      *bucket = b;
      *k = (unsigned)__builtin_ctz(m);
      return s;
    }
    if (!ll__lt_ovf_any(s)) break;
  }
  return NULL;
}

/* Store a key known to be absent (the table has an empty slot: the load bound holds). */
static void insert_new(ll__live_t *slots, size_t n, uint64_t key, const ll__rec_t *r) {
  for (size_t b = ll__lt_home(key, n);; b = next_bucket(b, n)) {
    ll__live_t *s = &slots[b * LL__LT_BUCKET];
    unsigned m = ll__lt_match(s, 0);
    if (m != 0) {
      ll__lt_pack(s, (unsigned)__builtin_ctz(m), key, r);
      return;
    }
    ovf_inc(s);
  }
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define POPULATE_BYTES (256u << 10)
#define REHASH_AHEAD 16 /* a power of two: the queue's index is a mask */
static int resize(ll__livetab_t *t, size_t want_slots) {
  size_t len;
  if (want_slots > SIZE_MAX / sizeof(ll__live_t)) return -1;
  if (want_slots < MIN_SLOTS) want_slots = MIN_SLOTS;
  ll__live_t *slots = ll__tmem_map(want_slots * sizeof(ll__live_t), &len);
  if (slots == NULL) return -1;
  size_t cap = len / sizeof(ll__live_t); /* whole pages: a whole number of buckets */
  /* The rehash below touches every page in random order: one fault per page, dear in a VM (and
   * the helper's tables are shared memory). One request makes them all present; where the
   * kernel lacks it (before 5.14), the faults happen as before. */
  if (len >= POPULATE_BYTES) (void)madvise(slots, len, MADV_POPULATE_WRITE);
  /* Each key's new bucket is a random one: in a table bigger than the caches, a miss per key
   * (svd_dict: the helper's growth to 1M blocks was most of its time). So the keys are inserted
   * REHASH_AHEAD behind reading them, their buckets prefetched meanwhile; first in, first
   * inserted: the same inserts in the same order, the same table. */
  struct {
    uint64_t key;
    ll__rec_t r;
  } q[REHASH_AHEAD];
  size_t nq = 0, nb = cap / LL__LT_BUCKET;
  for (size_t i = 0; i < t->cap; i++) {
    const ll__live_t *s = &t->slots[i & ~(size_t)(LL__LT_BUCKET - 1)];
    unsigned k = (unsigned)(i % LL__LT_BUCKET);
    uint64_t key = ll__lt_a(s, k) & LL__LT_KEY_MASK;
    if (key == 0) continue;
    __builtin_prefetch(&slots[ll__lt_home(key, nb) * LL__LT_BUCKET], 1);
    size_t j = nq % REHASH_AHEAD;
    if (nq >= REHASH_AHEAD) insert_new(slots, nb, q[j].key, &q[j].r);
    q[j].key = key;
    ll__lt_unpack(s, k, &q[j].r);
    nq++;
  }
  for (size_t d = nq > REHASH_AHEAD ? nq - REHASH_AHEAD : 0; d < nq; d++)
    insert_new(slots, nb, q[d % REHASH_AHEAD].key, &q[d % REHASH_AHEAD].r);
  ll__tmem_unmap(t->slots, t->bytes);
  t->slots = slots;
  t->cap = cap;
  t->bytes = len;
  /* count + 1 > cap * 3/4 exactly when count + 1 > floor(cap * 3/4); count < cap * 3/16
   * exactly when count < ceil(cap * 3/16). */
  t->grow_at = cap * LL__LT_GROW_NUM / LL__LT_GROW_DEN;
  t->put_at = t->wcount != 0 ? 0 : t->grow_at;
  t->shrink_below = cap > MIN_SLOTS ? (cap * LL__LT_SHRINK_NUM + LL__LT_SHRINK_DEN - 1) / LL__LT_SHRINK_DEN : 0;
  return 0;
}

/* Empty slot k of bucket bf (at e), holding key: the buckets on the key's path before bf no
 * longer see it pass. */
static void main_delete(ll__livetab_t *t, uint64_t key, ll__live_t *e, unsigned k, size_t bf) {
  size_t n = nbuckets(t);
  ll__lt_clear(e, k);
  for (size_t b = ll__lt_home(key, n); b != bf; b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    ovf_dec(s);
  }
  t->count--;
  ll__live_maybe_shrink(t);
}

void ll__live_maybe_shrink(ll__livetab_t *t) {
  if (t->cap > MIN_SLOTS && t->count * LL__LT_SHRINK_DEN < t->cap * LL__LT_SHRINK_NUM) {
    size_t want = t->count * FILL_NUM / FILL_DEN;
    (void)resize(t, want < MIN_SLOTS ? MIN_SLOTS : want); /* failure: keep the bigger table */
  }
}

/* ---- the overflow table: full-width entries, rarely used ---------------------------------- */

static ll__wide_t *wide_probe(const ll__livetab_t *t, uintptr_t ptr, size_t *at) {
  size_t mask = t->wcap - 1;
  for (size_t i = ll__lt_home(ptr, t->wcap);; i = (i + 1) & mask) {
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
    size_t h = ll__lt_home(t->wide[j].ptr, t->wcap);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      t->wide[i] = t->wide[j];
      i = j;
    }
  }
  memset(&t->wide[i], 0, sizeof t->wide[i]);
  t->wcount--;
  if (t->wcount == 0) { /* give the memory back: overflow records are rare */
    t->put_at = t->grow_at;
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
      size_t i = ll__lt_home(t->wide[k].ptr, cap);
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
  t->put_at = 0;
  return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

int ll__live_get(const ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out) {
  size_t b;
  uint64_t key = ll__lt_key(ptr);
  if (key != 0 && t->cap != 0) {
    unsigned k;
    const ll__live_t *e = find(t, key, &b, &k);
    if (e != NULL) {
      ll__lt_unpack(e, k, out);
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
  uint64_t key = ll__lt_key(ptr);
  if (key != 0 && t->cap != 0) {
    unsigned k;
    ll__live_t *e = find(t, key, &b, &k);
    if (e != NULL) {
      ll__lt_unpack(e, k, out);
      main_delete(t, key, e, k, b);
      return 1;
    }
  }
  return ptr != 0 && wide_remove(t, ptr, out);
}

/* One scan of each bucket (the key, its empty slots, its
 * overflow count) finds the key or proves it absent, and notes the first empty slot on its
 * path: usually both in the ll__lt_home bucket. 1 and *old: the key was there and now holds r. */
int ll__live_put_main(ll__livetab_t *t, uint64_t key, const ll__rec_t *r, ll__rec_t *old) {
  size_t n = nbuckets(t), h = ll__lt_home(key, n), b = h, fb = SIZE_MAX;
  ll__live_t *fe = NULL;
  unsigned fk = 0;
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    unsigned e;
    int ovf;
    unsigned m = ll__lt_scan(s, key, &e, &ovf);
    if (m != 0) { /* the address is live again: its old block was freed unseen */
      unsigned k = (unsigned)__builtin_ctz(m);
      ll__lt_unpack(s, k, old);
      ll__lt_pack(s, k, key, r);
      return 1;
    }
    if (fe == NULL && e != 0) {
      fe = s;
      fk = (unsigned)__builtin_ctz(e);
      fb = b;
    }
    if (!ovf) break;
  }
  if (fe != NULL) {
    for (b = h; b != fb; b = next_bucket(b, n)) ovf_inc(&t->slots[b * LL__LT_BUCKET]); /* full buckets the key now passes */
    ll__lt_pack(fe, fk, key, r);
  } else {
    insert_new(t->slots, n, key, r);
  }
  t->count++;
  return 0;
}

int ll__live_take_main(ll__livetab_t *t, uint64_t key, ll__rec_t *out) {
  size_t n = nbuckets(t), h = ll__lt_home(key, n), b = h;
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    unsigned e;
    int ovf;
    unsigned m = ll__lt_scan(s, key, &e, &ovf);
    if (m != 0) {
      unsigned k = (unsigned)__builtin_ctz(m);
      ll__lt_unpack(s, k, out);
      ll__lt_clear(s, k);
      for (size_t k = h; k != b; k = next_bucket(k, n)) ovf_dec(&t->slots[k * LL__LT_BUCKET]); /* no longer passed */
      t->count--;
      return 1;
    }
    if (!ovf) break;
  }
  return 0;
}

int ll__live_put(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r, ll__rec_t *old,
                 int *had_old) {
  size_t b;
  uint64_t key = ll__lt_key(ptr);
  *had_old = 0;
  if (key == 0 || !ll__lt_packs(r)) {
    *had_old = ll__live_remove(t, ptr, old);
    return wide_insert(t, ptr, r);
  }
  if (t->wcount != 0) *had_old = wide_remove(t, ptr, old);
  /* One pass finds the key or proves it absent, and notes the first empty slot on its path:
   * usually both in the ll__lt_home bucket. */
  size_t n = nbuckets(t), h = n != 0 ? ll__lt_home(key, n) : 0, fb = SIZE_MAX;
  ll__live_t *fe = NULL;
  unsigned fk = 0;
  b = h;
  for (size_t step = 0; step < n; step++, b = next_bucket(b, n)) {
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    unsigned m = ll__lt_match(s, key);
    if (m != 0) { /* the address is live again: its old block was freed unseen */
      unsigned k = (unsigned)__builtin_ctz(m);
      ll__lt_unpack(s, k, old);
      *had_old = 1;
      ll__lt_pack(s, k, key, r);
      return 0;
    }
    if (fe == NULL && (m = ll__lt_match(s, 0)) != 0) {
      fe = s;
      fk = (unsigned)__builtin_ctz(m);
      fb = b;
    }
    if (!ll__lt_ovf_any(s)) break;
  }
  /* Never fill the last empty slots over the load bound: probes must end, and stay short. */
  if ((t->count + 1) * LL__LT_GROW_DEN > t->cap * LL__LT_GROW_NUM) {
    if (resize(t, (t->count + 1) * FILL_NUM / FILL_DEN + LL__LT_BUCKET) != 0) return -1;
    insert_new(t->slots, nbuckets(t), key, r);
  } else if (fe != NULL) {
    for (b = h; b != fb; b = next_bucket(b, n)) { /* full buckets the key now passes */
      ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
      ovf_inc(s);
    }
    ll__lt_pack(fe, fk, key, r);
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
