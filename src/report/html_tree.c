/* html_tree.c - the HTML report's frame names and flamegraph tries: each traceback named and walked once, each moment's trees its values over them. */
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

/* ---- tries: every traceback seen so far, callers first or the allocating line first -------- */

typedef struct node {
  uint32_t name, parent;
  uint32_t child, sibling; /* node index + 1, 0 none */
  uint32_t mark;           /* the moment whose values v, k are (0: none yet) */
  uint64_t v, k;
} node_t;

typedef struct trie {
  node_t *nodes; /* nodes[0] is the root; a child's index is above its parent's */
  size_t n, cap;
  uint32_t *slots; /* (parent, name) -> node index + 1 */
  size_t nslot;
} trie_t;

/* A traceback already in the tries: where its path ends in each. */
typedef struct seen {
  const ll_traceback_t *tb;
  uint32_t leaf[2];
} seen_t;

/* A traceback new in the moment being valued: its names, outermost first, at ids[at..at+n). */
typedef struct fresh {
  const ll_traceback_t *tb;
  size_t at;
  uint32_t n;
} fresh_t;

struct ll__html_forest {
  names_t *nm;
  trie_t trie[2];  /* callers, inverted */
  seen_t *seen;    /* open addressing by traceback address, kept at most half full */
  size_t nseen, seen_cap;
  fresh_t *fresh;  /* the moment's new tracebacks (scratch) */
  size_t nfresh, fresh_cap;
  uint32_t *ids;   /* their names (scratch) */
  size_t nids, ids_cap;
  uint32_t *path;  /* the previous insertion's nodes, per depth (scratch) */
  size_t path_cap;
  uint32_t stamp;  /* the moment being valued */
};

static size_t edge_slot(const trie_t *t, uint32_t parent, uint32_t name) {
  uint64_t h = ((uint64_t)parent * 0x9e3779b97f4a7c15ull) ^ (name * 0xc2b2ae3d27d4eb4full);
  return (size_t)(h ^ (h >> 31)) & (t->nslot - 1);
}

static int trie_grow(trie_t *t) {
  size_t nslot = t->nslot ? t->nslot * 2 : 4096;
  uint32_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return LL_ENOMEM;
  free(t->slots);
  t->slots = slots;
  t->nslot = nslot;
  /* The root has no parent edge; every other node is re-entered under its parent. */
  for (size_t c = 1; c < t->n; c++) {
    size_t s = edge_slot(t, t->nodes[c].parent, t->nodes[c].name);
    while (slots[s] != 0) s = (s + 1) & (nslot - 1);
    slots[s] = (uint32_t)c + 1;
  }
  return 0;
}

static int trie_init(trie_t *t) {
  t->cap = 1024;
  if ((t->nodes = calloc(t->cap, sizeof *t->nodes)) == NULL) return LL_ENOMEM;
  t->nodes[0].parent = UINT32_MAX;
  t->n = 1;
  return trie_grow(t);
}

static int trie_child(trie_t *t, uint32_t parent, uint32_t name, uint32_t *out) {
  if (t->n * 2 >= t->nslot && trie_grow(t) != 0) return LL_ENOMEM;
  size_t s = edge_slot(t, parent, name);
  for (; t->slots[s] != 0; s = (s + 1) & (t->nslot - 1)) {
    uint32_t c = t->slots[s] - 1;
    if (t->nodes[c].name == name && t->nodes[c].parent == parent) {
      *out = c;
      return 0;
    }
  }
  if (t->n == t->cap) {
    size_t cap = t->cap * 2;
    node_t *nodes = realloc(t->nodes, cap * sizeof *nodes);
    if (nodes == NULL) return LL_ENOMEM;
    t->nodes = nodes;
    t->cap = cap;
  }
  uint32_t c = (uint32_t)t->n++;
  t->nodes[c] = (node_t){name, parent, 0, t->nodes[parent].child, 0, 0, 0};
  t->nodes[parent].child = c + 1;
  t->slots[s] = c + 1;
  *out = c;
  return 0;
}

static size_t seen_slot(const ll_traceback_t *tb, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)tb * 0x9e3779b97f4a7c15ull;
  return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static int seen_grow(ll__html_forest_t *fo) {
  size_t cap = fo->seen_cap ? fo->seen_cap * 2 : 4096;
  seen_t *seen = calloc(cap, sizeof *seen);
  if (seen == NULL) return LL_ENOMEM;
  for (size_t i = 0; i < fo->seen_cap; i++) {
    if (fo->seen[i].tb == NULL) continue;
    size_t s = seen_slot(fo->seen[i].tb, cap);
    while (seen[s].tb != NULL) s = (s + 1) & (cap - 1);
    seen[s] = fo->seen[i];
  }
  free(fo->seen);
  fo->seen = seen;
  fo->seen_cap = cap;
  return 0;
}

/* tb's entry; with add, a new one (leaves not set yet) when absent; NULL when absent (or no
 * memory: *rc). */
