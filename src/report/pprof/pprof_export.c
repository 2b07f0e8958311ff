/* pprof_export.c - snapshots as a Go heap profile: samples, locations with inlined lines, functions, mappings, gzip'd. */
#include "pprof_export.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile profile_t;

/* ---- growable arrays and a u64 -> id map (ids start at 1: 0 marks an empty slot) ----------- */

static int grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * size);
  if (q == NULL) return LL_ENOMEM;
  *p = q;
  *cap = c;
  return 0;
}

typedef struct idmap {
  uint64_t *keys, *ids;
  size_t cap, n;
} idmap_t;

static size_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return (size_t)k;
}

static uint64_t idmap_get(const idmap_t *m, uint64_t key) {
  if (m->cap == 0) return 0;
  for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->ids[i] == 0) return 0;
    if (m->keys[i] == key) return m->ids[i];
  }
}

static int idmap_put(idmap_t *m, uint64_t key, uint64_t id) {
  if ((m->n + 1) * 2 > m->cap) {
    idmap_t g = {.cap = m->cap ? m->cap * 2 : 1024};
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.ids = calloc(g.cap, sizeof *g.ids);
    if (g.keys == NULL || g.ids == NULL) {
      free(g.keys);
      free(g.ids);
      return LL_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->ids[i] != 0) idmap_put(&g, m->keys[i], m->ids[i]);
    free(m->keys);
    free(m->ids);
    *m = g;
  }
  size_t i = mix(key) & (m->cap - 1);
  while (m->ids[i] != 0 && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (m->ids[i] == 0) m->n++;
  m->keys[i] = key;
  m->ids[i] = id; /* a key already there takes the new id */
  return 0;
}

static void idmap_free(idmap_t *m) {
  free(m->keys);
  free(m->ids);
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
  return h;
}

/* ---- the profile being built ----------------------------------------------------------------- */

typedef struct loc {
  uint64_t mapping_id, address;
  size_t nline;
  Perftools__Profiles__Line *lines;
} loc_t;

typedef struct sample {
  uint64_t *locs;
  size_t nloc;
  int64_t values[4];
} sample_t;

typedef struct builder {
  const ll_pprof_input_t *in;
  /* string table: strs[i] is string i; the map goes from a content hash to a chain of ids */
  const char **strs;
  size_t nstr, strcap;
  char **owned; /* strings made here (build ids), freed at the end */
  size_t nowned, ownedcap;
  idmap_t str_ix;   /* content hash -> the newest string id + 1 with it (a chain's head) */
  size_t *str_next; /* per string: the next id + 1 with the same hash, 0 at the chain's end */
  size_t str_nextcap;
  /* functions: (name, file) string ids -> function id */
  idmap_t fn_ix;
  uint64_t (*fns)[2];
  size_t nfn, fncap;
  /* locations: by address (native frames) or by (function, line) (frames without one) */
  idmap_t loc_by_ip, loc_by_line;
  loc_t *locs;
  size_t nloc, loccap;
  /* samples: by a hash of their location ids, chained as strings are */
  idmap_t smp_ix;
  size_t *smp_next;
  size_t smp_nextcap;
  sample_t *smps;
  size_t nsmp, smpcap;
  uint64_t *scratch;
  size_t scratchcap;
} builder_t;

static int str_id(builder_t *b, const char *s, int64_t *out) {
  if (s == NULL) s = "";
  uint64_t h = hash_bytes(s, strlen(s), 0xcbf29ce484222325ull) | 1; /* never 0 */
  uint64_t first = idmap_get(&b->str_ix, h);
  for (uint64_t id = first; id != 0; id = b->str_next[id - 1])
    if (strcmp(b->strs[id - 1], s) == 0) {
      *out = (int64_t)(id - 1);
      return 0;
    }
  if (grow((void **)&b->strs, &b->strcap, b->nstr + 1, sizeof *b->strs) != 0 ||
      grow((void **)&b->str_next, &b->str_nextcap, b->nstr + 1, sizeof *b->str_next) != 0)
    return LL_ENOMEM;
  b->strs[b->nstr] = s;
  b->str_next[b->nstr] = first;
  b->nstr++;
  if (idmap_put(&b->str_ix, h, b->nstr) != 0) return LL_ENOMEM;
  *out = (int64_t)(b->nstr - 1);
  return 0;
}

/* A string made here (it must live until the profile is packed). */
static int owned_str_id(builder_t *b, char *s, int64_t *out) {
  if (s == NULL || grow((void **)&b->owned, &b->ownedcap, b->nowned + 1, sizeof *b->owned) != 0) {
    free(s);
    return LL_ENOMEM;
  }
  b->owned[b->nowned++] = s;
  return str_id(b, s, out);
}

static int fn_id(builder_t *b, const ll_frame_t *f, uint64_t *out) {
  int64_t name, file;
  int rc;
  if ((rc = str_id(b, f->function, &name)) != 0 || (rc = str_id(b, f->filename, &file)) != 0)
    return rc;
  uint64_t key = ((uint64_t)name << 32) | (uint64_t)file;
  if ((*out = idmap_get(&b->fn_ix, key)) != 0) return 0;
  if (grow((void **)&b->fns, &b->fncap, b->nfn + 1, sizeof *b->fns) != 0) return LL_ENOMEM;
  b->fns[b->nfn][0] = (uint64_t)name;
  b->fns[b->nfn][1] = (uint64_t)file;
  *out = ++b->nfn;
  return idmap_put(&b->fn_ix, key, *out);
}

static uint64_t mapping_of(const ll_pprof_input_t *in, uint64_t ip) {
  for (size_t i = 0; i < in->nmapping; i++)
    if (ip >= in->mappings[i].start && ip < in->mappings[i].limit) return i + 1;
  return 0;
}

static int same_frame(const ll_frame_t *a, const ll_frame_t *b) {
  return a->lineno == b->lineno && strcmp(a->function, b->function) == 0 &&
         strcmp(a->filename, b->filename) == 0;
}

/* A location for frames[0, n) (one address's frames, or one frame without an address). */
static int new_loc(builder_t *b, const ll_frame_t *frames, size_t n, uint64_t *out) {
  int rc;
  if (grow((void **)&b->locs, &b->loccap, b->nloc + 1, sizeof *b->locs) != 0) return LL_ENOMEM;
  loc_t *l = &b->locs[b->nloc];
  memset(l, 0, sizeof *l);
  l->address = frames[0].ip;
  l->mapping_id = l->address != 0 ? mapping_of(b->in, l->address) : 0;
  /* An address nothing was learnt about (its module gone) is only an address: readers show
   * it with its mapping. */
  int unknown = n == 1 && frames[0].function[0] == '\0' && frames[0].lineno == 0;
  if (!unknown) {
    if ((l->lines = calloc(n, sizeof *l->lines)) == NULL) return LL_ENOMEM;
    b->nloc++; /* owns lines from here on, for the cleanup */
    for (size_t i = 0; i < n; i++) {
      perftools__profiles__line__init(&l->lines[i]);
      if ((rc = fn_id(b, &frames[i], &l->lines[i].function_id)) != 0) return rc;
      l->lines[i].line = frames[i].lineno;
      l->nline++;
    }
  } else {
    b->nloc++;
  }
  *out = b->nloc;
  return 0;
}

/* Location ids of one traceback, leaf first, into b->scratch; their number in *n. */
static int trace_locs(builder_t *b, const ll_traceback_t *tb, size_t *n) {
  uint32_t nf = tb != NULL && tb->frames != NULL ? tb->nframe : 0;
  const ll_frame_t *fr = nf ? tb->frames : NULL;
  int rc;

  *n = 0;
  if (grow((void **)&b->scratch, &b->scratchcap, (size_t)nf + 1, sizeof *b->scratch) != 0)
    return LL_ENOMEM;
  for (uint32_t i = 0; i < nf;) {
    uint64_t id;
    if (fr[i].ip == 0) {
      if ((rc = fn_id(b, &fr[i], &id)) != 0) return rc;
      uint64_t key = (id << 32) | fr[i].lineno, loc = idmap_get(&b->loc_by_line, key);
      if (loc == 0) {
        if ((rc = new_loc(b, &fr[i], 1, &loc)) != 0) return rc;
        if ((rc = idmap_put(&b->loc_by_line, key, loc)) != 0) return rc;
      }
      b->scratch[(*n)++] = loc;
      i++;
      continue;
    }
    /* A run of frames with one address: its inlined functions, repeated when a recursion
     * returns to the same address again; the shortest period is one level. */
    uint32_t r = 1, p;
    while (i + r < nf && fr[i + r].ip == fr[i].ip) r++;
    for (p = 1; p < r; p++) {
      if (r % p != 0) continue;
      uint32_t k = 0;
      while (k + p < r && same_frame(&fr[i + k], &fr[i + k + p])) k++;
      if (k + p == r) break;
    }
    uint64_t loc = idmap_get(&b->loc_by_ip, fr[i].ip);
    if (loc == 0) {
      if ((rc = new_loc(b, &fr[i], p, &loc)) != 0) return rc;
      if ((rc = idmap_put(&b->loc_by_ip, fr[i].ip, loc)) != 0) return rc;
    }
    for (uint32_t k = 0; k < r / p; k++) b->scratch[(*n)++] = loc;
    i += r;
  }
  return 0;
}

/* Add one trace's count and bytes at values[slot], values[slot + 1] of its sample. */
static int add_trace(builder_t *b, const ll_trace_t *t, int slot) {
  size_t n;
  int rc = trace_locs(b, t->traceback, &n);
  if (rc != 0) return rc;
  uint64_t h = hash_bytes(b->scratch, n * sizeof *b->scratch, 0x84222325cbf29ce4ull) | 1;
  uint64_t first = idmap_get(&b->smp_ix, h);
  sample_t *s = NULL;
  for (uint64_t id = first; id != 0; id = b->smp_next[id - 1]) {
    sample_t *c = &b->smps[id - 1];
    if (c->nloc == n && memcmp(c->locs, b->scratch, n * sizeof *b->scratch) == 0) {
      s = c;
      break;
    }
  }
  if (s == NULL) {
    if (grow((void **)&b->smps, &b->smpcap, b->nsmp + 1, sizeof *b->smps) != 0 ||
        grow((void **)&b->smp_next, &b->smp_nextcap, b->nsmp + 1, sizeof *b->smp_next) != 0)
      return LL_ENOMEM;
    s = &b->smps[b->nsmp];
    memset(s, 0, sizeof *s);
    if ((s->locs = malloc((n ? n : 1) * sizeof *s->locs)) == NULL) return LL_ENOMEM;
    memcpy(s->locs, b->scratch, n * sizeof *s->locs);
    s->nloc = n;
    b->smp_next[b->nsmp] = first;
    b->nsmp++;
    if (idmap_put(&b->smp_ix, h, b->nsmp) != 0) return LL_ENOMEM;
  }
  s->values[slot] += (int64_t)t->count;
  s->values[slot + 1] += (int64_t)t->size;
  return 0;
}

/* ---- packing ---------------------------------------------------------------------------------- */

static int hex_id(builder_t *b, const ll_pprof_mapping_t *m, int64_t *out) {
  static const char digits[] = "0123456789abcdef";
  char *s = malloc(m->build_id_len * 2 + 1);
  if (s != NULL) {
    for (size_t i = 0; i < m->build_id_len; i++) {
      s[2 * i] = digits[m->build_id[i] >> 4];
      s[2 * i + 1] = digits[m->build_id[i] & 15];
    }
    s[m->build_id_len * 2] = '\0';
  }
  return owned_str_id(b, s, out);
}

/* Compress `data` as one gzip member onto `out`. */
static int write_gzip(FILE *out, const uint8_t *data, size_t len) {
  z_stream z;
  unsigned char chunk[65536];
  int zrc, rc = 0;

  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return LL_ENOMEM;
  z.next_in = (Bytef *)(uintptr_t)data;
  do {
    /* avail_in is 32 bits: feed a large profile in pieces. */
    size_t left = len - (size_t)((const uint8_t *)z.next_in - data);
    if (z.avail_in == 0) z.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
    int flush = z.avail_in == left ? Z_FINISH : Z_NO_FLUSH;
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    zrc = deflate(&z, flush);
    if (zrc == Z_STREAM_ERROR) {
      rc = LL_EIO;
      break;
    }
    size_t have = sizeof chunk - z.avail_out;
    if (have > 0 && fwrite(chunk, 1, have, out) != have) {
      rc = LL_EIO;
      break;
    }
  } while (zrc != Z_STREAM_END);
  deflateEnd(&z);
  return rc;
}

static int pack(builder_t *b, FILE *out) {
  const ll_pprof_input_t *in = b->in;
  const int has_alloc = in->alloc != NULL;
  static const char *const types[4][2] = {{"alloc_objects", "count"}, {"alloc_space", "bytes"},
                                          {"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  const size_t ntype = has_alloc ? 4 : 2, first_type = has_alloc ? 0 : 2;
  Perftools__Profiles__ValueType vt[4], period;
  Perftools__Profiles__ValueType *vtp[4];
  profile_t p;
  void **ptrs[5] = {NULL, NULL, NULL, NULL, NULL};
  Perftools__Profiles__Sample *smp = NULL;
  Perftools__Profiles__Location *loc = NULL;
  Perftools__Profiles__Function *fn = NULL;
  Perftools__Profiles__Mapping *map = NULL;
  int64_t *values = NULL, *comments = NULL;
  uint8_t *bytes = NULL;
  int64_t space, bytes_unit, dflt;
  int rc = LL_ENOMEM;

  perftools__profiles__profile__init(&p);
  for (size_t i = 0; i < ntype; i++) {
    perftools__profiles__value_type__init(&vt[i]);
    if ((rc = str_id(b, types[first_type + i][0], &vt[i].type)) != 0 ||
        (rc = str_id(b, types[first_type + i][1], &vt[i].unit)) != 0)
      goto cleanup;
    vtp[i] = &vt[i];
  }
  p.n_sample_type = ntype;
  p.sample_type = vtp;
  perftools__profiles__value_type__init(&period);
  if ((rc = str_id(b, "space", &space)) != 0 || (rc = str_id(b, "bytes", &bytes_unit)) != 0 ||
      (rc = str_id(b, "inuse_space", &dflt)) != 0)
    goto cleanup;
  period.type = space;
  period.unit = bytes_unit;
  p.period_type = &period;
  p.period = 1;
  p.default_sample_type = dflt;

  rc = LL_ENOMEM;
  if ((map = calloc(in->nmapping + 1, sizeof *map)) == NULL ||
      (ptrs[0] = calloc(in->nmapping + 1, sizeof(void *))) == NULL)
    goto cleanup;
  for (size_t i = 0; i < in->nmapping; i++) {
    const ll_pprof_mapping_t *m = &in->mappings[i];
    perftools__profiles__mapping__init(&map[i]);
    map[i].id = i + 1;
    map[i].memory_start = m->start;
    map[i].memory_limit = m->limit;
    map[i].file_offset = m->offset;
    if ((rc = str_id(b, m->path, &map[i].filename)) != 0 || (rc = hex_id(b, m, &map[i].build_id)) != 0)
      goto cleanup;
    map[i].has_functions = map[i].has_filenames = map[i].has_line_numbers =
        map[i].has_inline_frames = 1;
    ptrs[0][i] = &map[i];
  }
  p.n_mapping = in->nmapping;
  p.mapping = (Perftools__Profiles__Mapping **)ptrs[0];

  rc = LL_ENOMEM;
  if ((smp = calloc(b->nsmp + 1, sizeof *smp)) == NULL ||
      (values = calloc((b->nsmp + 1) * ntype, sizeof *values)) == NULL ||
      (ptrs[1] = calloc(b->nsmp + 1, sizeof(void *))) == NULL)
    goto cleanup;
  for (size_t i = 0; i < b->nsmp; i++) {
    perftools__profiles__sample__init(&smp[i]);
    smp[i].n_location_id = b->smps[i].nloc;
    smp[i].location_id = b->smps[i].locs;
    memcpy(&values[i * ntype], &b->smps[i].values[first_type], ntype * sizeof *values);
    smp[i].n_value = ntype;
    smp[i].value = &values[i * ntype];
    ptrs[1][i] = &smp[i];
  }
  p.n_sample = b->nsmp;
  p.sample = (Perftools__Profiles__Sample **)ptrs[1];

  if ((loc = calloc(b->nloc + 1, sizeof *loc)) == NULL ||
      (ptrs[2] = calloc(b->nloc + 1, sizeof(void *))) == NULL)
    goto cleanup;
  for (size_t i = 0; i < b->nloc; i++) {
    loc_t *l = &b->locs[i];
    perftools__profiles__location__init(&loc[i]);
    loc[i].id = i + 1;
    loc[i].mapping_id = l->mapping_id;
    loc[i].address = l->address;
    if (l->nline > 0) {
      void **lp = calloc(l->nline, sizeof *lp);
      if (lp == NULL) goto cleanup;
      for (size_t k = 0; k < l->nline; k++) lp[k] = &l->lines[k];
      loc[i].line = (Perftools__Profiles__Line **)lp;
      loc[i].n_line = l->nline;
    }
    ptrs[2][i] = &loc[i];
  }
  p.n_location = b->nloc;
  p.location = (Perftools__Profiles__Location **)ptrs[2];

  if ((fn = calloc(b->nfn + 1, sizeof *fn)) == NULL ||
      (ptrs[3] = calloc(b->nfn + 1, sizeof(void *))) == NULL)
    goto cleanup;
  for (size_t i = 0; i < b->nfn; i++) {
    perftools__profiles__function__init(&fn[i]);
    fn[i].id = i + 1;
    fn[i].name = fn[i].system_name = (int64_t)b->fns[i][0];
    fn[i].filename = (int64_t)b->fns[i][1];
    ptrs[3][i] = &fn[i];
  }
  p.n_function = b->nfn;
  p.function = (Perftools__Profiles__Function **)ptrs[3];

  if ((comments = calloc(in->ncomment + 1, sizeof *comments)) == NULL) goto cleanup;
  for (size_t i = 0; i < in->ncomment; i++)
    if ((rc = str_id(b, in->comments[i], &comments[i])) != 0) goto cleanup;
  p.n_comment = in->ncomment;
  p.comment = comments;

  /* The string table last: everything above may have added to it. */
  p.n_string_table = b->nstr;
  p.string_table = (char **)(uintptr_t)b->strs;

  size_t len = perftools__profiles__profile__get_packed_size(&p);
  rc = LL_ENOMEM;
  if ((bytes = malloc(len ? len : 1)) == NULL) goto cleanup;
  perftools__profiles__profile__pack(&p, bytes);
  rc = write_gzip(out, bytes, len);
  if (rc == 0 && (fflush(out) != 0 || ferror(out))) rc = LL_EIO;

cleanup:
  if (loc != NULL)
    for (size_t i = 0; i < b->nloc; i++) free(loc[i].line);
  for (size_t i = 0; i < 5; i++) free(ptrs[i]);
  free(smp);
  free(loc);
  free(fn);
  free(map);
  free(values);
  free(comments);
  free(bytes);
  return rc;
}

int ll_report_pprof(FILE *out, const ll_pprof_input_t *in) {
  builder_t b;
  int64_t empty;
  int rc;

  if (out == NULL || in == NULL || in->inuse == NULL) return LL_EINVAL;
  memset(&b, 0, sizeof b);
  b.in = in;
  if ((rc = str_id(&b, "", &empty)) != 0) goto cleanup; /* string 0 is "", as the format says */
  if (in->alloc != NULL)
    for (size_t i = 0; i < in->alloc->ntraces; i++)
      if ((rc = add_trace(&b, &in->alloc->traces[i], 0)) != 0) goto cleanup;
  for (size_t i = 0; i < in->inuse->ntraces; i++)
    if ((rc = add_trace(&b, &in->inuse->traces[i], 2)) != 0) goto cleanup;
  rc = pack(&b, out);

cleanup:
  for (size_t i = 0; i < b.nloc; i++) free(b.locs[i].lines);
  for (size_t i = 0; i < b.nsmp; i++) free(b.smps[i].locs);
  for (size_t i = 0; i < b.nowned; i++) free(b.owned[i]);
  free(b.locs);
  free(b.smps);
  free(b.smp_next);
  free(b.owned);
  free(b.strs);
  free(b.str_next);
  free(b.fns);
  free(b.scratch);
  idmap_free(&b.str_ix);
  idmap_free(&b.fn_ix);
  idmap_free(&b.loc_by_ip);
  idmap_free(&b.loc_by_line);
  idmap_free(&b.smp_ix);
  return rc;
}
