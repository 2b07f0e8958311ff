/* capture_reach.c - encoder and bounds-checked decoder of the capture's REACH section (the exit scan). */
#include "capture_reach.h"

#include <string.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "capture_format.h"

#define HEAD 120u
#define TRACE 64u
#define EDGE 24u
#define ROOT 48u

size_t ll_cap_reach_size(const ll_cap_reach_t *h) {
  return HEAD + (size_t)h->ntrace * TRACE + (size_t)h->nedge * EDGE + (size_t)h->nroot * ROOT;
}

unsigned char *ll_cap_reach_put_head(unsigned char *p, const ll_cap_reach_t *h) {
  ll__put_u32(p, 1);
  ll__put_u32(p + 4, h->ntrace);
  ll__put_u32(p + 8, h->nedge);
  ll__put_u32(p + 12, h->nroot);
  ll__put_u32(p + 16, h->nthread);
  ll__put_u32(p + 20, h->flags);
  ll__put_u64(p + 24, h->scan_ns);
  ll__put_u64(p + 32, h->heap_scanned);
  ll__put_u64(p + 40, h->root_scanned);
  ll__put_u64(p + 48, h->cpu_ns);
  return ll_cap_reach_put_trace(p + 56, h->bytes, h->blocks);
}

unsigned char *ll_cap_reach_put_trace(unsigned char *p, const uint64_t bytes[LL_CAP_REACH_KINDS],
                                      const uint64_t blocks[LL_CAP_REACH_KINDS]) {
  for (int k = 0; k < LL_CAP_REACH_KINDS; k++) {
    ll__put_u64(p + 16 * k, bytes[k]);
    ll__put_u64(p + 16 * k + 8, blocks[k]);
  }
  return p + TRACE;
}

unsigned char *ll_cap_reach_put_edge(unsigned char *p, const ll_cap_reach_edge_t *e) {
  ll__put_u32(p, e->holder);
  ll__put_u32(p + 4, e->held);
  ll__put_u64(p + 8, e->blocks);
  ll__put_u64(p + 16, e->bytes);
  return p + EDGE;
}

unsigned char *ll_cap_reach_put_root(unsigned char *p, const ll_cap_reach_root_t *r) {
  ll__put_u32(p, r->held);
  ll__put_u32(p + 4, r->kind);
  ll__put_u32(p + 8, r->thread);
  ll__put_u32(p + 12, 0);
  ll__put_u64(p + 16, r->addr);
  ll__put_u64(p + 24, r->ip);
  ll__put_u64(p + 32, r->blocks);
  ll__put_u64(p + 40, r->bytes);
  return p + ROOT;
}

static void get_kinds(const unsigned char *p, uint64_t bytes[LL_CAP_REACH_KINDS],
                      uint64_t blocks[LL_CAP_REACH_KINDS]) {
  for (int k = 0; k < LL_CAP_REACH_KINDS; k++) {
    bytes[k] = ll__get_u64(p + 16 * k);
    blocks[k] = ll__get_u64(p + 16 * k + 8);
  }
}

int ll_cap_decode_reach(const void *data, size_t len, size_t ntrace_end, ll__arena_t *arena,
                        ll_cap_reach_t *out) {
  const unsigned char *p = data;
  ll_cap_reach_t h;
  memset(&h, 0, sizeof h);
  if (len < HEAD) return LL_ECORRUPT;
  if (ll__get_u32(p) != 1) return LL_EVERSION;
  h.ntrace = ll__get_u32(p + 4);
  h.nedge = ll__get_u32(p + 8);
  h.nroot = ll__get_u32(p + 12);
  h.nthread = ll__get_u32(p + 16);
  h.flags = ll__get_u32(p + 20);
  h.scan_ns = ll__get_u64(p + 24);
  h.heap_scanned = ll__get_u64(p + 32);
  h.root_scanned = ll__get_u64(p + 40);
  h.cpu_ns = ll__get_u64(p + 48);
  get_kinds(p + 56, h.bytes, h.blocks);
  if (h.ntrace != ntrace_end || ll_cap_reach_size(&h) != len) return LL_ECORRUPT;
  h.trace_bytes = ll__arena_alloc(arena, ((size_t)h.ntrace + 1) * sizeof *h.trace_bytes);
  h.trace_blocks = ll__arena_alloc(arena, ((size_t)h.ntrace + 1) * sizeof *h.trace_blocks);
  h.edges = ll__arena_alloc(arena, ((size_t)h.nedge + 1) * sizeof *h.edges);
  h.roots = ll__arena_alloc(arena, ((size_t)h.nroot + 1) * sizeof *h.roots);
  if (h.trace_bytes == NULL || h.trace_blocks == NULL || h.edges == NULL || h.roots == NULL)
    return LL_ENOMEM;
  p += HEAD;
  for (uint32_t i = 0; i < h.ntrace; i++, p += TRACE) get_kinds(p, h.trace_bytes[i], h.trace_blocks[i]);
  for (uint32_t i = 0; i < h.nedge; i++, p += EDGE) {
    ll_cap_reach_edge_t *e = &h.edges[i];
    *e = (ll_cap_reach_edge_t){ll__get_u32(p), ll__get_u32(p + 4), ll__get_u64(p + 8), ll__get_u64(p + 16)};
    if (e->holder >= h.ntrace || e->held >= h.ntrace) return LL_ECORRUPT;
  }
  for (uint32_t i = 0; i < h.nroot; i++, p += ROOT) {
    ll_cap_reach_root_t *r = &h.roots[i];
    *r = (ll_cap_reach_root_t){ll__get_u32(p), ll__get_u32(p + 4), ll__get_u32(p + 8),
                               ll__get_u64(p + 16), ll__get_u64(p + 24), ll__get_u64(p + 32),
                               ll__get_u64(p + 40)};
    if (r->held >= h.ntrace || r->kind > LL_CAP_ROOT_REGISTER) return LL_ECORRUPT;
  }
  *out = h;
  return 0;
}
