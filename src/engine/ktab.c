/* ktab.c - key tables: dense ids for strings, frames and word sequences by content (statistics keys, the snapshot file's tables). */
#include <string.h>

#include "arena.h"
#include "containers.h"
#include "ktab.h"

static uint32_t hash_bytes(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001B3ULL;
    h = (h << 29) | (h >> 35);
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n > 0) memcpy(&w, p, n);
  h = ll__mix64(h ^ w);
  return (uint32_t)(h ^ (h >> 32));
}

/* Open-addressing tables of ids keyed by content, of two slot kinds that both start with a
 * slot_t: strings and sequences keep only the hash and the id in their slots (the entry is in
 * its vector); frames are the hottest lookups (one per frame of every traceback), so their
 * slots hold the key itself and a probe touches one cache line instead of a slot and then an
 * entry. Slots keep the hash, so growing never touches the entries; id1 = id + 1, 0: empty. */
typedef struct slot {
  uint32_t hash;
  uint32_t id1;
} slot_t;

typedef struct fslot {
  slot_t h; /* first: a fslot_t's address is its slot_t's */
  ll__kframe_t k;
} fslot_t;

typedef struct htab {
  void *s;     /* cap slots of `size` bytes (sizeof(slot_t) or sizeof(fslot_t)) */
  size_t cap;  /* power of two */
  size_t used;
} htab_t;

static inline slot_t *htab_at(const htab_t *h, size_t i, size_t size) {
  return (slot_t *)(void *)((char *)h->s + i * size);
}

/* Make room for one more entry (load factor <= 3/4). */
static int htab_reserve(htab_t *h, size_t size) {
  if (h->cap != 0 && (h->used + 1) * 4 <= h->cap * 3) return 0;
  size_t ncap = h->cap ? h->cap * 2 : 1024;
  if (ncap > SIZE_MAX / size) return -1;
  htab_t n = {ll__mmap_alloc(ncap * size), ncap, h->used};
  if (n.s == NULL) return -1;
  for (size_t i = 0; i < h->cap; i++) {
    const slot_t *sl = htab_at(h, i, size);
    if (sl->id1 == 0) continue;
    size_t j = sl->hash & (ncap - 1);
    while (htab_at(&n, j, size)->id1 != 0) j = (j + 1) & (ncap - 1);
    memcpy(htab_at(&n, j, size), sl, size);
  }
  ll__mmap_free(h->s, h->cap * size);
  *h = n;
  return 0;
}

static void htab_free(htab_t *h, size_t size) {
  ll__mmap_free(h->s, h->cap * size);
  h->s = NULL;
  h->cap = h->used = 0;
}

typedef struct kstr {
  const char *s;
  uint32_t len;
  uint32_t hash;
} kstr_t;

typedef struct kseq {
  uint64_t off; /* into seq_ids, in ids */
  uint32_t n;
  uint32_t tag;
} kseq_t;

struct ll__ktab {
  ll__vec_t strs; /* kstr_t */
  htab_t strs_h; /* slot_t */
  ll__ptab_t strs_p; /* pointer cache: snapshots intern their strings, so most lookups stop here */
  ll__vec_t frames;  /* ll__kframe_t */
  htab_t frames_h; /* fslot_t */
  ll__vec_t seqs;    /* kseq_t */
  ll__vec_t seq_ids; /* uint32_t */
  htab_t seqs_h; /* slot_t */
};

ll__ktab_t *ll__ktab_new(void) { return ll__mmap_alloc(sizeof(ll__ktab_t)); }

void ll__ktab_free(ll__ktab_t *t) {
  if (t == NULL) return;
  ll__vec_free(&t->strs);
  htab_free(&t->strs_h, sizeof(slot_t));
  ll__ptab_free(&t->strs_p);
  ll__vec_free(&t->frames);
  htab_free(&t->frames_h, sizeof(fslot_t));
  ll__vec_free(&t->seqs);
  ll__vec_free(&t->seq_ids);
  htab_free(&t->seqs_h, sizeof(slot_t));
  ll__mmap_free(t, sizeof *t);
}

