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
  uint32_t pad_;
  uint64_t cur_size, cur_usable, cur_count;
  uint64_t pk_size, pk_usable, pk_count, pk_gen;
  uint64_t tmp_size, tmp_usable, tmp_count;
} ll__tb_t;

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
