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

typedef struct ll__live {
  uintptr_t ptr;   /* 0: empty slot */
  uint64_t size;   /* requested bytes */
  uint32_t tb;     /* traceback id */
  uint32_t slack;  /* usable - size, saturated at UINT32_MAX */
} ll__live_t;

typedef struct ll__livetab {
  ll__live_t *slots;
  size_t cap;   /* slots (any number: indexes come from a multiply-shift, not a mask) */
  size_t count; /* occupied slots */
  size_t bytes; /* mapped length of slots */
} ll__livetab_t;

ll__live_t *ll__live_find(ll__livetab_t *t, uintptr_t ptr);
/* The slot of ptr: the existing one (*existed = 1) or a new one with ptr set, other fields
 * zero (*existed = 0). NULL when ptr is not present and the table could not grow. */
ll__live_t *ll__live_upsert(ll__livetab_t *t, uintptr_t ptr, int *existed);
/* Remove ptr; 1 and *out filled when it was present, 0 otherwise. May shrink the table. */
int ll__live_remove(ll__livetab_t *t, uintptr_t ptr, ll__live_t *out);
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
