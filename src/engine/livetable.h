/* livetable.h - the live-block table (pointer -> size, usable size, traceback): layout, API, inline fast paths. */
#ifndef LEAKLAB_LIVETABLE_H
#define LEAKLAB_LIVETABLE_H
/*
 * Contract: nothing here locks; the caller serialises every call (the tracker holds its mutex,
 * tests are single-threaded). Memory comes from ll__tmem_map (tracker_mem.h), never malloc.
 * ll__live_put returns -1 when the table cannot grow and leaves it consistent; lookups never
 * fail. Records come back exactly as stored, whatever the values (see the packing below).
 *
 * The main table: 16-byte packed slots in buckets of 4 (one 64-byte cache line). A key lives in
 * its home bucket or, when that was full, in one of the next ones. Each bucket counts the keys
 * stored beyond it whose home is at or before it (F14's overflow count, 8 bits spread 2 per
 * slot, sticky at 255): a lookup stops at the first bucket with a count of 0, and a removal
 * only clears its slot and decrements the counts on its key's path - no backward shift, no
 * tombstones, one cache line in the common case, and the 4 compares are branch-free.
 *
 * Load bounds: grow past 3/4 to 9/16, shrink below 3/16 back to 9/16. With 16-byte slots that
 * keeps the table between 21 and 28.5 bytes per live block, and the gap between the bounds
 * means a steady churn never resizes. The table is never smaller than 64 KiB (4096 slots):
 * below that its bytes do not matter, and a fuller table's overflow walks do (livetable.c).
 *
 * A record that does not pack (below) lives whole in the overflow ("wide") table instead: a
 * small open-addressing table of full-width entries with backward-shift deletion, mapped only
 * while it holds something.
 */
#include <stddef.h>
#include <stdint.h>

/* What the tracker keeps per live block. usable >= size (the tracker normalises it). */
typedef struct ll__rec {
  uint64_t size;   /* requested bytes */
  uint64_t usable; /* usable bytes */
  uint32_t tb;     /* traceback id */
} ll__rec_t;

/* A packed slot: key = ptr >> 3 in the low 45 bits of `a` (0: empty), then 2 bits of its
 * bucket's overflow count, then usable - size in the top 17 bits; size in the low 40 bits of
 * `b`, traceback id in its top 24. It packs when the pointer is 8-aligned and below 2^48 (what
 * malloc gives on x86-64 and aarch64 with 4-level paging; 5-level hands out higher addresses
 * only on request), size < 2^40, slack < 2^17 and id < 2^24.
 *
 * A bucket stores its four slots' words apart: the low 32-bit halves of the four `a` words in
 * its first 16 bytes, their high halves in the next 16, the four `b` words in the last 32, so
 * that a scan loads the bucket's keys as two vectors, with no shuffle. t->slots counts in
 * quarters of a bucket (16 bytes, as a slot takes): bucket i starts at
 * &t->slots[i * LL__LT_BUCKET], and slot k of the bucket at s is read and written with
 * ll__lt_a / ll__lt_b / ll__lt_set_a / ll__lt_set_b (s, k), never through ll__live_t. */
typedef struct ll__live {
  uint64_t q_[2];
} ll__live_t;

#define LL__LT_KEY_BITS 45
#define LL__LT_KEY_MASK ((1ull << LL__LT_KEY_BITS) - 1)
#define LL__LT_OVF_SHIFT LL__LT_KEY_BITS
#define LL__LT_OVF_MASK (3ull << LL__LT_OVF_SHIFT)
#define LL__LT_SLACK_SHIFT (LL__LT_OVF_SHIFT + 2)
#define LL__LT_SLACK_MAX ((1ull << (64 - LL__LT_SLACK_SHIFT)) - 1)
#define LL__LT_SIZE_BITS 40
#define LL__LT_SIZE_MASK ((1ull << LL__LT_SIZE_BITS) - 1)
#define LL__LT_TB_LIMIT (1ull << (64 - LL__LT_SIZE_BITS))
#define LL__LT_BUCKET 4     /* slots per bucket */
#define LL__LT_GROW_NUM 3   /* grow past 3/4 full */
#define LL__LT_GROW_DEN 4
#define LL__LT_SHRINK_NUM 3 /* shrink below 3/16 */
#define LL__LT_SHRINK_DEN 16

/* An overflow entry, full width. */
typedef struct ll__wide {
  uintptr_t ptr; /* 0: empty */
  uint64_t size, usable;
  uint32_t tb, pad_;
} ll__wide_t;

