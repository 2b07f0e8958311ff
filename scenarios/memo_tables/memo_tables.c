/* memo_tables.c - recomputation, an lru_cache-like hash memo, and dense precomputed tables. */
#include "memo_tables.h"

#include <stdio.h>
#include <stdlib.h>

const char *const mt_variant_names[MT_VARIANT_COUNT] = {
  [MT_NAIVE] = "naive",
  [MT_MEMOIZED] = "memoized",
  [MT_PRECOMPUTED] = "precomputed",
};

static _Noreturn void out_of_memory(void)
{
  fputs("memo_tables: out of memory\n", stderr);
  exit(3);
}

/* splitmix64's finaliser: a cheap, well-mixed 64-bit hash, also the generator's output step. */
static uint64_t mix64(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  x ^= x >> 31;
  return x;
}

/* ---- the memo ----------------------------------------------------------------------------- */

/* One cached result. Like a CPython lru_cache link, each entry is its own heap block carrying
 * its key, its result, a hash-chain link and two recency links: 40 bytes per cached answer. */
struct mt_entry {
  struct mt_entry *chain;        /* next entry in the same bucket */
  struct mt_entry *older, *newer; /* recency list, for eviction */
  uint64_t key;
  uint64_t value;
};

struct mt_memo {
  struct mt_entry **buckets;
  size_t nbuckets; /* a power of two */
  size_t count;
  size_t maxsize; /* 0: unbounded */
  struct mt_entry *newest, *oldest;
  uint64_t hits, misses, evictions;
};

static size_t bucket_of(const mt_memo *m, uint64_t key)
{
  return (size_t)(mix64(key) & (m->nbuckets - 1));
}

/* A fresh bucket array of n slots, every entry rehashed into it; the old array is freed. */
static void memo_set_buckets(mt_memo *m, size_t n)
{
  struct mt_entry **fresh = calloc(n, sizeof *fresh); /* MEMO BUCKETS: grows by doubling */
  if (!fresh)
    out_of_memory();
  struct mt_entry **old = m->buckets;
  size_t old_n = m->nbuckets;
  m->buckets = fresh;
  m->nbuckets = n;
  for (size_t i = 0; i < old_n; i++) {
    for (struct mt_entry *e = old[i], *next; e; e = next) {
      next = e->chain;
      size_t b = bucket_of(m, e->key);
      e->chain = fresh[b];
      fresh[b] = e;
    }
  }
  free(old);
}

mt_memo *mt_memo_new(size_t maxsize)
{
  mt_memo *m = calloc(1, sizeof *m);
  if (!m)
    out_of_memory();
  m->maxsize = maxsize;
  memo_set_buckets(m, 8);
  return m;
}

void mt_memo_free(mt_memo *m)
{
  if (!m)
    return;
  for (struct mt_entry *e = m->newest, *next; e; e = next) {
    next = e->older;
    free(e);
  }
  free(m->buckets);
  free(m);
}

static void unlink_recency(mt_memo *m, struct mt_entry *e)
{
  if (e->newer)
    e->newer->older = e->older;
  else
    m->newest = e->older;
  if (e->older)
    e->older->newer = e->newer;
  else
    m->oldest = e->newer;
}

static void link_newest(mt_memo *m, struct mt_entry *e)
{
  e->newer = NULL;
  e->older = m->newest;
  if (m->newest)
    m->newest->newer = e;
  else
    m->oldest = e;
  m->newest = e;
}

int mt_memo_get(mt_memo *m, uint64_t key, uint64_t *value)
{
  for (struct mt_entry *e = m->buckets[bucket_of(m, key)]; e; e = e->chain) {
    if (e->key == key) {
      if (m->newest != e) {
        unlink_recency(m, e);
        link_newest(m, e);
      }
      *value = e->value;
      m->hits++;
      return 1;
    }
  }
  m->misses++;
  return 0;
}

static void evict_oldest(mt_memo *m)
{
  struct mt_entry *victim = m->oldest;
  struct mt_entry **link = &m->buckets[bucket_of(m, victim->key)];
  while (*link != victim)
    link = &(*link)->chain;
  *link = victim->chain;
  unlink_recency(m, victim);
  free(victim);
  m->count--;
  m->evictions++;
}

void mt_memo_put(mt_memo *m, uint64_t key, uint64_t value)
{
  if (m->maxsize && m->count == m->maxsize)
    evict_oldest(m);
  struct mt_entry *e = malloc(sizeof *e); /* MEMO ENTRY: one block per distinct key */
  if (!e)
    out_of_memory();
  size_t b = bucket_of(m, key);
  *e = (struct mt_entry){.chain = m->buckets[b], .key = key, .value = value};
  m->buckets[b] = e;
  link_newest(m, e);
  /* Load factor 1, as dicts keep theirs below 2/3: chains stay short, the array stays big. */
  if (++m->count > m->nbuckets)
    memo_set_buckets(m, m->nbuckets * 2);
}

void mt_memo_stats(const mt_memo *m, struct mt_memo_stats *out)
{
  *out = (struct mt_memo_stats){
    .entries = m->count,
    .entry_bytes = sizeof(struct mt_entry),
    .buckets = m->nbuckets,
    .bucket_bytes = m->nbuckets * sizeof *m->buckets,
    .hits = m->hits,
    .misses = m->misses,
    .evictions = m->evictions,
  };
}

/* ---- Fibonacci ---------------------------------------------------------------------------- */

