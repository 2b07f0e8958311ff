/* tracker_internal.h - private pieces of the tracker: its memory, the live table, interning. */
#ifndef LEAKLAB_TRACKER_INTERNAL_H
#define LEAKLAB_TRACKER_INTERNAL_H
/*
 * Contract: nothing here locks; every function is called with the tracker's mutex held (or from
 * a single-threaded test). Nothing allocates through malloc: memory comes from ll__tmem_*, which
 * counts every mapped byte for ll_get_tracker_memory() and can be told to fail (tests).
 * Functions that need memory return 0 or LL_ENOMEM and leave their structure consistent.
 */
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* ---- the tracker's own memory (tracker_mem.c) ------------------------------------------------ */

/* Whole pages, zeroed; *got receives the mapped length (>= want). NULL on failure. */
void *ll__tmem_map(size_t want, size_t *got);
void ll__tmem_unmap(void *p, size_t len);
/* Bump allocation from the tracker's intern arena (created on first use); NULL on failure. */
void *ll__tmem_arena_alloc(size_t n);
/* Bytes currently mapped by ll__tmem_map plus the intern arena. */
size_t ll__tmem_bytes(void);
/* Drop the intern arena (everything allocated from it). Tables are unmapped by their owners. */
void ll__tmem_arena_reset(void);
/* Carve every later mapping from one region of `reserve` bytes of address space shared with
 * processes forked afterwards, and share this bookkeeping too (ll__tracker_share). Only before
 * anything is mapped: 0, or -1 (nothing changed). */
int ll__tmem_share(size_t reserve);
/* Test hook: when nonzero, every ll__tmem_* request fails as if mmap had. */
extern int ll__tmem_fail;

/* ---- live table (livetable.c): open addressing keyed by pointer, backward-shift deletion ---- */

/* What the tracker keeps per live block. usable >= size (the tracker normalises it). */
typedef struct ll__rec {
  uint64_t size;   /* requested bytes */
  uint64_t usable; /* usable bytes */
  uint32_t tb;     /* traceback id */
} ll__rec_t;

/* A packed 16-byte slot (the main table): key = ptr >> 3 in the low 45 bits of `a` (0: empty),
 * 2 bits of its bucket's overflow count, usable - size in the top 17 bits; size in the low 40
 * bits of `b`, traceback id in its top 24. A record that does not fit (pointer not 8-aligned or
 * >= 2^48, size >= 2^40, slack >= 2^17, id >= 2^24) lives whole in the overflow table instead:
 * exact whatever the values. */
typedef struct ll__live {
  uint64_t a, b;
} ll__live_t;

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
void ll__live_reset(ll__livetab_t *t);
/* Shrink the table when a removal left it under its lower load bound (livetable.c). */
void ll__live_maybe_shrink(ll__livetab_t *t);

/* Layout of a packed slot (livetable.c has the whole story). */
#define LL__LT_KEY_BITS 45
#define LL__LT_KEY_MASK ((1ull << LL__LT_KEY_BITS) - 1)
#define LL__LT_OVF_MASK (3ull << LL__LT_KEY_BITS)
#define LL__LT_SLACK_SHIFT (LL__LT_KEY_BITS + 2)
#define LL__LT_SLACK_MAX ((1ull << (64 - LL__LT_SLACK_SHIFT)) - 1)
#define LL__LT_SIZE_BITS 40
#define LL__LT_SIZE_MASK ((1ull << LL__LT_SIZE_BITS) - 1)
#define LL__LT_TB_LIMIT (1ull << (64 - LL__LT_SIZE_BITS))
#define LL__LT_BUCKET 4
#define LL__LT_GROW_NUM 3 /* grow past 3/4 full */
#define LL__LT_GROW_DEN 4
#define LL__LT_SHRINK_NUM 3 /* shrink below 3/16 */
#define LL__LT_SHRINK_DEN 16
#define LL__LT_PAGE_SLOTS (4096 / sizeof(ll__live_t))

/* Home bucket of a key among n: Fibonacci hashing, then a multiply-shift (no division). */
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

