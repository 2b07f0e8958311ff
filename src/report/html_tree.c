/* html_tree.c - the HTML report's frame names and flamegraph trees: each traceback named once and ranked in two path orders, each moment's trees read off its traces in rank order. */
#include "html_tree.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- frame names: one entry per distinct (function, file, line) across every tree ---------- */

/* The last frame seen at a place of the direct-mapped cache: the same strings (a symboliser
 * copies them once per address), line and address are the same name, found without hashing two
 * strings (a 460k-traceback capture names tens of millions of frames). */
typedef struct recent {
  const char *function, *filename;
  uint64_t ip;
  uint32_t lineno, id; /* id + 1, 0: empty */
} recent_t;
#define RECENT_SLOTS 65536

struct ll__html_names {
  const ll_frame_t **items; /* frames of the input's snapshots, which outlive the report */
  size_t n, cap;
  uint32_t *slots;          /* open addressing: item index + 1, 0 empty */
  size_t nslot;             /* a power of two, kept at most half full */
  recent_t recent[RECENT_SLOTS];
};
typedef ll__html_names_t names_t;

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;
}

/* Frames known only by their address differ by it; symbolised ones by what is printed. */
static int frame_anonymous(const ll_frame_t *f) { return f->lineno == 0 && f->function[0] == '\0'; }