static seen_t *seen_get(ll__html_forest_t *fo, const ll_traceback_t *tb, int add, int *rc) {
  *rc = 0;
  if (!add && fo->seen_cap == 0) return NULL;
  if (add && fo->nseen * 2 >= fo->seen_cap && (*rc = seen_grow(fo)) != 0) return NULL;
  size_t s = seen_slot(tb, fo->seen_cap);
  for (; fo->seen[s].tb != NULL; s = (s + 1) & (fo->seen_cap - 1))
    if (fo->seen[s].tb == tb) return &fo->seen[s];
  if (!add) return NULL;
  fo->seen[s] = (seen_t){tb, {UINT32_MAX, UINT32_MAX}};
  fo->nseen++;
  return &fo->seen[s];
}

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

/* A new traceback of the moment: named now (outermost frame first, as a callers walk meets
 * them: the page's names keep the order in which moments, then traces, first show them). */
static int add_fresh(ll__html_forest_t *fo, const ll_traceback_t *tb) {
  uint32_t nf = tb != NULL && tb->frames != NULL ? tb->nframe : 0;
  int rc;
  if ((rc = room((void **)&fo->fresh, &fo->fresh_cap, fo->nfresh, 1, sizeof *fo->fresh)) != 0 ||
      (rc = room((void **)&fo->ids, &fo->ids_cap, fo->nids, nf, sizeof *fo->ids)) != 0)
    return rc;
  for (uint32_t j = 0; j < nf; j++)
    if ((rc = ll__html_name(fo->nm, &tb->frames[nf - 1 - j], &fo->ids[fo->nids + j])) != 0) return rc;
  fo->fresh[fo->nfresh++] = (fresh_t){tb, fo->nids, nf};
  fo->nids += nf;
  return 0;
}

/* The j-th name of a fresh traceback on the way into trie `inv`. */
static inline uint32_t fresh_id(const ll__html_forest_t *fo, const fresh_t *f, uint32_t j, int inv) {
  return fo->ids[f->at + (inv ? f->n - 1 - j : j)];
}

static const ll__html_forest_t *g_sort_fo; /* qsort has no context argument; single-threaded */
static int g_sort_inv;

static int by_path(const void *a, const void *b) {
  const fresh_t *x = a, *y = b;
  uint32_t n = x->n < y->n ? x->n : y->n;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t p = fresh_id(g_sort_fo, x, j, g_sort_inv), q = fresh_id(g_sort_fo, y, j, g_sort_inv);
    if (p != q) return p < q ? -1 : 1;
  }
  return x->n < y->n ? -1 : x->n > y->n;
}

/* The fresh tracebacks into trie `inv`, in path order: each one's path shares its first nodes
 * with the one before, so only where they part is looked up (a few million lookups fewer on a
 * 460k-traceback capture). */
static int insert_fresh(ll__html_forest_t *fo, int inv) {
  trie_t *t = &fo->trie[inv];
  int rc;
  g_sort_fo = fo;
  g_sort_inv = inv;
  if (fo->nfresh > 1) qsort(fo->fresh, fo->nfresh, sizeof *fo->fresh, by_path); /* none: fresh may be NULL */
  const fresh_t *prev = NULL;
  for (size_t i = 0; i < fo->nfresh; i++) {
    const fresh_t *f = &fo->fresh[i];
    if ((rc = room((void **)&fo->path, &fo->path_cap, 0, f->n, sizeof *fo->path)) != 0) return rc;
    uint32_t d = 0;
    if (prev != NULL)
      while (d < f->n && d < prev->n && fresh_id(fo, f, d, inv) == fresh_id(fo, prev, d, inv)) d++;
    for (; d < f->n; d++)
      if ((rc = trie_child(t, d ? fo->path[d - 1] : 0, fresh_id(fo, f, d, inv), &fo->path[d])) != 0)
        return rc;
    seen_t *e = seen_get(fo, f->tb, 0, &rc);
    e->leaf[inv] = f->n ? fo->path[f->n - 1] : 0;
    prev = f;
  }
  return 0;
}

ll__html_forest_t *ll__html_forest_new(names_t *nm) {
  ll__html_forest_t *fo = calloc(1, sizeof *fo);
  if (fo == NULL) return NULL;
  fo->nm = nm;
  if (trie_init(&fo->trie[0]) != 0 || trie_init(&fo->trie[1]) != 0) {
    ll__html_forest_free(fo);
    return NULL;
  }
  return fo;
}

void ll__html_forest_free(ll__html_forest_t *fo) {
  if (fo == NULL) return;
  for (int i = 0; i < 2; i++) {
    free(fo->trie[i].nodes);
    free(fo->trie[i].slots);
  }
  free(fo->seen);
  free(fo->fresh);
  free(fo->ids);
  free(fo->path);
  free(fo);
}

/* Node i takes part in the moment being valued: its values start from 0. */
static node_t *touch(trie_t *t, uint32_t i, uint32_t stamp) {
  node_t *nd = &t->nodes[i];
  if (nd->mark != stamp) {
    nd->mark = stamp;
    nd->v = nd->k = 0;
  }
  return nd;
}