typedef struct ll__livetab {
  ll__live_t *slots;
  size_t cap;   /* slots, a multiple of 4 (buckets come from a multiply-shift, not a mask) */
  size_t count; /* occupied slots */
  size_t bytes; /* mapped length of slots */
  /* The load bounds as counts, set with cap (the hot paths compare, no multiply): a put grows
   * the table when count + 1 > grow_at; a removal shrinks it when count < shrink_below (0 for
   * the smallest table, which never shrinks). */
  size_t grow_at, shrink_below;
  /* grow_at while the wide table is empty, else 0: the tracker's fast put may take a home bucket
   * while count < put_at (one compare for both). */
  size_t put_at;
  ll__wide_t *wide; /* overflow table: power-of-two capacity, load <= 1/2 */
  size_t wcap, wcount, wbytes;
} ll__livetab_t;

/* 1 and *out filled when ptr is live, 0 otherwise. */
int ll__live_get(const ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out);
/* Record ptr. Whatever the outcome, a record ptr had before is gone afterwards: *had_old says
 * whether there was one (then *old holds it). 0, or -1 when ptr could not be recorded (no
 * memory for the table). */
int ll__live_put(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r, ll__rec_t *old,
                 int *had_old);
/* Remove ptr; 1 and *out filled when it was present, 0 otherwise. May shrink the table. */
int ll__live_remove(ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out);
static inline size_t ll__live_count(const ll__livetab_t *t) { return t->count + t->wcount; }
/* The recording fast paths' cases beyond the key's home bucket, in the main table only.
 * put_main: key nonzero, r packs, the wide table empty and count < grow_at (no growth due);
 * ll__live_put's result: 1 and *old when the key was there (r replaced it), else 0 (stored).
 * take_main: key nonzero, cap nonzero; 1 and *out when the key was in the main table (taken
 * out; the caller then checks shrink_below), 0 when not (it may still be in the wide table). */
int ll__live_put_main(ll__livetab_t *t, uint64_t key, const ll__rec_t *r, ll__rec_t *old);
int ll__live_take_main(ll__livetab_t *t, uint64_t key, ll__rec_t *out);
/* Unmap everything; the table is empty (and usable) afterwards. */
void ll__live_reset(ll__livetab_t *t);
/* Shrink the table when a removal left it under its lower load bound. */
void ll__live_maybe_shrink(ll__livetab_t *t);

/* ---- slot helpers, shared by livetable.c and the inline fast paths below ------------------ */

/* Home bucket of a key among n: Fibonacci hashing spreads aligned pointers, then a
 * multiply-shift maps the hash onto any number of buckets (no division anywhere), so the table
 * can use every byte of its pages. */
static inline size_t ll__lt_home(uint64_t key, size_t n) {
  __extension__ typedef unsigned __int128 u128_;
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return (size_t)(((u128_)h * n) >> 64);
}

/* Key of a pointer that packs, else 0 (never a key: ptr 0 is never recorded). */
static inline uint64_t ll__lt_key(uintptr_t ptr) {
  return ((uint64_t)ptr & 7) == 0 && ((uint64_t)ptr >> (LL__LT_KEY_BITS + 3)) == 0
             ? (uint64_t)ptr >> 3
             : 0;
}

static inline int ll__lt_packs(const ll__rec_t *r) {
  return r->size <= LL__LT_SIZE_MASK && r->usable - r->size <= LL__LT_SLACK_MAX &&
         r->tb < LL__LT_TB_LIMIT;
}

/* Slot k's words in the bucket at s (the layout above). */
static inline uint64_t ll__lt_a(const ll__live_t *s, unsigned k) {
  const uint32_t *w = (const uint32_t *)(const void *)s;
  return w[k] | (uint64_t)w[LL__LT_BUCKET + k] << 32;
}
static inline uint64_t ll__lt_b(const ll__live_t *s, unsigned k) {
  return ((const uint64_t *)(const void *)s)[LL__LT_BUCKET + k];
}
static inline void ll__lt_set_a(ll__live_t *s, unsigned k, uint64_t a) {
  uint32_t *w = (uint32_t *)(void *)s;
  w[k] = (uint32_t)a;
  w[LL__LT_BUCKET + k] = (uint32_t)(a >> 32);
}
static inline void ll__lt_set_b(ll__live_t *s, unsigned k, uint64_t b) {
  ((uint64_t *)(void *)s)[LL__LT_BUCKET + k] = b;
}
/* Empty slot k; it keeps its bucket's overflow bits. */
static inline void ll__lt_clear(ll__live_t *s, unsigned k) {
  uint32_t *w = (uint32_t *)(void *)s;
  w[k] = 0;
  w[LL__LT_BUCKET + k] &= (uint32_t)(LL__LT_OVF_MASK >> 32);
  ll__lt_set_b(s, k, 0);
}

