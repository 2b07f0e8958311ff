/* symbolize_snapshot.c - whole snapshots symbolised and attributed: one moment, or several moments in both attributions at once. */
#include "symbolize.h"

#include <string.h>

#include "arena.h"
#include "capture_format.h"
#include "symbolize_pmap.h"
#include "symbolize_priv.h"

/* What one address stands for, kept per address (in the output arena). */
typedef struct sym_frames {
  ll_frame_t *frames;
  uint32_t n;
  int own; /* the address is in the program's own code */
} sym_frames_t;

/* One conversion session: every output shares the arena, each address is resolved once, and
 * each input traceback converted once per attribution, whatever the moments sharing it. */
typedef struct sctx {
  ll_symbolizer_t *s;
  ll__arena_t *arena;
  ll__pmap_t ips;    /* ip -> sym_frames_t */
  ll__pmap_t tbs[2]; /* per attribution (native 0, 1): input traceback -> output traceback */
  ll__pmap_t strs;   /* input string -> its copy in arena (the input's arena is freed after us) */
  ll_frame_t *scratch;
  int *scratch_own;
  size_t scratch_cap;
} sctx_t;

static void sctx_done(sctx_t *c) {
  ll__arena_free(c->arena);
  ll__pmap_free(&c->ips);
  ll__pmap_free(&c->tbs[0]);
  ll__pmap_free(&c->tbs[1]);
  ll__pmap_free(&c->strs);
  ll__mmap_free(c->scratch, c->scratch_cap * sizeof *c->scratch);
  ll__mmap_free(c->scratch_own, c->scratch_cap * sizeof *c->scratch_own);
}

static int frames_of_ip(sctx_t *c, uint64_t ip, const sym_frames_t **out) {
  sym_frames_t *sf = ll__pmap_get(&c->ips, ip);
  if (sf == NULL) {
    ll__sym_ip_t r;
    int rc = ll__symbolize_ip(c->s, ip, c->arena, &r);
    if (rc != 0) return rc;
    if ((sf = ll__arena_alloc(c->arena, sizeof *sf)) == NULL) return LL_ENOMEM;
    if ((sf->frames = ll__arena_alloc(c->arena, r.n * sizeof *sf->frames)) == NULL) return LL_ENOMEM;
    memcpy(sf->frames, r.frames, r.n * sizeof *sf->frames);
    sf->n = r.n;
    sf->own = r.own;
    if ((rc = ll__pmap_put(&c->ips, ip, sf)) != 0) return rc;
  }
  *out = sf;
  return 0;
}

/* A copy of an input string in the output arena, one per distinct input pointer. */
static int own_str(sctx_t *c, const char *in, const char **out) {
  char *s = ll__pmap_get(&c->strs, (uint64_t)(uintptr_t)in);
  if (s == NULL) {
    if ((s = ll__arena_strdup(c->arena, in)) == NULL) return LL_ENOMEM;
    int rc = ll__pmap_put(&c->strs, (uint64_t)(uintptr_t)in, s);
    if (rc != 0) return rc;
  }
  *out = s;
  return 0;
}

static int reserve(sctx_t *c, size_t n) {
  if (n <= c->scratch_cap) return 0;
  size_t cap = c->scratch_cap ? c->scratch_cap : 256;
  while (cap < n) cap *= 2;
  ll_frame_t *f = ll__mmap_alloc(cap * sizeof *f);
  int *o = ll__mmap_alloc(cap * sizeof *o);
  if (f == NULL || o == NULL) {
    ll__mmap_free(f, cap * sizeof *f);
    ll__mmap_free(o, cap * sizeof *o);
    return LL_ENOMEM;
  }
  ll__mmap_free(c->scratch, c->scratch_cap * sizeof *c->scratch);
  ll__mmap_free(c->scratch_own, c->scratch_cap * sizeof *c->scratch_own);
  c->scratch = f;
  c->scratch_own = o;
  c->scratch_cap = cap;
  return 0;
}

static int convert_tb(sctx_t *c, int native, const ll_traceback_t *in, const ll_traceback_t **out) {
  ll_traceback_t *tb = ll__pmap_get(&c->tbs[native], (uint64_t)(uintptr_t)in);
  if (tb != NULL) {
    *out = tb;
    return 0;
  }
  size_t n = 0;
  int rc, any_own = 0;
  /* Without --native, a traceback with own-code frames shows only those: library frames are
   * then never resolved at all (resolving one libc frame can mean decompressing all of libc's
   * debug info, tens of milliseconds). Own-ness comes from the module map alone. */
  int own_only = 0;
  if (!native)
    for (uint32_t i = 0; i < in->nframe && !own_only; i++)
      own_only = in->frames[i].ip == 0 || ll__symbolizer_owns(c->s, in->frames[i].ip);
  for (uint32_t i = 0; i < in->nframe; i++) {
    const ll_frame_t *f = &in->frames[i];
    if (own_only && f->ip != 0 && !ll__symbolizer_owns(c->s, f->ip)) continue; /* dropped below anyway */
    if (f->ip == 0) { /* symbolic already: the program's own source */
      if ((rc = reserve(c, n + 1)) != 0) return rc;
      c->scratch[n] = *f;
      if ((rc = own_str(c, f->filename, &c->scratch[n].filename)) != 0 ||
          (rc = own_str(c, f->function, &c->scratch[n].function)) != 0)
        return rc;
      c->scratch_own[n++] = 1;
      any_own = 1;
      continue;
    }
    const sym_frames_t *sf;
    if ((rc = frames_of_ip(c, f->ip, &sf)) != 0) return rc;
    if ((rc = reserve(c, n + sf->n)) != 0) return rc;
    for (uint32_t j = 0; j < sf->n; j++) {
      c->scratch[n] = sf->frames[j];
      c->scratch_own[n++] = sf->own;
    }
    any_own |= sf->own;
  }
  /* Default attribution keeps the own-code frames only (when there are any). */
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (native || !any_own || c->scratch_own[i]) c->scratch[k++] = c->scratch[i];
  if ((tb = ll__arena_alloc(c->arena, sizeof *tb)) == NULL) return LL_ENOMEM;
  ll_frame_t *frames = ll__arena_alloc(c->arena, (k ? k : 1) * sizeof *frames);
  if (frames == NULL) return LL_ENOMEM;
  memcpy(frames, c->scratch, k * sizeof *frames);
  /* Frames cut by the depth limit at recording (return addresses, each perhaps several frames
   * once expanded: counted as one) and by LL_MAX_NFRAME here stay counted as missing. */
  uint32_t cut = in->total_nframe > in->nframe ? in->total_nframe - in->nframe : 0;
  tb->total_nframe = (uint32_t)k + cut;
  tb->nframe = (uint32_t)(k > LL_MAX_NFRAME ? LL_MAX_NFRAME : k);
  tb->frames = frames;
  if ((rc = ll__pmap_put(&c->tbs[native], (uint64_t)(uintptr_t)in, tb)) != 0) return rc;
  *out = tb;
  return 0;
}