/* Values of one snapshot: each trace at its leaf, then every node's summed into its parent
 * (children come after their parents, so one backward pass): a node's bytes and blocks are
 * those of the traces through it, as a trie built from this snapshot alone would have. */
static int value(ll__html_forest_t *fo, const ll_snapshot_t *snap) {
  uint32_t stamp = ++fo->stamp;
  int rc;
  fo->nfresh = fo->nids = 0;
  for (size_t i = 0; i < snap->ntraces; i++) {
    const ll_traceback_t *tb = snap->traces[i].traceback;
    if (seen_get(fo, tb, 0, &rc) != NULL) continue;
    if (seen_get(fo, tb, 1, &rc) == NULL || (rc = add_fresh(fo, tb)) != 0) return rc;
  }
  for (int inv = 0; inv <= 1; inv++)
    if ((rc = insert_fresh(fo, inv)) != 0) return rc;
  for (int inv = 0; inv <= 1; inv++) touch(&fo->trie[inv], 0, stamp);
  for (size_t i = 0; i < snap->ntraces; i++) {
    const ll_trace_t *tr = &snap->traces[i];
    const seen_t *e = seen_get(fo, tr->traceback, 0, &rc);
    for (int inv = 0; inv <= 1; inv++) {
      node_t *nd = touch(&fo->trie[inv], e->leaf[inv], stamp);
      nd->v += tr->size;
      nd->k += tr->count;
    }
  }
  for (int inv = 0; inv <= 1; inv++) {
    trie_t *t = &fo->trie[inv];
    for (size_t c = t->n - 1; c > 0; c--) {
      const node_t *nd = &t->nodes[c];
      if (nd->mark != stamp) continue;
      node_t *p = touch(t, nd->parent, stamp);
      p->v += nd->v;
      p->k += nd->k;
    }
  }
  return 0;
}

static const node_t *g_sort_nodes; /* qsort has no context argument; reports are single-threaded */

static int by_value_desc(const void *a, const void *b) {
  const node_t *x = &g_sort_nodes[*(const uint32_t *)a], *y = &g_sort_nodes[*(const uint32_t *)b];
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->name < y->name ? -1 : x->name > y->name;
}

static int emit_node(FILE *out, const trie_t *t, uint32_t idx, uint64_t floor, uint32_t stamp) {
  const node_t *nd = &t->nodes[idx];
  uint32_t *kids = NULL;
  size_t nkid = 0, nsmall = 0;
  uint64_t small_v = 0, small_k = 0;

  if (idx != 0) fprintf(out, "[%" PRIu32 ",", nd->name);
  fprintf(out, "%" PRIu64 ",%" PRIu64, nd->v, nd->k);
  for (uint32_t c = nd->child; c != 0; c = t->nodes[c - 1].sibling) nkid += t->nodes[c - 1].mark == stamp;
  if (nkid == 0) goto done;
  if ((kids = malloc(nkid * sizeof *kids)) == NULL) return LL_ENOMEM;
  nkid = 0;
  for (uint32_t c = nd->child; c != 0; c = t->nodes[c - 1].sibling)
    if (t->nodes[c - 1].mark == stamp) kids[nkid++] = c - 1;
  g_sort_nodes = t->nodes;
  qsort(kids, nkid, sizeof *kids, by_value_desc);
  /* Largest first, so the small ones are a tail: merged unless only one is small. */
  size_t keep = nkid;
  while (keep > 0 && t->nodes[kids[keep - 1]].v < floor) keep--;
  if (nkid - keep == 1) keep = nkid;
  fputs(",[", out);
  for (size_t i = 0; i < keep; i++) {
    int rc;
    if (i > 0) fputc(',', out);
    if ((rc = emit_node(out, t, kids[i], floor, stamp)) != 0) {
      free(kids);
      return rc;
    }
  }
  for (size_t i = keep; i < nkid; i++) {
    nsmall++;
    small_v += t->nodes[kids[i]].v;
    small_k += t->nodes[kids[i]].k;
  }
  if (nsmall > 0)
    fprintf(out, "%s[\"(%zu small)\",%" PRIu64 ",%" PRIu64 "]", keep ? "," : "", nsmall, small_v,
            small_k);
  fputc(']', out);
  free(kids);
done:
  if (idx != 0) fputc(']', out);
  return 0;
}

int ll__html_emit_trees(FILE *out, ll__html_forest_t *fo, const ll_snapshot_t *snap,
                        const char *at, double min_share) {
  int rc = value(fo, snap);
  if (rc != 0) return rc;
  for (int inv = 0; inv <= 1; inv++) {
    const trie_t *t = &fo->trie[inv];
    uint64_t floor = (uint64_t)(min_share * (double)t->nodes[0].v);
    fputs(inv ? ",\"inverted\":[" : "{\"callers\":[", out);
    ll__json_string(out, at, 1);
    fputc(',', out);
    if ((rc = emit_node(out, t, 0, floor, fo->stamp)) != 0) return rc;
    fputc(']', out);
  }
  fputc('}', out);
  return 0;
}