static inline void ll__lt_unpack(const ll__live_t *s, unsigned k, ll__rec_t *r) {
  uint64_t b = ll__lt_b(s, k);
  r->size = b & LL__LT_SIZE_MASK;
  r->usable = r->size + (ll__lt_a(s, k) >> LL__LT_SLACK_SHIFT);
  r->tb = (uint32_t)(b >> LL__LT_SIZE_BITS);
}

/* Fill slot k with key and r; the slot keeps its bucket's overflow bits. */
static inline void ll__lt_pack(ll__live_t *s, unsigned k, uint64_t key, const ll__rec_t *r) {
  ll__lt_set_a(s, k, key | (ll__lt_a(s, k) & LL__LT_OVF_MASK) | (r->usable - r->size) << LL__LT_SLACK_SHIFT);
  ll__lt_set_b(s, k, r->size | (uint64_t)r->tb << LL__LT_SIZE_BITS);
}

#if defined(__SSE2__)
/* The four `a` words of a bucket as their low and high 32-bit halves, one vector each (two
 * loads: the layout above): the four slots are then compared at once (the key's bits 32..44 and
 * the overflow bits are in the high halves). The compiler shares the loads between the tests of
 * one bucket. */
#include <emmintrin.h>
typedef struct ll__lt_vec {
  __m128i lo, hi;
} ll__lt_vec_t;

static inline ll__lt_vec_t ll__lt_load(const ll__live_t *s) {
  const __m128i *v = (const __m128i *)(const void *)s; /* buckets are 64-byte aligned */
  ll__lt_vec_t r = {_mm_load_si128(v), _mm_load_si128(v + 1)};
  return r;
}

/* The key's low and high 32-bit halves, each in all four lanes: one move and two shuffles. */
static inline void ll__lt_keyvec(uint64_t key, __m128i *lo, __m128i *hi) {
  __m128i k = _mm_set_epi64x(0, (long long)key);
  *lo = _mm_shuffle_epi32(k, _MM_SHUFFLE(0, 0, 0, 0));
  *hi = _mm_shuffle_epi32(k, _MM_SHUFFLE(1, 1, 1, 1));
}

/* Bit k set when slot k of the bucket holds key (0: is empty). */
static inline unsigned ll__lt_match(const ll__live_t *s, uint64_t key) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i klo, khi;
  ll__lt_keyvec(key, &klo, &khi);
  __m128i hi = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_KEY_MASK >> 32)));
  __m128i eq = _mm_and_si128(_mm_cmpeq_epi32(v.lo, klo), _mm_cmpeq_epi32(hi, khi));
  return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(eq));
}

/* Whether any key passes the bucket (nonzero overflow count). */
static inline int ll__lt_ovf_any(const ll__live_t *s) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i o = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_OVF_MASK >> 32)));
  return _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(o, _mm_setzero_si128()))) != 0xf;
}

/* ll__lt_match(s, key), ll__lt_match(s, 0) and ll__lt_ovf_any(s) from one load of the bucket. */
static inline unsigned ll__lt_scan(const ll__live_t *s, uint64_t key, unsigned *empty, int *ovf) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i hi = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_KEY_MASK >> 32)));
  __m128i o = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_OVF_MASK >> 32)));
  __m128i z = _mm_setzero_si128(), klo, khi;
  ll__lt_keyvec(key, &klo, &khi);
  __m128i eq = _mm_and_si128(_mm_cmpeq_epi32(v.lo, klo), _mm_cmpeq_epi32(hi, khi));
  __m128i e0 = _mm_and_si128(_mm_cmpeq_epi32(v.lo, z), _mm_cmpeq_epi32(hi, z));
  *empty = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(e0));
  *ovf = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(o, z))) != 0xf;
  return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(eq));
}

/* For a put into a bucket no key passes: nonzero when slot k holds key or a key passes the
 * bucket after all (nonzero overflow count); *empty: the empty slots (bit k for slot k). With no
 * overflow count every slot's overflow bits are 0, so a slot is empty exactly when its whole `a`
 * word is (the slack bits of an empty slot are 0): one compare. */
