/* intern.c - interning of strings, source locations and tracebacks for the tracker. */
#include <string.h>

#include <leaklab/leaklab.h>

#include "hash.h"
#include "intern.h"
#include "tracker_mem.h"

/* Grow a dense array (locations, tracebacks) to hold one more element, by remapping. */
static int array_reserve(void **arr, size_t *cap, size_t *bytes, size_t n, size_t elem) {
  if (n < *cap) return 0;
  size_t want = *cap ? *cap * 2 : 4096 / elem;
  size_t len;
  void *p = ll__tmem_map(want * elem, &len);
  if (p == NULL) return LL_ENOMEM;
  if (*arr != NULL) memcpy(p, *arr, n * elem);
  ll__tmem_unmap(*arr, *bytes);
  *arr = p;
  *cap = len / elem;
  *bytes = len;
  return 0;
}

/* ---- (a, b, line) tables ---------------------------------------------------------------- */

static size_t trip_hash(const void *a, const void *b, uint32_t line) {
  return (size_t)ll__mix64((uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)b ^
                       ((uint64_t)line << 32));
}

static int trip_find(const ll__triptab_t *t, const void *a, const void *b, uint32_t line,
                     uint32_t *val) {
  if (t->cap == 0) return 0;
  size_t mask = t->cap - 1;
  for (size_t i = trip_hash(a, b, line) & mask;; i = (i + 1) & mask) {
    const ll__trip_t *e = &t->slots[i];
    if (e->a == NULL) return 0;
    if (e->a == a && e->b == b && e->line == line) {
      *val = e->val;
      return 1;
    }
  }
}

static void trip_put(ll__trip_t *slots, size_t cap, const ll__trip_t *e) {
  size_t mask = cap - 1;
  size_t i = trip_hash(e->a, e->b, e->line) & mask;
  while (slots[i].a != NULL) i = (i + 1) & mask;
  slots[i] = *e;
}

/* Make room for one more entry (load <= 1/2: these tables are small and probed often). */
static int trip_reserve(ll__triptab_t *t) {
  if ((t->count + 1) * 2 <= t->cap) return 0;
  size_t want = t->cap ? t->cap * 2 : 4096 / sizeof(ll__trip_t);
  size_t cap = 1;
  while (cap < want) cap <<= 1;
  size_t len;
  ll__trip_t *slots = ll__tmem_map(cap * sizeof(ll__trip_t), &len);
  if (slots == NULL) return LL_ENOMEM;
  for (size_t k = 0; k < t->cap; k++)
    if (t->slots[k].a != NULL) trip_put(slots, cap, &t->slots[k]);
  ll__tmem_unmap(t->slots, t->bytes);
  t->slots = slots;
  t->cap = cap;
  t->bytes = len;
  return 0;
}

static void trip_reset(ll__triptab_t *t) {
  ll__tmem_unmap(t->slots, t->bytes);
  memset(t, 0, sizeof *t);
}

/* ---- strings ------------------------------------------------------------------------------- */

static uint64_t str_hash(const char *s, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, finished with a mixer */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return ll__mix64(h ^ len);
}

static int str_reserve(ll__intern_t *in) {
  if ((in->str_count + 1) * 2 <= in->str_cap) return 0;
  size_t cap = in->str_cap ? in->str_cap * 2 : 4096 / sizeof(ll__strent_t);
  size_t len;
  ll__strent_t *slots = ll__tmem_map(cap * sizeof(ll__strent_t), &len);
  if (slots == NULL) return LL_ENOMEM;
  for (size_t k = 0; k < in->str_cap; k++) {
    if (in->strs[k].str == NULL) continue;
    size_t i = in->strs[k].hash & (cap - 1);
    while (slots[i].str != NULL) i = (i + 1) & (cap - 1);
    slots[i] = in->strs[k];
  }
  ll__tmem_unmap(in->strs, in->str_bytes);
  in->strs = slots;
  in->str_cap = cap;
  in->str_bytes = len;
  return 0;
}

