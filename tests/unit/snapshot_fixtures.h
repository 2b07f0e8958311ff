/* snapshot_fixtures.h - build snapshots by hand for tests, each in its own arena as the engine does. */
#ifndef LEAKLAB_SNAPSHOT_FIXTURES_H
#define LEAKLAB_SNAPSHOT_FIXTURES_H
/*
 * Usage:
 *   ll_snapshot_t *s = fx_snapshot_new(LL_AT_PEAK, 16);          capacity: 16 traces
 *   fx_trace(s, "a.c:10:alloc main.c:5:main", 100, 2);           frames most recent first
 *   fx_trace_u(s, "b.c:3", 40, 48, 1);                           explicit usable bytes
 *   ...
 *   ll_snapshot_free(s);                                         frees everything
 * A frame spec is "file:line[:function][@hexip]"; frames are separated by spaces. fx_trace sets
 * usable = size + 16 * count so tests can tell usable from size. Everything (the snapshot, its
 * traces, tracebacks, frames, strings) lives in the snapshot's arena, so ll_snapshot_free works
 * exactly as for engine-made snapshots. Functions return NULL on failure (tests assert).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"

typedef struct fx_snapshot {
  ll_snapshot_t snap; /* first: an fx_snapshot_t * is an ll_snapshot_t * */
  size_t cap;
  ll_trace_t *traces;
} fx_snapshot_t;

static inline ll_snapshot_t *fx_snapshot_new(ll_at_t at, size_t cap) {
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return NULL;
  fx_snapshot_t *fx = ll__arena_alloc(a, sizeof *fx);
  ll_trace_t *traces = ll__arena_alloc(a, (cap ? cap : 1) * sizeof *traces);
  char *program = ll__arena_strdup(a, "fixture --test");
  if (fx == NULL || traces == NULL || program == NULL) {
    ll__arena_free(a);
    return NULL;
  }
  fx->cap = cap;
  fx->traces = traces;
  fx->snap.at = at;
  fx->snap.traceback_limit = 16;
  fx->snap.program = program;
  fx->snap.current_bytes = 1000 + (uint64_t)at;
  fx->snap.peak_bytes = 2000 + (uint64_t)at;
  fx->snap.total_allocations = 30;
  fx->snap.total_bytes = 4000;
  fx->snap.untracked_allocations = 1;
  fx->snap.untracked_bytes = 24;
  fx->snap.traces = traces;
  fx->snap.ll__arena = a;
  return &fx->snap;
}

/* A traceback from explicit frames (strings copied into the snapshot's arena). */
static inline const ll_traceback_t *fx_traceback_frames(ll_snapshot_t *s, const ll_frame_t *frames,
                                                        uint32_t n, uint32_t total_nframe) {
  ll__arena_t *a = s->ll__arena;
  ll_traceback_t *tb = ll__arena_alloc(a, sizeof *tb);
  ll_frame_t *fr = ll__arena_alloc(a, (n ? n : 1) * sizeof *fr);
  if (tb == NULL || fr == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    fr[i] = frames[i];
    fr[i].filename = ll__arena_strdup(a, frames[i].filename);
    fr[i].function = ll__arena_strdup(a, frames[i].function);
    if (fr[i].filename == NULL || fr[i].function == NULL) return NULL;
  }
  tb->nframe = n;
  tb->total_nframe = total_nframe;
  tb->frames = fr;
  return tb;
}

/* A traceback from a spec string (see the top of this file). */
static inline const ll_traceback_t *fx_traceback(ll_snapshot_t *s, const char *spec) {
  ll_frame_t frames[64];
  char buf[512];
  uint32_t n = 0;
  size_t len = strlen(spec);
  if (len >= sizeof buf) return NULL;
  memcpy(buf, spec, len + 1);
  for (char *tok = strtok(buf, " "); tok != NULL; tok = strtok(NULL, " ")) {
    if (n == 64) return NULL;
    ll_frame_t *f = &frames[n++];
    f->ip = 0;
    f->function = "";
    char *at = strchr(tok, '@');
    if (at != NULL) {
      *at = '\0';
      f->ip = strtoull(at + 1, NULL, 16);
    }
    char *c1 = strchr(tok, ':');
    if (c1 == NULL) return NULL;
    *c1 = '\0';
    f->filename = tok;
    char *c2 = strchr(c1 + 1, ':');
    if (c2 != NULL) {
      *c2 = '\0';
      f->function = c2 + 1;
    }
    f->lineno = (uint32_t)strtoul(c1 + 1, NULL, 10);
  }
  return fx_traceback_frames(s, frames, n, n);
}

static inline ll_trace_t *fx_trace_tb(ll_snapshot_t *s, const ll_traceback_t *tb, uint64_t size,
                                      uint64_t usable, uint64_t count) {
  fx_snapshot_t *fx = (fx_snapshot_t *)s;
  if (tb == NULL || s->ntraces >= fx->cap) return NULL;
  ll_trace_t *t = &fx->traces[s->ntraces++];
  t->traceback = tb;
  t->size = size;
  t->usable = usable;
  t->count = count;
  return t;
}