static uint64_t fib_naive(unsigned n, struct mt_fib_report *r)
{
  r->calls++;
  if (n < 2)
    return n;
  r->additions++;
  return fib_naive(n - 1, r) + fib_naive(n - 2, r);
}

/* @cache on the recursive function: every call, hit or miss, goes through the memo. */
static uint64_t fib_memoized(mt_memo *m, unsigned n, struct mt_fib_report *r)
{
  r->calls++;
  uint64_t v;
  if (mt_memo_get(m, n, &v))
    return v;
  if (n < 2) {
    v = n;
  } else {
    v = fib_memoized(m, n - 1, r);
    v += fib_memoized(m, n - 2, r);
    r->additions++;
  }
  mt_memo_put(m, n, v);
  return v;
}

void mt_fib(enum mt_variant v, unsigned n, struct mt_fib_report *out)
{
  *out = (struct mt_fib_report){0};
  switch (v) {
  case MT_NAIVE:
    out->value = fib_naive(n, out);
    break;
  case MT_MEMOIZED: {
    mt_memo *m = mt_memo_new(0);
    out->value = fib_memoized(m, n, out);
    mt_memo_stats(m, &out->memo);
    mt_memo_free(m);
    break;
  }
  case MT_PRECOMPUTED:
  default: {
    /* Bottom-up: every value from 0 to n, each from the two before it. */
    out->table_bytes = ((size_t)n + 1) * sizeof(uint64_t);
    uint64_t *table = malloc(out->table_bytes); /* FIB TABLE: n + 1 values */
    if (!table)
      out_of_memory();
    table[0] = 0;
    if (n >= 1)
      table[1] = 1;
    for (unsigned k = 2; k <= n; k++) {
      table[k] = table[k - 1] + table[k - 2];
      out->additions++;
    }
    out->value = table[n];
    free(table);
    break;
  }
  }
}

/* ---- the config validator ---------------------------------------------------------------- */

void mt_make_rules(struct mt_rule rules[MT_RULES])
{
  uint64_t s = 0x6d656d6f7461626cu; /* a fixed seed: the same rules on every run */
  for (unsigned r = 0; r < MT_RULES; r++) {
    uint64_t a = mix64(s += 0x9e3779b97f4a7c15u), b = mix64(s += 0x9e3779b97f4a7c15u);
    rules[r] = (struct mt_rule){
      .lo = (uint32_t)(a % (MT_VALUES / 4)),
      .hi = MT_VALUES - 1 - (uint32_t)((a >> 20) % (MT_VALUES / 4)),
      .divisor = 3 + (uint32_t)((a >> 40) % 5),
      .rounds = 48 + (uint32_t)((a >> 50) % 32),
      .salt = b,
    };
  }
}

void mt_event(uint64_t i, uint32_t *rule, uint32_t *value)
{
  uint64_t h = mix64(i * 0x9e3779b97f4a7c15u + 0x6576656e7473u);
  *rule = (uint32_t)((h >> 32) % MT_RULES);
  *value = (uint32_t)(h % MT_VALUES);
}

int mt_rule_check(const struct mt_rule *rule, uint32_t value)
{
  uint64_t digest = value ^ rule->salt;
  for (uint32_t i = 0; i < rule->rounds; i++)
    digest = mix64(digest);
  return value >= rule->lo && value <= rule->hi && digest % rule->divisor != 0;
}

void mt_validate(enum mt_variant v, uint64_t events, size_t memo_maxsize, mt_memo **keep,
                 struct mt_validation *out)
{
  struct mt_rule rules[MT_RULES];
  mt_make_rules(rules);
  *out = (struct mt_validation){.events = events};

  mt_memo *memo = NULL;
  uint8_t *table = NULL;
  if (v == MT_MEMOIZED)
    memo = mt_memo_new(memo_maxsize);
  if (v == MT_PRECOMPUTED) {
    /* Every (rule, value) pair, one byte each, computed before the first event is read. */
    out->table_bytes = (size_t)MT_RULES * MT_VALUES;
    table = malloc(out->table_bytes); /* VALIDATION TABLE: rules x values verdicts */
    if (!table)
      out_of_memory();
    for (uint32_t r = 0; r < MT_RULES; r++)
      for (uint32_t x = 0; x < MT_VALUES; x++)
        table[(size_t)r * MT_VALUES + x] = (uint8_t)mt_rule_check(&rules[r], x);
    out->evaluations = out->table_bytes;
  }

  uint64_t checksum = 0xcbf29ce484222325u;
  for (uint64_t i = 0; i < events; i++) {
    uint32_t r, x;
    mt_event(i, &r, &x);
    int ok;
    if (v == MT_PRECOMPUTED) {
      ok = table[(size_t)r * MT_VALUES + x];
    } else if (v == MT_MEMOIZED) {
      uint64_t key = (uint64_t)r * MT_VALUES + x, cached;
      if (mt_memo_get(memo, key, &cached)) {
        ok = (int)cached;
      } else {
        ok = mt_rule_check(&rules[r], x);
        out->evaluations++;
        mt_memo_put(memo, key, (uint64_t)ok);
      }
    } else {
      ok = mt_rule_check(&rules[r], x);
      out->evaluations++;
    }
    out->valid += (uint64_t)ok;
    checksum = (checksum ^ (uint64_t)ok) * 0x100000001b3u; /* FNV-1a over the verdicts, in order */
  }
  out->checksum = checksum;

  if (memo)
    mt_memo_stats(memo, &out->memo);
  if (keep)
    *keep = memo;
  else
    mt_memo_free(memo);
  free(table);
}