static int intern_str(ll__intern_t *in, const char *s, const ll__str_t **out) {
  size_t len = strlen(s);
  if (len > UINT32_MAX) len = UINT32_MAX; /* absurd names are cut, not refused */
  uint64_t h = str_hash(s, len);
  if (str_reserve(in) != 0) return LL_ENOMEM;
  size_t mask = in->str_cap - 1;
  size_t i = h & mask;
  for (; in->strs[i].str != NULL; i = (i + 1) & mask) {
    const ll__str_t *c = in->strs[i].str;
    if (in->strs[i].hash == h && c->len == len && memcmp(c->s, s, len) == 0) {
      *out = c;
      return 0;
    }
  }
  ll__str_t *c = ll__tmem_arena_alloc(sizeof(ll__str_t) + len + 1);
  if (c == NULL) return LL_ENOMEM;
  c->id = (uint32_t)in->str_count;
  c->len = (uint32_t)len;
  memcpy(c->s, s, len);
  c->s[len] = '\0';
  in->strs[i].str = c;
  in->strs[i].hash = h;
  in->str_count++;
  *out = c;
  return 0;
}

/* ---- locations ----------------------------------------------------------------------------- */

int ll__intern_site(ll__intern_t *in, const char *file, const char *func, unsigned line,
                    uint64_t *key) {
  static const char unknown_file[] = "<unknown>";
  static const char unknown_func[] = "";
  uint32_t id;
  if (file == NULL) file = unknown_file;
  if (func == NULL) func = unknown_func;
  /* Fast path: the same literals at the same line, as every call of one hook site has. */
  if (trip_find(&in->sites, file, func, line, &id)) {
    *key = LL__KEY_SYM | id;
    return 0;
  }
  /* Slow path, once per (file pointer, func pointer, line): equal strings from different
   * translation units have different addresses but must be one location. */
  const ll__str_t *f, *fn;
  if (intern_str(in, file, &f) != 0 || intern_str(in, func, &fn) != 0) return LL_ENOMEM;
  if (!trip_find(&in->locmap, f, fn, line, &id)) {
    if (trip_reserve(&in->locmap) != 0 ||
        array_reserve((void **)&in->locs, &in->loc_cap, &in->loc_bytes, in->nloc,
                      sizeof(ll__loc_t)) != 0)
      return LL_ENOMEM;
    id = (uint32_t)in->nloc++;
    in->locs[id].file = f;
    in->locs[id].func = fn;
    in->locs[id].line = line;
    ll__trip_t e = {f, fn, line, id};
    trip_put(in->locmap.slots, in->locmap.cap, &e);
    in->locmap.count++;
  }
  if (trip_reserve(&in->sites) == 0) { /* no room to cache: still a valid answer */
    ll__trip_t e = {file, func, line, id};
    trip_put(in->sites.slots, in->sites.cap, &e);
    in->sites.count++;
  }
  *key = LL__KEY_SYM | id;
  return 0;
}

/* ---- tracebacks ---------------------------------------------------------------------------- */

static uint32_t tb_hash(const uint64_t *keys, uint32_t n, uint32_t total) {
  uint64_t h = ll__mix64(((uint64_t)total << 32) | n);
  for (uint32_t i = 0; i < n; i++) h = ll__mix64(h ^ keys[i]) + i;
  return (uint32_t)(h ^ (h >> 32));
}

static int tbmap_reserve(ll__intern_t *in) {
  if ((in->ntb + 1) * 2 <= in->tbmap_cap) return 0;
  size_t cap = in->tbmap_cap ? in->tbmap_cap * 2 : 4096 / sizeof(uint32_t);
  size_t len;
  uint32_t *slots = ll__tmem_map(cap * sizeof(uint32_t), &len);
  if (slots == NULL) return LL_ENOMEM;
  memset(slots, 0xff, cap * sizeof(uint32_t));
  for (size_t id = 0; id < in->ntb; id++) {
    size_t i = in->tbs[id].hash & (cap - 1);
    while (slots[i] != UINT32_MAX) i = (i + 1) & (cap - 1);
    slots[i] = (uint32_t)id;
  }
  ll__tmem_unmap(in->tbmap, in->tbmap_bytes);
  in->tbmap = slots;
  in->tbmap_cap = cap;
  in->tbmap_bytes = len;
  return 0;
}

