/* intern.h - the tracker's interning (intern.c): strings, source locations and tracebacks, with per-traceback accounting. */
#ifndef LEAKLAB_INTERN_H
#define LEAKLAB_INTERN_H
/*
 * Contract: nothing here locks; every function is called with the tracker's mutex held (or from
 * a single-threaded test). Memory comes from tracker_mem.h (never malloc). Functions that need
 * memory return 0 or LL_ENOMEM and leave the tables consistent. Ids are dense (0, 1, 2, ...),
 * equal contents get equal ids, and interned strings and keys stay put until
 * ll__intern_reset (with ll__tmem_arena_reset).
 */
#include <stddef.h>
#include <stdint.h>

#include <leaklab/leaklab.h>

#include "engine.h"

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
 * tracker's current generation; otherwise the current values are also the peak values. all_*
 * count every allocation recorded with this traceback since start (or ll_clear_traces), freed
 * or not: a realloc that moves or resizes a block is one allocation of the new size (as
 * heaptrack counts it: its old block is a free), a failed realloc none. They sit beside cur_*,
 * which every allocation changes too. */
typedef struct ll__tb {
  const uint64_t *keys; /* nframe location keys, most recent first */
  uint32_t nframe;
  uint32_t total_nframe;
  uint32_t hash;
  uint32_t col; /* its column in the series + 1 (series.h); 0: none; LL__TB_NO_COL: no room */
  uint64_t cur_size, cur_usable, cur_count;
  uint64_t all_size, all_usable, all_count;
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
  uint64_t *scratch; /* location keys of the stack being interned (ll__intern_stack) */
  size_t scratch_cap, scratch_bytes;
} ll__intern_t;

/* Key of a compile-time site (file/func may be NULL: "<unknown>" / ""). */
int ll__intern_site(ll__intern_t *in, const char *file, const char *func, unsigned line,
                    uint64_t *key);
/* Id of the traceback (keys[0..n), total_nframe), created with zero counters when new. */
int ll__intern_tb(ll__intern_t *in, const uint64_t *keys, uint32_t n, uint32_t total,
                  uint32_t *id);
/* Id of a recorded stack: compile-time sites (sites != NULL) or native return addresses (ips),
 * n frames of which the first `limit` are kept (total_nframe n); no frames at all is one
 * unknown frame. With ips, a non-NULL cache is then filled with the stack and its id, stamped
 * gen (the tracker's traceback generation), when the id is below LL__TBCACHE_ID_LIMIT. */
int ll__intern_stack(ll__intern_t *in, const ll_site_t *sites, const uintptr_t *ips, int n,
                     int limit, ll__tbcache_t *cache, uint64_t gen, uint32_t *id);
/* The stack cache only holds ids below this (2^24): those a live-table slot packs (livetable.h),
 * so the tracker's fast path takes a cached id as it is. */
#define LL__TBCACHE_ID_LIMIT (1u << 24)
/* Unmap every table (the intern arena is dropped separately by ll__tmem_arena_reset). */
void ll__intern_reset(ll__intern_t *in);

#endif