static inline ll_trace_t *fx_trace_u(ll_snapshot_t *s, const char *spec, uint64_t size,
                                     uint64_t usable, uint64_t count) {
  return fx_trace_tb(s, fx_traceback(s, spec), size, usable, count);
}

static inline ll_trace_t *fx_trace(ll_snapshot_t *s, const char *spec, uint64_t size, uint64_t count) {
  return fx_trace_u(s, spec, size, size + 16 * count, count);
}

/* Deterministic pseudo-random snapshot: `ntraces` distinct tracebacks of `depth` frames drawn
 * from `nfiles` files (interned: frames share string pointers, as the tracker's do); the
 * outermost frame's line is the trace's index + 1, which keeps tracebacks distinct. */
static inline ll_snapshot_t *fx_random_snapshot(uint64_t seed, ll_at_t at, size_t ntraces,
                                                uint32_t depth, uint32_t nfiles) {
  ll_snapshot_t *s = fx_snapshot_new(at, ntraces);
  if (s == NULL || depth == 0 || nfiles == 0) return NULL;
  ll__arena_t *a = s->ll__arena;
  const char **files = ll__arena_alloc(a, nfiles * sizeof *files);
  const char **funcs = ll__arena_alloc(a, nfiles * 8 * sizeof *funcs);
  ll_frame_t *frames = ll__arena_alloc(a, ntraces * depth * sizeof *frames);
  ll_traceback_t *tbs = ll__arena_alloc(a, ntraces * sizeof *tbs);
  if (files == NULL || funcs == NULL || frames == NULL || tbs == NULL) return NULL;
  for (uint32_t f = 0; f < nfiles; f++) {
    char name[64];
    int k = 0;
    const char *dir = "src/module_";
    while (*dir) name[k++] = *dir++;
    for (uint32_t v = f + 1000, d = 1000; d > 0; d /= 10) name[k++] = (char)('0' + v / d % 10);
    name[k++] = '.';
    name[k++] = 'c';
    name[k] = '\0';
    files[f] = ll__arena_strdup(a, name);
    for (int g = 0; g < 8; g++) {
      name[k] = '_';
      name[k + 1] = (char)('a' + g);
      name[k + 2] = '\0';
      funcs[f * 8 + (uint32_t)g] = ll__arena_strdup(a, name);
    }
  }
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < ntraces; i++) {
    ll_frame_t *fr = &frames[i * depth];
    for (uint32_t j = 0; j < depth; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      uint32_t f = (uint32_t)(x % nfiles);
      fr[j].filename = files[f];
      fr[j].function = funcs[f * 8 + (uint32_t)((x >> 20) % 8)];
      fr[j].lineno = j + 1 == depth ? (uint32_t)(i + 1) : (uint32_t)((x >> 32) % 200 + 1);
      fr[j].ip = 0;
    }
    tbs[i].nframe = depth;
    tbs[i].total_nframe = depth + (uint32_t)(i % 3);
    tbs[i].frames = fr;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t count = x % 7 + 1;
    if (fx_trace_tb(s, &tbs[i], (x >> 8) % 4096 * count + count, (x >> 8) % 4096 * count + 16 * count,
                    count) == NULL)
      return NULL;
  }
  return s;
}

static inline int fx_frame_eq(const ll_frame_t *a, const ll_frame_t *b) {
  return strcmp(a->filename, b->filename) == 0 && strcmp(a->function, b->function) == 0 &&
         a->lineno == b->lineno && a->ip == b->ip;
}

/* NULL when the snapshots are equal in every field (strings by content, traces in order), else
 * the name of the first field that differs. */
static inline const char *fx_snapshot_diff(const ll_snapshot_t *a, const ll_snapshot_t *b) {
  if (a->at != b->at) return "at";
  if (a->traceback_limit != b->traceback_limit) return "traceback_limit";
  if (strcmp(a->program, b->program) != 0) return "program";
  if (a->current_bytes != b->current_bytes) return "current_bytes";
  if (a->peak_bytes != b->peak_bytes) return "peak_bytes";
  if (a->total_allocations != b->total_allocations) return "total_allocations";
  if (a->total_bytes != b->total_bytes) return "total_bytes";
  if (a->untracked_allocations != b->untracked_allocations) return "untracked_allocations";
  if (a->untracked_bytes != b->untracked_bytes) return "untracked_bytes";
  if (a->ntraces != b->ntraces) return "ntraces";
  for (size_t i = 0; i < a->ntraces; i++) {
    const ll_trace_t *x = &a->traces[i], *y = &b->traces[i];
    if (x->size != y->size) return "trace.size";
    if (x->usable != y->usable) return "trace.usable";
    if (x->count != y->count) return "trace.count";
    if (x->traceback->nframe != y->traceback->nframe) return "traceback.nframe";
    if (x->traceback->total_nframe != y->traceback->total_nframe) return "traceback.total_nframe";
    for (uint32_t j = 0; j < x->traceback->nframe; j++)
      if (!fx_frame_eq(&x->traceback->frames[j], &y->traceback->frames[j])) return "frame";
  }
  return NULL;
}

#endif
