/* retainers.c - the exit scan per report line: leak kinds, what holds each line's blocks, and the chain up to a root. */
#include "retainers.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/*
 * A report line's key is the one statistics group by (snapshot.c's frame identity: file,
 * function, line, and the address of an unnamed frame; the file alone for filename grouping;
 * every frame for traceback grouping), written out as a string. The end snapshot's traces map
 * to keys the same way, and the scan's per-trace figures add up per key: so a line of any
 * moment (end, leaks, lost, reachable) finds the kinds and holders of the same line at exit.
 */

typedef struct held {
  size_t holder; /* key index, or SIZE_MAX for a root */
  const ll_reach_root_t *root;
  uint64_t blocks, bytes;
} held_t;

struct ll__retain {
  ll_group_t group;
  size_t nkey;
  char **keys;               /* sorted with order[] */
  size_t *order;             /* key indices sorted by key string */
  const ll_frame_t **frame;  /* a frame naming the key */
  ll_reach_kinds_t *kinds;
  held_t **held;             /* per key, largest first */
  size_t *nheld;
};

static void frame_ident(char *buf, size_t len, const ll_frame_t *f, int file_only) {
  const char *fn = f->function != NULL ? f->function : "";
  if (file_only)
    snprintf(buf, len, "%s", f->filename != NULL ? f->filename : "<unknown>");
  else
    snprintf(buf, len, "%s\x1f%s\x1f%" PRIu32 "\x1f%" PRIu64 "\x1e",
             f->filename != NULL ? f->filename : "<unknown>", fn, f->lineno,
             f->lineno == 0 && fn[0] == '\0' ? f->ip : 0);
}

/* The key string of a traceback under the grouping (malloc'd), NULL when out of memory. */
static char *key_of(const ll_traceback_t *tb, ll_group_t g) {
  size_t cap = 256, used = 0;
  char *s = malloc(cap), part[4200];
  if (s == NULL) return NULL;
  s[0] = '\0';
  uint32_t n = tb == NULL || tb->nframe == 0 ? 0 : g == LL_GROUP_TRACEBACK ? tb->nframe : 1;
  for (uint32_t i = 0; i < n; i++) {
    frame_ident(part, sizeof part, &tb->frames[i], g == LL_GROUP_FILENAME);
    size_t l = strlen(part);
    if (used + l + 1 > cap) {
      cap = 2 * (used + l + 1);
      char *g2 = realloc(s, cap);
      if (g2 == NULL) {
        free(s);
        return NULL;
      }
      s = g2;
    }
    memcpy(s + used, part, l + 1);
    used += l;
  }
  return s;
}

static const ll__retain_t *sort_ctx;
static int cmp_order(const void *a, const void *b) {
  return strcmp(sort_ctx->keys[*(const size_t *)a], sort_ctx->keys[*(const size_t *)b]);
}

static long find_key(const ll__retain_t *rt, const char *k) {
  size_t lo = 0, hi = rt->nkey;
  while (lo < hi) {
    size_t m = (lo + hi) / 2;
    int c = strcmp(rt->keys[rt->order[m]], k);
    if (c == 0) return (long)rt->order[m];
    if (c < 0) lo = m + 1;
    else hi = m;
  }
  return -1;
}