int ll__intern_tb(ll__intern_t *in, const uint64_t *keys, uint32_t n, uint32_t total,
                  uint32_t *id) {
  uint32_t h = tb_hash(keys, n, total);
  if (in->tbmap_cap != 0) {
    size_t mask = in->tbmap_cap - 1;
    for (size_t i = h & mask; in->tbmap[i] != UINT32_MAX; i = (i + 1) & mask) {
      const ll__tb_t *t = &in->tbs[in->tbmap[i]];
      if (t->hash == h && t->nframe == n && t->total_nframe == total &&
          memcmp(t->keys, keys, n * sizeof *keys) == 0) {
        *id = in->tbmap[i];
        return 0;
      }
    }
  }
  if (in->ntb >= UINT32_MAX - 1) return LL_ENOMEM; /* ids must fit, UINT32_MAX marks empty */
  if (tbmap_reserve(in) != 0 ||
      array_reserve((void **)&in->tbs, &in->tb_cap, &in->tb_bytes, in->ntb, sizeof(ll__tb_t)) != 0)
    return LL_ENOMEM;
  uint64_t *copy = ll__tmem_arena_alloc(n * sizeof *keys);
  if (copy == NULL) return LL_ENOMEM;
  memcpy(copy, keys, n * sizeof *keys);
  uint32_t nid = (uint32_t)in->ntb++;
  ll__tb_t *t = &in->tbs[nid];
  memset(t, 0, sizeof *t);
  t->keys = copy;
  t->nframe = n;
  t->total_nframe = total;
  t->hash = h;
  size_t mask = in->tbmap_cap - 1;
  size_t i = h & mask;
  while (in->tbmap[i] != UINT32_MAX) i = (i + 1) & mask;
  in->tbmap[i] = nid;
  *id = nid;
  return 0;
}

/* ---- recorded stacks ------------------------------------------------------------------------ */

static uint64_t *scratch(ll__intern_t *in, size_t n) {
  if (n <= in->scratch_cap) return in->scratch;
  size_t len;
  uint64_t *p = ll__tmem_map(n * sizeof *p, &len);
  if (p == NULL) return NULL;
  ll__tmem_unmap(in->scratch, in->scratch_bytes);
  in->scratch = p;
  in->scratch_cap = len / sizeof *p;
  in->scratch_bytes = len;
  return p;
}

int ll__intern_stack(ll__intern_t *in, const ll_site_t *sites, const uintptr_t *ips, int n,
                     int limit, ll__tbcache_t *cache, uint64_t gen, uint32_t *id) {
  static const ll_site_t unknown = {NULL, NULL, 0};
  int total = n;
  if (total < 1 || (sites == NULL && ips == NULL)) { /* no frames: one unknown */
    sites = &unknown;
    total = 1;
  }
  uint32_t kept = (uint32_t)(total < limit ? total : limit);
  uint64_t *keys = scratch(in, kept);
  if (keys == NULL) return LL_ENOMEM;
  for (uint32_t i = 0; i < kept; i++) {
    if (sites != NULL) {
      if (ll__intern_site(in, sites[i].file, sites[i].func, sites[i].line, &keys[i]) != 0)
        return LL_ENOMEM;
    } else {
      keys[i] = (uint64_t)ips[i] & ~LL__KEY_SYM;
    }
  }
  int rc = ll__intern_tb(in, keys, kept, (uint32_t)total, id);
  if (rc == 0 && sites == NULL && cache != NULL && kept <= LL__TBCACHE_MAX && *id < LL__TBCACHE_ID_LIMIT) {
    memcpy(cache->ips, ips, kept * sizeof *ips);
    cache->n = kept;
    cache->total = (uint32_t)total;
    cache->id = *id;
    cache->gen = gen;
  }
  return rc;
}

void ll__intern_reset(ll__intern_t *in) {
  trip_reset(&in->sites);
  trip_reset(&in->locmap);
  ll__tmem_unmap(in->strs, in->str_bytes);
  ll__tmem_unmap(in->locs, in->loc_bytes);
  ll__tmem_unmap(in->tbs, in->tb_bytes);
  ll__tmem_unmap(in->tbmap, in->tbmap_bytes);
  ll__tmem_unmap(in->scratch, in->scratch_bytes);
  memset(in, 0, sizeof *in);
}
