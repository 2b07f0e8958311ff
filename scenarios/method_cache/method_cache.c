/* method_cache.c - memo table, Algorithms instances and factorial_plus for every variant. */
#include "method_cache.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

const char *const mc_variant_names[MC_VARIANT_COUNT] = {
  [MC_LEAKY] = "leaky",
  [MC_PER_INSTANCE] = "per_instance",
  [MC_VALUE_KEYED] = "value_keyed",
  [MC_LRU] = "lru",
  [MC_PERIODIC_CLEAR] = "periodic_clear",
};

/* What distinguishes the variants; everything else is shared code. */
struct variant_rules {
  bool module_cache;         /* one cache for the whole program, else one per instance */
  bool key_on_instance;      /* key (instance, n) and hold a reference; else key (inc, n) */
  size_t capacity;           /* 0: unbounded */
  bool clear_after_instance; /* the driver empties the cache after each instance */
};

static const struct variant_rules rules[MC_VARIANT_COUNT] = {
  [MC_LEAKY] = {true, true, 0, false},
  [MC_PER_INSTANCE] = {false, false, 0, false},
  [MC_VALUE_KEYED] = {true, false, 0, false},
  [MC_LRU] = {true, false, MC_LRU_CAPACITY, false},
  [MC_PERIODIC_CLEAR] = {true, true, 0, true},
};

struct mc_world {
  enum mc_variant variant;
  struct mc_memo *cache; /* module-level cache; NULL for per_instance */
  mpz_t scratch;         /* each new result is computed here, then copied into the cache */
  uint64_t computed;
  size_t live_instances;
};

struct mc_algorithms {
  long refcount;         /* the caller's reference plus one per cache entry that pins it */
  mc_world *world;
  unsigned long inc;
  struct mc_memo *cache; /* per_instance only */
};

static _Noreturn void out_of_memory(void)
{
  fputs("method_cache: out of memory\n", stderr);
  exit(3);
}

/* ---- the memo: a chained hash table, one heap block per entry (like a dict's key and value
 * objects), with a recency list so the bounded variant can evict in O(1). ------------------- */

struct mc_key {
  mc_algorithms *owner; /* NULL when keyed on the value */
  unsigned long inc;
  unsigned long n;
};

struct mc_entry {
  struct mc_entry *chain;        /* next entry in the same bucket */
  struct mc_entry *newer, *older; /* recency list, newest first */
  struct mc_key key;
  mpz_t value; /* the cached result; GMP keeps its digits in a block of their own */
};

struct mc_memo {
  struct mc_entry **buckets;
  size_t bucket_count; /* a power of two */
  size_t count;
  size_t capacity;   /* 0: unbounded */
  bool pins_owner;   /* each entry holds a reference to key.owner */
  struct mc_entry *newest, *oldest;
};

#define MEMO_MIN_BUCKETS 8

static uint64_t key_hash(const struct mc_key *k)
{
  uint64_t h = (uint64_t)(uintptr_t)k->owner * 0x9e3779b97f4a7c15u;
  h ^= (uint64_t)k->inc * 0xc2b2ae3d27d4eb4fu;
  h ^= (uint64_t)k->n;
  /* splitmix64's finaliser: spreads the bits so the low ones pick the bucket well */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9u;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebu;
  return h ^ (h >> 31);
}

static bool key_equal(const struct mc_key *a, const struct mc_key *b)
{
  return a->owner == b->owner && a->inc == b->inc && a->n == b->n;
}

static struct mc_entry **bucket_of(struct mc_memo *m, const struct mc_key *k)
{
  return &m->buckets[key_hash(k) & (m->bucket_count - 1)];
}

static void memo_set_buckets(struct mc_memo *m, size_t count)
{
  struct mc_entry **buckets = calloc(count, sizeof *buckets); /* the table's bucket array */
  if (!buckets)
    out_of_memory();
  free(m->buckets);
  m->buckets = buckets;
  m->bucket_count = count;
  for (struct mc_entry *e = m->newest; e; e = e->older) {
    struct mc_entry **b = bucket_of(m, &e->key);
    e->chain = *b;
    *b = e;
  }
}

static struct mc_memo *memo_new(size_t capacity, bool pins_owner)
{
  struct mc_memo *m = malloc(sizeof *m);
  if (!m)
    out_of_memory();
  *m = (struct mc_memo){.capacity = capacity, .pins_owner = pins_owner};
  memo_set_buckets(m, MEMO_MIN_BUCKETS);
  return m;
}

static void recency_unlink(struct mc_memo *m, struct mc_entry *e)
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

static void recency_push_newest(struct mc_memo *m, struct mc_entry *e)
{
  e->newer = NULL;
  e->older = m->newest;
  if (m->newest)
    m->newest->newer = e;
  else
    m->oldest = e;
  m->newest = e;
}

/* Free an entry that is already out of the table; drop the reference it held. */
static void entry_destroy(struct mc_memo *m, struct mc_entry *e)
{
  mc_algorithms *owner = m->pins_owner ? e->key.owner : NULL;
  mpz_clear(e->value);
  free(e);
  if (owner)
    mc_algorithms_release(owner);
}

static void memo_remove(struct mc_memo *m, struct mc_entry *e)
{
  struct mc_entry **link = bucket_of(m, &e->key);
  while (*link != e)
    link = &(*link)->chain;
  *link = e->chain;
  recency_unlink(m, e);
  m->count--;
  entry_destroy(m, e);
}