uint32_t ll__ktab_str(ll__ktab_t *t, const char *s) {
  uint64_t cached;
  if (ll__ptab_get(&t->strs_p, s, &cached)) return (uint32_t)cached;
  size_t len = strlen(s);
  if (len > UINT32_MAX) return LL__KTAB_NONE;
  uint32_t h = hash_bytes(s, len);
  if (htab_reserve(&t->strs_h, sizeof(slot_t)) != 0) return LL__KTAB_NONE;
  const kstr_t *all = t->strs.p;
  size_t mask = t->strs_h.cap - 1, i = h & mask;
  uint32_t id;
  for (;; i = (i + 1) & mask) {
    slot_t *sl = htab_at(&t->strs_h, i, sizeof(slot_t));
    if (sl->id1 == 0) {
      id = (uint32_t)(t->strs.len / sizeof(kstr_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      kstr_t *e = ll__vec_push(&t->strs, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      e->s = s;
      e->len = (uint32_t)len;
      e->hash = h;
      sl->hash = h;
      sl->id1 = id + 1;
      t->strs_h.used++;
      break;
    }
    if (sl->hash == h) {
      const kstr_t *e = &all[sl->id1 - 1];
      if (e->len == len && memcmp(e->s, s, len) == 0) {
        id = sl->id1 - 1;
        break;
      }
    }
  }
  if (ll__ptab_put(&t->strs_p, s, id) != 0) return LL__KTAB_NONE;
  return id;
}

uint32_t ll__ktab_frame(ll__ktab_t *t, const ll__kframe_t *f) {
  uint32_t h = hash_bytes(f, sizeof *f);
  if (htab_reserve(&t->frames_h, sizeof(fslot_t)) != 0) return LL__KTAB_NONE;
  size_t mask = t->frames_h.cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    fslot_t *sl = (fslot_t *)htab_at(&t->frames_h, i, sizeof(fslot_t));
    if (sl->h.id1 == 0) {
      uint32_t id = (uint32_t)(t->frames.len / sizeof(ll__kframe_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      ll__kframe_t *e = ll__vec_push(&t->frames, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      *e = *f;
      sl->k = *f;
      sl->h.hash = h;
      sl->h.id1 = id + 1;
      t->frames_h.used++;
      return id;
    }
    if (sl->h.hash == h && memcmp(&sl->k, f, sizeof *f) == 0) return sl->h.id1 - 1;
  }
}

uint32_t ll__ktab_seq(ll__ktab_t *t, const uint32_t *ids, uint32_t n, uint32_t tag) {
  uint32_t h = hash_bytes(ids, (size_t)n * sizeof *ids) ^ (uint32_t)ll__mix64(((uint64_t)tag << 32) | n);
  if (htab_reserve(&t->seqs_h, sizeof(slot_t)) != 0) return LL__KTAB_NONE;
  size_t mask = t->seqs_h.cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    slot_t *sl = htab_at(&t->seqs_h, i, sizeof(slot_t));
    if (sl->id1 == 0) {
      uint32_t id = (uint32_t)(t->seqs.len / sizeof(kseq_t));
      if (id >= LL__KTAB_NONE - 1) return LL__KTAB_NONE;
      uint64_t off = t->seq_ids.len / sizeof(uint32_t);
      uint32_t *dst = ll__vec_push(&t->seq_ids, (size_t)n * sizeof *ids);
      if (dst == NULL) return LL__KTAB_NONE;
      if (n) memcpy(dst, ids, (size_t)n * sizeof *ids);
      kseq_t *e = ll__vec_push(&t->seqs, sizeof *e);
      if (e == NULL) return LL__KTAB_NONE;
      e->off = off;
      e->n = n;
      e->tag = tag;
      sl->hash = h;
      sl->id1 = id + 1;
      t->seqs_h.used++;
      return id;
    }
    if (sl->hash == h) {
      const kseq_t *e = (const kseq_t *)t->seqs.p + (sl->id1 - 1);
      if (e->n == n && e->tag == tag &&
          (n == 0 || memcmp((const uint32_t *)t->seq_ids.p + e->off, ids, (size_t)n * sizeof *ids) == 0))
        return sl->id1 - 1;
    }
  }
}

size_t ll__ktab_nstr(const ll__ktab_t *t) { return t->strs.len / sizeof(kstr_t); }

const char *ll__ktab_str_at(const ll__ktab_t *t, uint32_t id, size_t *len) {
  const kstr_t *e = (const kstr_t *)t->strs.p + id;
  if (len != NULL) *len = e->len;
  return e->s;
}

size_t ll__ktab_nframe(const ll__ktab_t *t) { return t->frames.len / sizeof(ll__kframe_t); }

const ll__kframe_t *ll__ktab_frame_at(const ll__ktab_t *t, uint32_t id) {
  return (const ll__kframe_t *)t->frames.p + id;
}

size_t ll__ktab_nseq(const ll__ktab_t *t) { return t->seqs.len / sizeof(kseq_t); }

const uint32_t *ll__ktab_seq_at(const ll__ktab_t *t, uint32_t id, uint32_t *n, uint32_t *tag) {
  const kseq_t *e = (const kseq_t *)t->seqs.p + id;
  if (n != NULL) *n = e->n;
  if (tag != NULL) *tag = e->tag;
  return (const uint32_t *)t->seq_ids.p + e->off;
}