#if defined(__SSE2__)
/* The four `a` words of a bucket as their low and high 32-bit halves, one vector each: the four
 * slots are then compared at once (the key's bits 32..44 and the overflow bits are in the high
 * halves). Pure loads and shuffles: the compiler shares them between the tests of one bucket. */
#include <emmintrin.h>
typedef struct ll__lt_vec {
  __m128i lo, hi;
} ll__lt_vec_t;

static inline ll__lt_vec_t ll__lt_load(const ll__live_t *s) {
  const __m128i *v = (const __m128i *)(const void *)s; /* buckets are 64-byte aligned */
  __m128 e0 = _mm_castsi128_ps(_mm_load_si128(v)), e1 = _mm_castsi128_ps(_mm_load_si128(v + 1));
  __m128 e2 = _mm_castsi128_ps(_mm_load_si128(v + 2)), e3 = _mm_castsi128_ps(_mm_load_si128(v + 3));
  __m128 a01 = _mm_shuffle_ps(e0, e1, _MM_SHUFFLE(1, 0, 1, 0)); /* a0 a1 */
  __m128 a23 = _mm_shuffle_ps(e2, e3, _MM_SHUFFLE(1, 0, 1, 0)); /* a2 a3 */
  ll__lt_vec_t r = {_mm_castps_si128(_mm_shuffle_ps(a01, a23, _MM_SHUFFLE(2, 0, 2, 0))),
                    _mm_castps_si128(_mm_shuffle_ps(a01, a23, _MM_SHUFFLE(3, 1, 3, 1)))};
  return r;
}

/* Bit k set when slot k of the bucket holds key (0: is empty). */
static inline unsigned ll__lt_match(const ll__live_t *s, uint64_t key) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i hi = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_KEY_MASK >> 32)));
  __m128i eq = _mm_and_si128(_mm_cmpeq_epi32(v.lo, _mm_set1_epi32((int)(uint32_t)key)),
                             _mm_cmpeq_epi32(hi, _mm_set1_epi32((int)(uint32_t)(key >> 32))));
  return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(eq));
}

/* Whether any key passes the bucket (nonzero overflow count). */
static inline int ll__lt_ovf_any(const ll__live_t *s) {
  ll__lt_vec_t v = ll__lt_load(s);
  __m128i o = _mm_and_si128(v.hi, _mm_set1_epi32((int)(LL__LT_OVF_MASK >> 32)));
  return _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(o, _mm_setzero_si128()))) != 0xf;
}
#else
/* Bit k set when slot k of the bucket holds key (0: is empty). */
static inline unsigned ll__lt_match(const ll__live_t *s, uint64_t key) {
  return (unsigned)((s[0].a & LL__LT_KEY_MASK) == key) |
         (unsigned)((s[1].a & LL__LT_KEY_MASK) == key) << 1 |
         (unsigned)((s[2].a & LL__LT_KEY_MASK) == key) << 2 |
         (unsigned)((s[3].a & LL__LT_KEY_MASK) == key) << 3;
}

/* Whether any key passes the bucket (nonzero overflow count). */
static inline int ll__lt_ovf_any(const ll__live_t *s) {
  return ((s[0].a | s[1].a | s[2].a | s[3].a) & LL__LT_OVF_MASK) != 0;
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
      ll__live_t *e = &s[__builtin_ctz(m)];
      uint64_t a = e->a, b = e->b;
      out->size = b & LL__LT_SIZE_MASK;
      out->usable = out->size + (a >> LL__LT_SLACK_SHIFT);
      out->tb = (uint32_t)(b >> LL__LT_SIZE_BITS);
      e->a = a & LL__LT_OVF_MASK; /* in its home bucket: no overflow count to fix */
      e->b = 0;
      t->count--;
      if (__builtin_expect(t->count * LL__LT_SHRINK_DEN < t->cap * LL__LT_SHRINK_NUM, 0))
        ll__live_maybe_shrink(t);
      return 1;
    }
    if (!ll__lt_ovf_any(s) && t->wcount == 0) return 0;
  }
  return ll__live_remove(t, ptr, out);
}

