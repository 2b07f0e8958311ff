/* memo_tables.h - Fibonacci and a config validator: recompute, memoise in a hash, or precompute. */
#ifndef LL_MEMO_TABLES_H
#define LL_MEMO_TABLES_H

#include <stddef.h>
#include <stdint.h>

enum mt_variant {
  MT_NAIVE,       /* recompute every time */
  MT_MEMOIZED,    /* a hash memo, one heap entry per distinct key (functools.cache) */
  MT_PRECOMPUTED, /* a dense table of every possible key, filled once */
  MT_VARIANT_COUNT
};

extern const char *const mt_variant_names[MT_VARIANT_COUNT];

#define MT_DEFAULT_FIB 35UL
#define MT_DEFAULT_EVENTS 3000000UL
#define MT_RULES 32u
#define MT_VALUES 65536u

/* ---- the memo: a chained hash table with recency links, like functools.lru_cache ---------- */

typedef struct mt_memo mt_memo;

/* maxsize 0: unbounded (lru_cache(maxsize=None)); else the least recently used entry is
 * evicted to make room. */
mt_memo *mt_memo_new(size_t maxsize);
void mt_memo_free(mt_memo *m);
/* 1 and *value when key is cached (it becomes the most recently used), else 0. */
int mt_memo_get(mt_memo *m, uint64_t key, uint64_t *value);
/* Caches key -> value; key must not be cached already. */
void mt_memo_put(mt_memo *m, uint64_t key, uint64_t value);

struct mt_memo_stats {
  size_t entries;      /* live entries */
  size_t entry_bytes;  /* bytes requested per entry (one malloc each) */
  size_t buckets;      /* bucket array length */
  size_t bucket_bytes; /* bytes of the bucket array */
  uint64_t hits, misses, evictions;
};
void mt_memo_stats(const mt_memo *m, struct mt_memo_stats *out);

/* ---- Fibonacci ---------------------------------------------------------------------------- */

struct mt_fib_report {
  uint64_t value;
  uint64_t calls;          /* calls of the recursive function (naive, memoized) */
  uint64_t additions;      /* additions done (every variant) */
  struct mt_memo_stats memo; /* memoized: the memo just before it was freed */
  size_t table_bytes;      /* precomputed: bytes of the table */
};

/* fib(0) = 0, fib(1) = 1; n <= 93 fits in 64 bits. */
void mt_fib(enum mt_variant v, unsigned n, struct mt_fib_report *out);

/* ---- the config validator ---------------------------------------------------------------- */

/* One validation rule: a value passes when it is in [lo, hi] and its digest, `rounds` rounds of
 * a mixing function seeded by `salt`, is not a multiple of `divisor`. The rounds stand for the
 * expensive part (a regular expression, a schema walk) a memo is meant to save. */
struct mt_rule {
  uint32_t lo, hi;
  uint32_t divisor;
  uint32_t rounds;
  uint64_t salt;
};

/* The rule set and event stream: both from a fixed-seed generator, the same on every run. */
void mt_make_rules(struct mt_rule rules[MT_RULES]);
/* Event i: which rule applies and the value it checks. */
void mt_event(uint64_t i, uint32_t *rule, uint32_t *value);
/* The rule itself, uncached: 1 when valid. */
int mt_rule_check(const struct mt_rule *rule, uint32_t value);

struct mt_validation {
  uint64_t events;
  uint64_t valid;
  uint64_t checksum;         /* depends on every verdict and its position */
  uint64_t evaluations;      /* calls of mt_rule_check */
  struct mt_memo_stats memo; /* memoized: the memo at the end, before it was freed */
  size_t table_bytes;        /* precomputed: bytes of the table */
};

/* Validates events 0 .. events-1. For MT_MEMOIZED, memo_maxsize bounds the memo (0: never),
 * and when keep is not NULL the memo is handed over in *keep instead of freed (a cache that
 * lives as long as the program, as a module-level @lru_cache does); *keep is NULL otherwise. */
void mt_validate(enum mt_variant v, uint64_t events, size_t memo_maxsize, mt_memo **keep,
                 struct mt_validation *out);

#endif