static uint64_t frame_hash(const ll_frame_t *f) {
  uint64_t h = fnv(fnv(0xcbf29ce484222325ull, f->function), f->filename);
  h = (h ^ f->lineno) * 0x100000001b3ull;
  if (frame_anonymous(f)) h = (h ^ f->ip) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static int frame_same(const ll_frame_t *a, const ll_frame_t *b) {
  if (a->lineno != b->lineno || strcmp(a->function, b->function) != 0 ||
      strcmp(a->filename, b->filename) != 0)
    return 0;
  return !frame_anonymous(a) || a->ip == b->ip;
}

static int names_grow(names_t *nm) {
  size_t nslot = nm->nslot ? nm->nslot * 2 : 1024;
  uint32_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return LL_ENOMEM;
  for (size_t i = 0; i < nm->n; i++) {
    size_t s = frame_hash(nm->items[i]) & (nslot - 1);
    while (slots[s] != 0) s = (s + 1) & (nslot - 1);
    slots[s] = (uint32_t)i + 1;
  }
  free(nm->slots);
  nm->slots = slots;
  nm->nslot = nslot;
  return 0;
}

static int name_lookup(names_t *nm, const ll_frame_t *f, uint32_t *out) {
  if (nm->n * 2 >= nm->nslot && names_grow(nm) != 0) return LL_ENOMEM;
  size_t s = frame_hash(f) & (nm->nslot - 1);
  for (; nm->slots[s] != 0; s = (s + 1) & (nm->nslot - 1))
    if (frame_same(nm->items[nm->slots[s] - 1], f)) {
      *out = nm->slots[s] - 1;
      return 0;
    }
  if (nm->n == nm->cap) {
    size_t cap = nm->cap ? nm->cap * 2 : 1024;
    const ll_frame_t **items = realloc(nm->items, cap * sizeof *items);
    if (items == NULL) return LL_ENOMEM;
    nm->items = items;
    nm->cap = cap;
  }
  nm->items[nm->n] = f;
  nm->slots[s] = (uint32_t)nm->n + 1;
  *out = (uint32_t)nm->n++;
  return 0;
}

int ll__html_name(names_t *nm, const ll_frame_t *f, uint32_t *out) {
  uint64_t h = ((uint64_t)(uintptr_t)f->function * 0x9e3779b97f4a7c15ull) ^
               ((uint64_t)(uintptr_t)f->filename * 0xc2b2ae3d27d4eb4full) ^
               ((f->ip + f->lineno) * 0x165667b19e3779f9ull);
  recent_t *r = &nm->recent[(h ^ (h >> 32)) & (RECENT_SLOTS - 1)];
  if (r->id != 0 && r->function == f->function && r->filename == f->filename &&
      r->lineno == f->lineno && r->ip == f->ip) {
    *out = r->id - 1;
    return 0;
  }
  int rc = name_lookup(nm, f, out);
  if (rc == 0) *r = (recent_t){f->function, f->filename, f->ip, f->lineno, *out + 1};
  return rc;
}

/* "function (file:line)", as the text report names a frame; the address when nothing else is
 * known. */
static void write_frame_name(FILE *out, const ll_frame_t *f) {
  char buf[1024];
  if (f->function[0] != '\0')
    snprintf(buf, sizeof buf, f->lineno ? "%s (%s:%" PRIu32 ")" : "%s (%s)", f->function,
             f->filename, f->lineno);
  else if (f->lineno != 0)
    snprintf(buf, sizeof buf, "%s:%" PRIu32, f->filename, f->lineno);
  else if (f->ip != 0)
    snprintf(buf, sizeof buf, "%s [0x%" PRIx64 "]", f->filename, f->ip);
  else
    snprintf(buf, sizeof buf, "%s", f->filename);
  ll__json_string(out, buf, 1);
}

names_t *ll__html_names_new(void) { return calloc(1, sizeof(names_t)); }

void ll__html_names_free(names_t *nm) {
  if (nm == NULL) return;
  free(nm->items);
  free(nm->slots);
  free(nm);
}

void ll__html_write_names(FILE *out, const names_t *nm) {
  for (size_t i = 0; i < nm->n; i++) {
    if (i > 0) fputc(',', out);
    write_frame_name(out, nm->items[i]);
  }
}

/* ---- trees: every traceback seen so far, ranked in two path orders --------------------------- */

/* Why no trie: a node per (path prefix) costs ~100 bytes with its edge table and doubling slack,
 * and a 90k-traceback capture of 128-frame stacks made ~10M of them per orientation (960 MiB of
 * the HTML report's 1160 MiB heap peak; 24 s, 2.7 GB RSS). Instead each traceback's names are
 * kept once, every traceback is ranked once in each path order (callers first, allocating line
 * first), and a moment's tree is read off its traces sorted by rank: a node is a run of traces
 * sharing its path, its values a difference of prefix sums, and only nodes the page shows are
 * ever visited. */

/* A traceback of the forest: its names, outermost first, at ids[at..at+n); its place in each
 * path order. */
typedef struct entry {
  const ll_traceback_t *tb;
  size_t at;
  uint32_t n;
  uint32_t rank[2];
} entry_t;

/* One trace of the moment being written, in rank order: its rank, then (after the sort) its
 * entry. */
typedef struct item {
  uint32_t rank, e;
} item_t;

/* A child of the node being written: items [a, b) of the moment, its name and values. */
typedef struct kid {
  uint32_t name;
  size_t a, b;
  uint64_t v, k;
} kid_t;

struct ll__html_forest {
  names_t *nm;
  entry_t *ent;
  size_t nent, ent_cap;
  uint32_t *slots; /* traceback address -> entry index + 1; open addressing, at most half full */
  size_t nslot;
  uint32_t *ids;   /* every entry's names */
  size_t nids, ids_cap;
  size_t nranked;  /* entries 0..nranked have their ranks */
  item_t *items;   /* the moment's traces (scratch) */
  uint64_t *cv, *ck; /* their values' prefix sums: item i's bytes are cv[i+1] - cv[i] */
  uint32_t *te;    /* each trace's entry (scratch) */
  size_t items_cap;
  kid_t *kids;     /* children of the nodes on the path being written, a segment per node */
  size_t nkids, kids_cap;
};

/* Room for n more items in a growable array. */
static int room(void **arr, size_t *cap, size_t used, size_t n, size_t size) {
  if (used + n <= *cap) return 0;
  size_t c = *cap ? *cap : 1024;
  while (c < used + n) c *= 2;
  void *p = realloc(*arr, c * size);
  if (p == NULL) return LL_ENOMEM;
  *arr = p;
  *cap = c;
  return 0;
}

static size_t tb_slot(const ll_traceback_t *tb, size_t nslot) {
  uint64_t h = (uint64_t)(uintptr_t)tb * 0x9e3779b97f4a7c15ull;
  return (size_t)(h ^ (h >> 29)) & (nslot - 1);
}

static int slots_grow(ll__html_forest_t *fo) {
  size_t nslot = fo->nslot ? fo->nslot * 2 : 4096;
  uint32_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return LL_ENOMEM;
  for (size_t e = 0; e < fo->nent; e++) {
    size_t s = tb_slot(fo->ent[e].tb, nslot);
    while (slots[s] != 0) s = (s + 1) & (nslot - 1);
    slots[s] = (uint32_t)e + 1;
  }
  free(fo->slots);
  fo->slots = slots;
  fo->nslot = nslot;
  return 0;
}

/* tb's entry index in *out; a new traceback is named now, outermost frame first, as a callers
 * walk meets them (the page's names keep the order in which moments, then traces, first show
 * them). */
static int entry_of(ll__html_forest_t *fo, const ll_traceback_t *tb, uint32_t *out) {
  int rc;
  if (fo->nent * 2 >= fo->nslot && (rc = slots_grow(fo)) != 0) return rc;
  size_t s = tb_slot(tb, fo->nslot);
  for (; fo->slots[s] != 0; s = (s + 1) & (fo->nslot - 1))
    if (fo->ent[fo->slots[s] - 1].tb == tb) {
      *out = fo->slots[s] - 1;
      return 0;
    }
  uint32_t nf = tb != NULL && tb->frames != NULL ? tb->nframe : 0;
  if ((rc = room((void **)&fo->ent, &fo->ent_cap, fo->nent, 1, sizeof *fo->ent)) != 0 ||
      (rc = room((void **)&fo->ids, &fo->ids_cap, fo->nids, nf, sizeof *fo->ids)) != 0)
    return rc;
  for (uint32_t j = 0; j < nf; j++)
    if ((rc = ll__html_name(fo->nm, &tb->frames[nf - 1 - j], &fo->ids[fo->nids + j])) != 0) return rc;
  fo->ent[fo->nent] = (entry_t){tb, fo->nids, nf, {0, 0}};
  fo->nids += nf;
  fo->slots[s] = (uint32_t)fo->nent + 1;
  *out = (uint32_t)fo->nent++;
  return 0;
}

/* The j-th name of entry e on the way down tree `inv`. */
static inline uint32_t name_at(const ll__html_forest_t *fo, const entry_t *e, uint32_t j, int inv) {
  return fo->ids[e->at + (inv ? e->n - 1 - j : j)];
}

static const ll__html_forest_t *g_sort_fo; /* qsort has no context argument; single-threaded */
static int g_sort_inv;

/* Path order: a path before the paths it is a prefix of, equal prefixes together (the trees need
 * no more: children are ordered by value when written). Callers first, the names lie in path
 * order, so they compare as bytes (memcmp: callers paths share their long outer part; a loop
 * name by name was 15% of bench/tracebacks.py's HTML report). */
static int by_path(const void *a, const void *b) {
  const entry_t *x = &g_sort_fo->ent[*(const uint32_t *)a], *y = &g_sort_fo->ent[*(const uint32_t *)b];
  uint32_t n = x->n < y->n ? x->n : y->n;
  if (!g_sort_inv) {
    int c = n ? memcmp(g_sort_fo->ids + x->at, g_sort_fo->ids + y->at, n * sizeof *g_sort_fo->ids) : 0;
    if (c != 0) return c;
    return x->n < y->n ? -1 : x->n > y->n;
  }
  for (uint32_t j = 0; j < n; j++) {
    uint32_t p = name_at(g_sort_fo, x, j, 1), q = name_at(g_sort_fo, y, j, 1);
    if (p != q) return p < q ? -1 : 1;
  }
  return x->n < y->n ? -1 : x->n > y->n;
}

/* Every entry's rank in both orders (again when a moment brought new tracebacks). */
static int rank_all(ll__html_forest_t *fo) {
  uint32_t *order = malloc((fo->nent ? fo->nent : 1) * sizeof *order);
  if (order == NULL) return LL_ENOMEM;
  g_sort_fo = fo;
  for (int inv = 0; inv <= 1; inv++) {
    for (size_t e = 0; e < fo->nent; e++) order[e] = (uint32_t)e;
    g_sort_inv = inv;
    qsort(order, fo->nent, sizeof *order, by_path);
    for (size_t r = 0; r < fo->nent; r++) fo->ent[order[r]].rank[inv] = (uint32_t)r;
  }
  free(order);
  fo->nranked = fo->nent;
  return 0;
}

int ll__html_forest_add(ll__html_forest_t *fo, const ll_snapshot_t *snap) {
  for (size_t i = 0; i < snap->ntraces; i++) {
    uint32_t e;
    int rc = entry_of(fo, snap->traces[i].traceback, &e);
    if (rc != 0) return rc;
  }
  return 0;
}

ll__html_forest_t *ll__html_forest_new(names_t *nm) {
  ll__html_forest_t *fo = calloc(1, sizeof *fo);
  if (fo == NULL) return NULL;
  fo->nm = nm;
  return fo;
}

void ll__html_forest_free(ll__html_forest_t *fo) {
  if (fo == NULL) return;
  free(fo->ent);
  free(fo->slots);
  free(fo->ids);
  free(fo->items);
  free(fo->cv);
  free(fo->ck);
  free(fo->te);
  free(fo->kids);
  free(fo);
}

static int by_rank(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int by_value_desc(const void *a, const void *b) {
  const kid_t *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->name < y->name ? -1 : x->name > y->name;
}

/* The node whose traces are items [a, b), all sharing the first d names of the path: its values,
 * then its children largest first (those under floor merged into one, unless only one is), as
 * html.h's node arrays. */
static int emit_node(FILE *out, ll__html_forest_t *fo, int inv, size_t a, size_t b, uint32_t d,
                     uint32_t name, int root, uint64_t floor) {
  const item_t *it = fo->items;
  if (!root) fprintf(out, "[%" PRIu32 ",", name);
  fprintf(out, "%" PRIu64 ",%" PRIu64, fo->cv[b] - fo->cv[a], fo->ck[b] - fo->ck[a]);
  /* Paths that end here sort first; the rest run by their name at depth d. */
  size_t i = a;
  while (i < b && fo->ent[it[i].e].n <= d) i++;
  size_t base = fo->nkids;
  while (i < b) {
    uint32_t nmx = name_at(fo, &fo->ent[it[i].e], d, inv);
    size_t j = i + 1;
    while (j < b && name_at(fo, &fo->ent[it[j].e], d, inv) == nmx) j++;
    int rc = room((void **)&fo->kids, &fo->kids_cap, fo->nkids, 1, sizeof *fo->kids);
    if (rc != 0) return rc;
    fo->kids[fo->nkids++] = (kid_t){nmx, i, j, fo->cv[j] - fo->cv[i], fo->ck[j] - fo->ck[i]};
    i = j;
  }
  size_t nkid = fo->nkids - base;
  if (nkid > 0) {
    qsort(fo->kids + base, nkid, sizeof *fo->kids, by_value_desc);
    size_t keep = nkid, nsmall = 0;
    uint64_t small_v = 0, small_k = 0;
    while (keep > 0 && fo->kids[base + keep - 1].v < floor) keep--;
    if (nkid - keep == 1) keep = nkid;
    fputs(",[", out);
    for (size_t c = 0; c < keep; c++) {
      if (c > 0) fputc(',', out);
      kid_t k = fo->kids[base + c]; /* a copy: the children below may move the array */
      int rc = emit_node(out, fo, inv, k.a, k.b, d + 1, k.name, 0, floor);
      if (rc != 0) return rc;
    }
    for (size_t c = keep; c < nkid; c++) {
      nsmall++;
      small_v += fo->kids[base + c].v;
      small_k += fo->kids[base + c].k;
    }
    if (nsmall > 0)
      fprintf(out, "%s[\"(%zu small)\",%" PRIu64 ",%" PRIu64 "]", keep ? "," : "", nsmall, small_v,
              small_k);
    fputc(']', out);
  }
  fo->nkids = base;
  if (!root) fputc(']', out);
  return 0;
}

int ll__html_emit_trees(FILE *out, ll__html_forest_t *fo, const ll_snapshot_t *snap,
                        const char *at, double min_share) {
  size_t n = snap->ntraces;
  int rc;
  if (n + 1 > fo->items_cap) {
    size_t cap = n + 1;
    item_t *items = realloc(fo->items, cap * sizeof *items);
    if (items != NULL) fo->items = items;
    uint64_t *cv = realloc(fo->cv, cap * sizeof *cv);
    if (cv != NULL) fo->cv = cv;
    uint64_t *ck = realloc(fo->ck, cap * sizeof *ck);
    if (ck != NULL) fo->ck = ck;
    uint32_t *te = realloc(fo->te, cap * sizeof *te);
    if (te != NULL) fo->te = te;
    if (items == NULL || cv == NULL || ck == NULL || te == NULL) return LL_ENOMEM;
    fo->items_cap = cap;
  }
  for (size_t i = 0; i < n; i++) /* new tracebacks named in the order the moment holds them */
    if ((rc = entry_of(fo, snap->traces[i].traceback, &fo->te[i])) != 0) return rc;
  if (fo->nranked != fo->nent && (rc = rank_all(fo)) != 0) return rc;
  for (int inv = 0; inv <= 1; inv++) {
    for (size_t i = 0; i < n; i++) fo->items[i] = (item_t){fo->ent[fo->te[i]].rank[inv], (uint32_t)i};
    qsort(fo->items, n, sizeof *fo->items, by_rank);
    fo->cv[0] = fo->ck[0] = 0;
    for (size_t i = 0; i < n; i++) { /* from trace index to entry, with the values summed */
      uint32_t t = fo->items[i].e;
      fo->cv[i + 1] = fo->cv[i] + snap->traces[t].size;
      fo->ck[i + 1] = fo->ck[i] + snap->traces[t].count;
      fo->items[i].e = fo->te[t];
    }
    uint64_t floor = (uint64_t)(min_share * (double)fo->cv[n]);
    fputs(inv ? ",\"inverted\":[" : "{\"callers\":[", out);
    ll__json_string(out, at, 1);
    fputc(',', out);
    if ((rc = emit_node(out, fo, inv, 0, n, 0, 0, 1, floor)) != 0) return rc;
    fputc(']', out);
  }
  fputc('}', out);
  return 0;
}