static inline unsigned ll__lt_scan_put(const ll__live_t *s, uint64_t key, unsigned *empty) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i klo, khi, z = _mm_setzero_si128();
  ll__lt_keyvec(key, &klo, &khi);
  __m128i hi = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_KEY_MASK >> 32)));
  __m128i o = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_OVF_MASK >> 32)));
  __m128i eq = _mm_and_si128(_mm_cmpeq_epi32(v.lo, klo), _mm_cmpeq_epi32(hi, khi));
  *empty = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_or_si128(v.lo, v.hi), z)));
  /* A lane's overflow bits are 0 or a small positive number: one signed compare marks it. */
  return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(eq, _mm_cmpgt_epi32(o, z))));
}
#else
/* Bit k set when slot k of the bucket holds key (0: is empty). */
static inline unsigned ll__lt_match(const ll__live_t *s, uint64_t key) {
  return (unsigned)((ll__lt_a(s, 0) & LL__LT_KEY_MASK) == key) |
         (unsigned)((ll__lt_a(s, 1) & LL__LT_KEY_MASK) == key) << 1 |
         (unsigned)((ll__lt_a(s, 2) & LL__LT_KEY_MASK) == key) << 2 |
         (unsigned)((ll__lt_a(s, 3) & LL__LT_KEY_MASK) == key) << 3;
}

/* Whether any key passes the bucket (nonzero overflow count). */
static inline int ll__lt_ovf_any(const ll__live_t *s) {
  return ((ll__lt_a(s, 0) | ll__lt_a(s, 1) | ll__lt_a(s, 2) | ll__lt_a(s, 3)) & LL__LT_OVF_MASK) != 0;
}

/* ll__lt_match(s, key), ll__lt_match(s, 0) and ll__lt_ovf_any(s) together. */
static inline unsigned ll__lt_scan(const ll__live_t *s, uint64_t key, unsigned *empty, int *ovf) {
  *empty = ll__lt_match(s, 0);
  *ovf = ll__lt_ovf_any(s);
  return ll__lt_match(s, key);
}

static inline unsigned ll__lt_scan_put(const ll__live_t *s, uint64_t key, unsigned *empty) {
  unsigned e = 0;
  for (unsigned k = 0; k < LL__LT_BUCKET; k++) e |= (unsigned)(ll__lt_a(s, k) == 0) << k;
  *empty = e;
  return ll__lt_match(s, key) | (unsigned)ll__lt_ovf_any(s);
}
#endif

/*
 * Inline fast paths for the recording hot path: the common case touches the home bucket only
 * (the key is there, or the bucket has no overflow so it is absent, and has an empty slot).
 * Anything else (overflow chains, the wide table, growth) goes to ll__live_put/ll__live_remove,
 * which give the same results: these are pure shortcuts.
 */
#define LL__HOT_INLINE static inline __attribute__((always_inline))

LL__HOT_INLINE int ll__live_remove_inl(ll__livetab_t *t, uintptr_t ptr, ll__rec_t *out) {
  uint64_t key = ll__lt_key(ptr);
  if (__builtin_expect(key != 0 && t->cap != 0, 1)) {
    ll__live_t *s = &t->slots[ll__lt_home(key, t->cap / LL__LT_BUCKET) * LL__LT_BUCKET];
    unsigned m = ll__lt_match(s, key);
    if (__builtin_expect(m != 0, 1)) {
      unsigned k = (unsigned)__builtin_ctz(m);
      ll__lt_unpack(s, k, out);
      ll__lt_clear(s, k); /* in its home bucket: no overflow count to fix */
      t->count--;
      if (__builtin_expect(t->count < t->shrink_below, 0)) ll__live_maybe_shrink(t);
      return 1;
    }
    if (!ll__lt_ovf_any(s) && t->wcount == 0) return 0;
  }
  return ll__live_remove(t, ptr, out);
}

LL__HOT_INLINE int ll__live_put_inl(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r,
                                    ll__rec_t *old, int *had_old) {
  uint64_t key = ll__lt_key(ptr);
  if (__builtin_expect(key != 0 && t->wcount == 0 && ll__lt_packs(r) && t->count < t->grow_at, 1)) {
    size_t n = t->cap / LL__LT_BUCKET, b = ll__lt_home(key, n);
    ll__live_t *s = &t->slots[b * LL__LT_BUCKET];
    unsigned fe = ll__lt_match(s, 0);
    if (__builtin_expect(fe != 0 && ll__lt_match(s, key) == 0, 1)) {
      /* The home bucket has room; the key is absent if no bucket its path passes holds it
       * (usually none: the home bucket has no overflow). */
      const ll__live_t *q = s;
      for (size_t step = 1; ll__lt_ovf_any(q); step++) {
        b = b + 1 == n ? 0 : b + 1;
        q = &t->slots[b * LL__LT_BUCKET];
        if (step == n || ll__lt_match(q, key) != 0) return ll__live_put(t, ptr, r, old, had_old);
      }
      /* In its home bucket: no overflow count changes. */
      ll__lt_pack(s, (unsigned)__builtin_ctz(fe), key, r);
      t->count++;
      *had_old = 0;
      return 0;
    }
  }
  return ll__live_put(t, ptr, r, old, had_old);
}

#endif