/* `in` converted into c's arena (its snapshot and traces too). */
static int convert_snapshot(sctx_t *c, const ll_snapshot_t *in, int native, ll_snapshot_t **out) {
  ll_snapshot_t *snap = ll__arena_alloc(c->arena, sizeof *snap);
  ll_trace_t *traces = ll__arena_alloc(c->arena, (in->ntraces + 1) * sizeof *traces);
  if (snap == NULL || traces == NULL) return LL_ENOMEM;
  *snap = *in;
  snap->ll__arena = c->arena;
  if ((snap->program = ll__arena_strdup(c->arena, in->program != NULL ? in->program : "")) == NULL)
    return LL_ENOMEM;
  for (size_t i = 0; i < in->ntraces; i++) {
    traces[i] = in->traces[i];
    int rc = convert_tb(c, native, in->traces[i].traceback, &traces[i].traceback);
    if (rc != 0) return rc;
  }
  snap->traces = traces;
  *out = snap;
  return 0;
}

int ll_symbolize_snapshot(ll_symbolizer_t *s, const ll_snapshot_t *in, int native,
                          ll_snapshot_t **out) {
  if (s == NULL || in == NULL || out == NULL) return LL_EINVAL;
  sctx_t c = {.s = s};
  int rc = LL_ENOMEM;
  if ((c.arena = ll__arena_new()) == NULL) return LL_ENOMEM;
  if ((rc = convert_snapshot(&c, in, native != 0, out)) == 0) c.arena = NULL; /* the snapshot's */
  sctx_done(&c);
  return rc;
}

/* Both output arrays to NULL (either may be absent). */
static void clear_out(ll_snapshot_t **own, ll_snapshot_t **native, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (own != NULL) own[i] = NULL;
    if (native != NULL) native[i] = NULL;
  }
}

int ll_symbolize_moments(const ll_capture_t *cap, const ll_at_t *at, size_t n,
                         ll_snapshot_t **own, ll_snapshot_t **native) {
  ll_snapshot_t *raw[LL_AT__COUNT] = {0};
  ll_symbolizer_t *s = NULL;
  const ll_cap_module_t *mods;
  size_t nmod, outs = 0;
  sctx_t c = {0};
  int rc;

  if (cap == NULL || at == NULL || n == 0 || n > LL_AT__COUNT || (own == NULL && native == NULL))
    return LL_EINVAL;
  clear_out(own, native, n);
  if ((rc = ll_capture_load_many(cap, at, n, raw)) != 0) return rc;
  rc = ll_capture_modules(cap, &mods, &nmod);
  if (rc == LL_ENOVIEW) { /* a plain snapshot file: nothing native to symbolise */
    memcpy(own != NULL ? own : native, raw, n * sizeof *raw);
    return 0;
  }
  if (rc != 0) goto cleanup;
  if ((rc = ll_symbolizer_new(mods, nmod, &s)) != 0) goto cleanup;
  c.s = s;
  rc = LL_ENOMEM;
  if ((c.arena = ll__arena_new()) == NULL) goto cleanup;
  for (size_t i = 0; i < n; i++) {
    if (own != NULL && (rc = convert_snapshot(&c, raw[i], 0, &own[i])) != 0) goto cleanup;
    if (native != NULL && (rc = convert_snapshot(&c, raw[i], 1, &native[i])) != 0) goto cleanup;
    outs += (own != NULL) + (native != NULL);
  }
  /* One ll_snapshot_free per output: the arena was made with one owner. */
  for (size_t k = 1; k < outs; k++) ll__arena_ref(c.arena);
  c.arena = NULL;
  rc = 0;
cleanup:
  if (rc != 0) clear_out(own, native, n);
  sctx_done(&c);
  ll_symbolizer_free(s);
  for (size_t i = 0; i < n; i++) ll_snapshot_free(raw[i]);
  return rc;
}

int ll_symbolize_capture(const ll_capture_t *cap, ll_at_t at, int native, ll_snapshot_t **out) {
  if (native < 0) native = ll_capture_native(cap);
  return native ? ll_symbolize_moments(cap, &at, 1, NULL, out) : ll_symbolize_moments(cap, &at, 1, out, NULL);
}

int ll_symbolize_load(const char *path, ll_at_t at, int native, ll_snapshot_t **out) {
  ll_capture_t *cap = NULL;
  int rc = ll_capture_open(path, &cap);
  if (rc == 0) rc = ll_symbolize_capture(cap, at, native, out);
  ll_capture_close(cap);
  return rc;
}