LL__HOT_INLINE int ll__live_put_inl(ll__livetab_t *t, uintptr_t ptr, const ll__rec_t *r,
                                    ll__rec_t *old, int *had_old) {
  uint64_t key = ll__lt_key(ptr), slack = r->usable - r->size;
  if (__builtin_expect(key != 0 && t->wcount == 0 && r->size <= LL__LT_SIZE_MASK &&
                           slack <= LL__LT_SLACK_MAX && r->tb < LL__LT_TB_LIMIT &&
                           (t->count + 1) * LL__LT_GROW_DEN <= t->cap * LL__LT_GROW_NUM,
                       1)) {
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
      ll__live_t *e = &s[__builtin_ctz(fe)];
      /* In its home bucket: no overflow count changes; the slot keeps the bucket's bits. */
      e->a = key | (e->a & LL__LT_OVF_MASK) | slack << LL__LT_SLACK_SHIFT;
      e->b = r->size | (uint64_t)r->tb << LL__LT_SIZE_BITS;
      t->count++;
      *had_old = 0;
      return 0;
    }
  }
  return ll__live_put(t, ptr, r, old, had_old);
}

/* ---- interning (intern.c): strings, locations, tracebacks ---------------------------------- */

/* A location key: symbolic locations carry the top bit and a location id; native return
 * addresses are stored as they are (user-space addresses never have the top bit). */
#define LL__KEY_SYM (1ull << 63)

typedef struct ll__str {
  uint32_t id;  /* dense, for per-snapshot string copies */
  uint32_t len;
  char s[];
} ll__str_t;

typedef struct ll__loc {
  const ll__str_t *file;
  const ll__str_t *func;
  uint32_t line;
} ll__loc_t;

/* One interned traceback and its accounting. Peak values are valid when pk_gen is the
 * tracker's current generation; otherwise the current values are also the peak values. */
typedef struct ll__tb {
  const uint64_t *keys; /* nframe location keys, most recent first */
  uint32_t nframe;
  uint32_t total_nframe;
  uint32_t hash;
  uint32_t col; /* its column in the series + 1 (series.h); 0: none; LL__TB_NO_COL: no room */
  uint64_t cur_size, cur_usable, cur_count;
  uint64_t pk_size, pk_usable, pk_count, pk_gen;
  uint64_t tmp_size, tmp_usable, tmp_count;
} ll__tb_t;

#define LL__TB_NO_COL UINT32_MAX

/* (a, b, line) -> value, for the site cache (raw pointers) and the location table (interned
 * strings). */
typedef struct ll__trip {
  const void *a; /* NULL: empty */
  const void *b;
  uint32_t line;
  uint32_t val;
} ll__trip_t;

typedef struct ll__triptab {
  ll__trip_t *slots;
  size_t cap; /* power of two */
  size_t count;
  size_t bytes;
} ll__triptab_t;

typedef struct ll__strent {
  ll__str_t *str; /* NULL: empty */
  uint64_t hash;
} ll__strent_t;

typedef struct ll__intern {
  ll__triptab_t sites; /* (file ptr, func ptr, line) -> location id */
  ll__triptab_t locmap; /* (interned file, interned func, line) -> location id */
  ll__strent_t *strs;  /* string content -> interned string */
  size_t str_cap, str_count, str_bytes;
  ll__loc_t *locs;
  size_t nloc, loc_cap, loc_bytes;
  ll__tb_t *tbs;
  size_t ntb, tb_cap, tb_bytes;
  uint32_t *tbmap; /* traceback content -> id; UINT32_MAX: empty */
  size_t tbmap_cap, tbmap_bytes;
} ll__intern_t;

/* Key of a compile-time site (file/func may be NULL: "<unknown>" / ""). */
int ll__intern_site(ll__intern_t *in, const char *file, const char *func, unsigned line,
                    uint64_t *key);
/* Id of the traceback (keys[0..n), total_nframe), created with zero counters when new. */
int ll__intern_tb(ll__intern_t *in, const uint64_t *keys, uint32_t n, uint32_t total,
                  uint32_t *id);
/* Unmap every table (the intern arena is dropped separately by ll__tmem_arena_reset). */
void ll__intern_reset(ll__intern_t *in);

/* Test hook (tracker.c): make every tracker memory request fail (1) or succeed again (0). */
void ll__tracker_test_fail_memory(int fail);

#endif
