/* method_cache.h - memray's exercise 3 in C: a memoised factorial_plus and its five caches. */
#ifndef LL_METHOD_CACHE_H
#define LL_METHOD_CACHE_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

/* The five versions of the program: the leak and the four ways of fixing it. */
enum mc_variant {
  MC_LEAKY,          /* one module-level cache keyed on (instance, n): pins every instance */
  MC_PER_INSTANCE,   /* each instance owns its cache; it goes away with the instance */
  MC_VALUE_KEYED,    /* module-level cache keyed on (inc, n): pins nothing, still unbounded */
  MC_LRU,            /* module-level cache keyed on (inc, n), at most MC_LRU_CAPACITY entries */
  MC_PERIODIC_CLEAR, /* the leaky cache, emptied after each instance */
  MC_VARIANT_COUNT
};

#define MC_LRU_CAPACITY 10000

/* The original program's two runs: (plus_range, factorial_range). */
#define MC_RUN1_RANGE 500UL
#define MC_RUN2_RANGE 1000UL

/* Variant names in enum order, as --variant and --list-variants spell them. */
extern const char *const mc_variant_names[MC_VARIANT_COUNT];

/* The "module": which variant runs, and the module-level cache when the variant has one. */
typedef struct mc_world mc_world;

/* An `Algorithms` instance: reference counted, so a cache can keep it alive. */
typedef struct mc_algorithms mc_algorithms;

mc_world *mc_world_new(enum mc_variant variant);
/* Frees the module-level cache (dropping the instances it pins) and the world. The lesson
 * program never calls this: like functools.cache, the cache lives until the process ends. */
void mc_world_free(mc_world *w);
/* Results computed (cache misses) since the world was made. */
uint64_t mc_world_computed(const mc_world *w);
/* Entries in the module-level cache now (0 when the variant has none). */
size_t mc_world_cached(const mc_world *w);
/* Instances made and not yet freed. */
size_t mc_world_live_instances(const mc_world *w);

/* Algorithms(inc): the caller holds one reference. */
mc_algorithms *mc_algorithms_new(mc_world *w, unsigned long inc);
/* Drop the caller's reference; the instance is freed when no cache holds it either. */
void mc_algorithms_release(mc_algorithms *a);

/* n * factorial_plus(n - 1) + inc for n > 1, else 1 + inc; memoised. The result belongs to the
 * cache: read it before the next call. */
mpz_srcptr mc_factorial_plus(mc_algorithms *self, unsigned long n);

/* The original generator: for i in range(plus_range), instance A(i); for j in
 * range(factorial_range), factorial_plus(j) % 10 is handed to sink. */
void mc_generate_last_digits(mc_world *w, unsigned long plus_range, unsigned long factorial_range,
                             void (*sink)(void *ctx, unsigned digit), void *ctx);

/* mc_generate_last_digits into counts[digit] (counts are added to, not reset). */
void mc_count_last_digits(mc_world *w, unsigned long plus_range, unsigned long factorial_range,
                          uint64_t counts[10]);

#endif