static struct mc_entry *memo_find(struct mc_memo *m, const struct mc_key *k)
{
  for (struct mc_entry *e = *bucket_of(m, k); e; e = e->chain) {
    if (key_equal(&e->key, k)) {
      if (m->capacity) { /* a hit makes the entry the most recently used */
        recency_unlink(m, e);
        recency_push_newest(m, e);
      }
      return e;
    }
  }
  return NULL;
}

/* Add an entry for k and return it with its value not yet initialised: the caller
 * initialises it at once. A full bounded memo first evicts its least recently used entry. */
static struct mc_entry *memo_insert(struct mc_memo *m, const struct mc_key *k)
{
  if (m->capacity && m->count == m->capacity)
    memo_remove(m, m->oldest);
  if (m->count >= m->bucket_count) /* keep at most one entry per bucket on average */
    memo_set_buckets(m, m->bucket_count * 2);
  struct mc_entry *e = malloc(sizeof *e); /* CACHE ENTRY: one block per cached result */
  if (!e)
    out_of_memory();
  e->key = *k;
  struct mc_entry **b = bucket_of(m, k);
  e->chain = *b;
  *b = e;
  recency_push_newest(m, e);
  m->count++;
  if (m->pins_owner)
    k->owner->refcount++; /* the cache now keeps the instance alive */
  return e;
}

/* Destroy every entry (dropping the instances they pinned), leaving the table empty. */
static void memo_drop_entries(struct mc_memo *m)
{
  struct mc_entry *e = m->newest;
  m->newest = m->oldest = NULL;
  m->count = 0;
  while (e) {
    struct mc_entry *older = e->older;
    entry_destroy(m, e);
    e = older;
  }
}

/* Like functools' cache_clear(): empty, and back to the smallest table. */
static void memo_clear(struct mc_memo *m)
{
  memo_drop_entries(m);
  memo_set_buckets(m, MEMO_MIN_BUCKETS);
}

static void memo_free(struct mc_memo *m)
{
  memo_drop_entries(m);
  free(m->buckets);
  free(m);
}

/* ---- the module, the instances, the method -------------------------------------------- */

mc_world *mc_world_new(enum mc_variant variant)
{
  mc_world *w = malloc(sizeof *w);
  if (!w)
    out_of_memory();
  const struct variant_rules *r = &rules[variant];
  *w = (mc_world){.variant = variant};
  mpz_init(w->scratch);
  w->cache = r->module_cache ? memo_new(r->capacity, r->key_on_instance) : NULL;
  return w;
}

void mc_world_free(mc_world *w)
{
  if (w->cache)
    memo_free(w->cache);
  mpz_clear(w->scratch);
  free(w);
}

uint64_t mc_world_computed(const mc_world *w)
{
  return w->computed;
}

size_t mc_world_cached(const mc_world *w)
{
  return w->cache ? w->cache->count : 0;
}

size_t mc_world_live_instances(const mc_world *w)
{
  return w->live_instances;
}

mc_algorithms *mc_algorithms_new(mc_world *w, unsigned long inc)
{
  mc_algorithms *a = malloc(sizeof *a); /* A = Algorithms(inc) */
  if (!a)
    out_of_memory();
  *a = (mc_algorithms){.refcount = 1, .world = w, .inc = inc};
  if (!rules[w->variant].module_cache)
    a->cache = memo_new(0, false); /* fix 1: the cache lives and dies with the instance */
  w->live_instances++;
  return a;
}

void mc_algorithms_release(mc_algorithms *a)
{
  if (--a->refcount > 0)
    return; /* a cache entry still holds it */
  if (a->cache)
    memo_free(a->cache);
  a->world->live_instances--;
  free(a);
}

mpz_srcptr mc_factorial_plus(mc_algorithms *self, unsigned long n)
{
  mc_world *w = self->world;
  const struct variant_rules *r = &rules[w->variant];
  struct mc_memo *cache = r->module_cache ? w->cache : self->cache;
  struct mc_key key = {.owner = r->key_on_instance ? self : NULL,
                       .inc = r->key_on_instance ? 0 : self->inc,
                       .n = n};

  struct mc_entry *hit = memo_find(cache, &key);
  if (hit)
    return hit->value;

  if (n > 1) {
    mpz_mul_ui(w->scratch, mc_factorial_plus(self, n - 1), n);
    mpz_add_ui(w->scratch, w->scratch, self->inc);
  } else {
    mpz_set_ui(w->scratch, 1 + self->inc);
  }
  struct mc_entry *e = memo_insert(cache, &key); /* CACHE INSERTION: the result is kept */
  mpz_init_set(e->value, w->scratch);
  w->computed++;
  return e->value;
}

void mc_generate_last_digits(mc_world *w, unsigned long plus_range, unsigned long factorial_range,
                             void (*sink)(void *ctx, unsigned digit), void *ctx)
{
  for (unsigned long i = 0; i < plus_range; i++) {
    mc_algorithms *a = mc_algorithms_new(w, i);
    for (unsigned long j = 0; j < factorial_range; j++)
      sink(ctx, (unsigned)mpz_fdiv_ui(mc_factorial_plus(a, j), 10));
    mc_algorithms_release(a); /* A goes away here, unless a cache still holds it */
    if (rules[w->variant].clear_after_instance)
      memo_clear(w->cache); /* fix 4: factorial_plus.cache_clear() */
  }
}

static void count_digit(void *ctx, unsigned digit)
{
  ((uint64_t *)ctx)[digit]++;
}

void mc_count_last_digits(mc_world *w, unsigned long plus_range, unsigned long factorial_range,
                          uint64_t counts[10])
{
  mc_generate_last_digits(w, plus_range, factorial_range, count_digit, counts);
}