static int cmp_held(const void *a, const void *b) {
  const held_t *x = a, *y = b;
  if (x->blocks != y->blocks) return x->blocks > y->blocks ? -1 : 1;
  return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

/* Add to key k's holders: the same holder (key, or root text) adds up. */
static int add_held(ll__retain_t *rt, size_t k, size_t holder, const ll_reach_root_t *root,
                    uint64_t blocks, uint64_t bytes) {
  for (size_t i = 0; i < rt->nheld[k]; i++) {
    held_t *h = &rt->held[k][i];
    if (h->holder == holder && (root == NULL || strcmp(h->root->what, root->what) == 0)) {
      h->blocks += blocks;
      h->bytes += bytes;
      return 0;
    }
  }
  held_t *g = realloc(rt->held[k], (rt->nheld[k] + 1) * sizeof *g);
  if (g == NULL) return -1;
  rt->held[k] = g;
  g[rt->nheld[k]++] = (held_t){holder, root, blocks, bytes};
  return 0;
}

void ll__retain_free(ll__retain_t *rt) {
  if (rt == NULL) return;
  for (size_t i = 0; i < rt->nkey; i++) {
    free(rt->keys[i]);
    free(rt->held[i]);
  }
  free(rt->keys);
  free(rt->order);
  free(rt->frame);
  free(rt->kinds);
  free(rt->held);
  free(rt->nheld);
  free(rt);
}

ll__retain_t *ll__retain_build(const ll_reach_info_t *ri, ll_group_t group) {
  size_t n = ri->end->ntraces;
  ll__retain_t *rt = calloc(1, sizeof *rt);
  size_t *tkey = calloc(n + 1, sizeof *tkey);
  if (rt == NULL || tkey == NULL) goto fail;
  rt->group = group;
  rt->keys = calloc(n + 1, sizeof *rt->keys);
  rt->order = calloc(n + 1, sizeof *rt->order);
  rt->frame = calloc(n + 1, sizeof *rt->frame);
  rt->kinds = calloc(n + 1, sizeof *rt->kinds);
  rt->held = calloc(n + 1, sizeof *rt->held);
  rt->nheld = calloc(n + 1, sizeof *rt->nheld);
  if (!rt->keys || !rt->order || !rt->frame || !rt->kinds || !rt->held || !rt->nheld) goto fail;
  /* Keys of every trace, then the distinct ones (sorted, binary-searched). */
  for (size_t i = 0; i < n; i++) {
    const ll_traceback_t *tb = ri->end->traces[i].traceback;
    char *k = key_of(tb, group);
    if (k == NULL) goto fail;
    rt->keys[rt->nkey] = k;
    rt->order[rt->nkey] = rt->nkey;
    rt->nkey++;
  }
  sort_ctx = rt;
  qsort(rt->order, rt->nkey, sizeof *rt->order, cmp_order);
  /* Trace i's key is the first of its equals (the others stay, unused). */
  for (size_t i = 0; i < n; i++) {
    tkey[i] = (size_t)find_key(rt, rt->keys[i]);
    const ll_traceback_t *tb = ri->end->traces[i].traceback;
    if (rt->frame[tkey[i]] == NULL && tb != NULL && tb->nframe > 0) rt->frame[tkey[i]] = &tb->frames[0];
    for (int k = 0; k < LL_REACH_KINDS; k++) {
      rt->kinds[tkey[i]].bytes[k] += ri->traces[i].bytes[k];
      rt->kinds[tkey[i]].blocks[k] += ri->traces[i].blocks[k];
    }
  }
  for (size_t e = 0; e < ri->nedge; e++) {
    const ll_reach_edge_t *x = &ri->edges[e];
    if (x->holder >= n || x->held >= n) continue;
    if (add_held(rt, tkey[x->held], tkey[x->holder], NULL, x->blocks, x->bytes) != 0) goto fail;
  }
  for (size_t r = 0; r < ri->nroot; r++) {
    const ll_reach_root_t *x = &ri->roots[r];
    if (x->held >= n) continue;
    if (add_held(rt, tkey[x->held], SIZE_MAX, x, x->blocks, x->bytes) != 0) goto fail;
  }
  for (size_t k = 0; k < rt->nkey; k++)
    if (rt->nheld[k] > 1) qsort(rt->held[k], rt->nheld[k], sizeof *rt->held[k], cmp_held);
  free(tkey);
  return rt;
fail:
  free(tkey);
  ll__retain_free(rt);
  return NULL;
}

static long stat_key(const ll__retain_t *rt, const ll_stat_t *st) {
  char *k = key_of(st->traceback, rt->group);
  if (k == NULL) return -1;
  long i = find_key(rt, k);
  free(k);
  return i;
}

static const char *base(const char *p) {
  const char *s = p != NULL ? strrchr(p, '/') : NULL;
  return s != NULL ? s + 1 : p != NULL ? p : "<unknown>";
}

static void name_key(FILE *out, const ll__retain_t *rt, size_t k) {
  const ll_frame_t *f = rt->frame[k];
  if (f == NULL) {
    fputs("<unknown>", out);
    return;
  }
  if (rt->group == LL_GROUP_FILENAME) fputs(base(f->filename), out);
  else fprintf(out, "%s:%" PRIu32, base(f->filename), f->lineno);
}

static const char *const kind_json[LL_REACH_KINDS] = {"definitely_lost", "indirectly_lost",
                                                      "possibly_lost", "still_reachable"};

void ll__retain_json_kinds(FILE *out, const ll_reach_kinds_t *k) {
  fputs("{", out);
  for (int i = 0; i < LL_REACH_KINDS; i++)
    fprintf(out, "%s\"%s\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}", i ? ", " : "",
            kind_json[i], k->bytes[i], k->blocks[i]);
  fputs("}", out);
}

void ll__retain_json_site(FILE *out, const ll__retain_t *rt, const ll_stat_t *st,
                          void (*json_string)(FILE *, const char *)) {
  long k = stat_key(rt, st);
  if (k < 0) return;
  fputs(", \"leak_kinds\": ", out);
  ll__retain_json_kinds(out, &rt->kinds[k]);
  fputs(", \"held_by\": [", out);
  for (size_t i = 0; i < rt->nheld[k]; i++) {
    const held_t *h = &rt->held[k][i];
    fputs(i ? ", {" : "{", out);
    if (h->root != NULL) {
      fputs("\"root\": ", out);
      json_string(out, h->root->what);
      fputs(", \"kind\": ", out);
      json_string(out, h->root->kind);
    } else {
      const ll_frame_t *f = rt->frame[h->holder];
      fputs("\"file\": ", out);
      json_string(out, f != NULL ? f->filename : "<unknown>");
      fprintf(out, ", \"line\": %" PRIu32 ", \"function\": ", f != NULL ? f->lineno : 0);
      json_string(out, f != NULL ? f->function : "");
    }
    fprintf(out, ", \"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", h->blocks, h->bytes);
  }
  fputs("]", out);
}

/* The chain: from the line, its largest holder each step, to a root, a line already on the
 * chain (a cycle), or nothing (lost: no holder). */
void ll__retain_chain(FILE *out, const ll__retain_t *rt, size_t k) {
  if (k >= rt->nkey || rt->nheld[k] == 0) return;
  size_t seen[16], nseen = 0;
  size_t cur = k;
  name_key(out, rt, cur);
  for (int step = 0; step < 16; step++) {
    seen[nseen++] = cur;
    /* The largest holder not already on the chain (a line's blocks often hold each other). */
    const held_t *h = NULL;
    for (size_t i = 0; i < rt->nheld[cur] && h == NULL; i++) {
      const held_t *c = &rt->held[cur][i];
      int on = 0;
      for (size_t j = 0; c->root == NULL && j < nseen; j++) on |= seen[j] == c->holder;
      if (!on) h = c;
    }
    if (h == NULL) {
      if (rt->nheld[cur] > 0) fputs(" <- held only by lines already on this chain (a cycle)", out);
      break;
    }
    if (step == 0) fprintf(out, " <- %" PRIu64 " block%s held by ", h->blocks, h->blocks == 1 ? "" : "s");
    else fputs(" <- held by ", out);
    if (h->root != NULL) {
      fputs(h->root->what, out);
      break;
    }
    name_key(out, rt, h->holder);
    cur = h->holder;
    if (nseen == 16) break;
  }
}

size_t ll__retain_count(const ll__retain_t *rt) { return rt->nkey; }
const ll_frame_t *ll__retain_frame(const ll__retain_t *rt, size_t k) {
  return k < rt->nkey ? rt->frame[k] : NULL;
}
const ll_reach_kinds_t *ll__retain_kinds(const ll__retain_t *rt, size_t k) {
  return k < rt->nkey ? &rt->kinds[k] : NULL;
}

void ll__retain_text(FILE *out, const ll__retain_t *rt, const ll_stat_t *st) {
  long k = stat_key(rt, st);
  if (k < 0) return;
  const ll_reach_kinds_t *kk = &rt->kinds[k];
  static const char *const kind_text[LL_REACH_KINDS] = {"definitely lost", "indirectly lost",
                                                        "possibly lost", "still reachable"};
  fputs("    kinds:", out);
  const char *sep = " ";
  for (int i = 0; i < LL_REACH_KINDS; i++) {
    if (kk->blocks[i] == 0) continue;
    fprintf(out, "%s%s %" PRIu64 " B in %" PRIu64 " block%s", sep, kind_text[i], kk->bytes[i],
            kk->blocks[i], kk->blocks[i] == 1 ? "" : "s");
    sep = ", ";
  }
  fputc('\n', out);
  if (rt->nheld[k] == 0) return;
  fputs("    ", out);
  ll__retain_chain(out, rt, (size_t)k);
  fputc('\n', out);
}

void ll__retain_text_cost(FILE *out, const ll_reach_info_t *ri) {
  char heap[32], roots[32];
  ll_format_size(heap, sizeof heap, (double)ri->heap_read, 0);
  ll_format_size(roots, sizeof roots, (double)ri->root_read, 0);
  fprintf(out, "exit scan: %s of live blocks and %s of roots read in %.3f s (%.3f s of CPU), "
          "%" PRIu32 " thread%s\n", heap, roots, (double)ri->scan_ns / 1e9, (double)ri->cpu_ns / 1e9,
          ri->threads, ri->threads == 1 ? "" : "s");
}
