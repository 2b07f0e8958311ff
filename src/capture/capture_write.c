/* capture_write.c - the capture's one writer: each extra section's bytes, laid out from its decoded form (capture_format.h). */
#include "capture_write.h"

#include <string.h>

/* Zeros up to the next multiple of 8 after `used` bytes from p; the position after them. */
static unsigned char *zero_pad8(unsigned char *p, size_t used) {
  size_t pad = (8 - used % 8) % 8;
  memset(p, 0, pad);
  return p + pad;
}

/* ---- 0x100 MODULES --------------------------------------------------------------------------- */

size_t ll_cap_module_size(size_t path_len, size_t build_id_len) {
  return (32 + path_len + build_id_len + 7) & ~(size_t)7;
}

unsigned char *ll_cap_modules_put_head(unsigned char *p, uint32_t count) {
  ll__put_u32(p, count);
  ll__put_u32(p + 4, 0);
  return p + 8;
}

unsigned char *ll_cap_modules_put(unsigned char *p, const ll_cap_module_t *m) {
  size_t plen = strlen(m->path);
  ll__put_u64(p, m->bias);
  ll__put_u64(p + 8, m->lo);
  ll__put_u64(p + 16, m->hi);
  ll__put_u32(p + 24, m->flags);
  ll__put_u16(p + 28, (uint16_t)plen);
  ll__put_u16(p + 30, (uint16_t)m->build_id_len);
  memcpy(p + 32, m->path, plen);
  if (m->build_id_len > 0) memcpy(p + 32 + plen, m->build_id, m->build_id_len);
  return zero_pad8(p + 32 + plen + m->build_id_len, 32 + plen + m->build_id_len);
}

/* ---- 0x101 TIMELINE -------------------------------------------------------------------------- */

size_t ll_cap_timeline_size(size_t npoint) { return 16 + 24 * npoint; }

void ll_cap_encode_timeline(unsigned char *buf, const ll_cap_timeline_t *t) {
  ll__put_u64(buf, t->interval_ns);
  ll__put_u32(buf + 8, (uint32_t)t->npoint);
  ll__put_u32(buf + 12, 0);
  for (size_t i = 0; i < t->npoint; i++) {
    ll__put_u64(buf + 16 + 24 * i, t->points[i].t_ns);
    ll__put_u64(buf + 24 + 24 * i, t->points[i].current);
    ll__put_u64(buf + 32 + 24 * i, t->points[i].high);
  }
}

/* ---- 0x102 HISTOGRAM ------------------------------------------------------------------------- */

void ll_cap_encode_histogram(unsigned char *buf, const ll_cap_histogram_t *h) {
  ll__put_u32(buf, LL_CAP_HIST_BUCKETS);
  ll__put_u32(buf + 4, 0);
  for (int i = 0; i < LL_CAP_HIST_BUCKETS; i++) {
    ll__put_u64(buf + 8 + 8 * i, h->counts[i]);
    ll__put_u64(buf + 8 + 8 * LL_CAP_HIST_BUCKETS + 8 * i, h->bytes[i]);
  }
}

/* ---- 0x103 PROCESS --------------------------------------------------------------------------- */

size_t ll_cap_process_size(const ll_cap_process_t *p) {
  size_t need = 40;
  for (size_t i = 0; i < p->nstage; i++)
    need += 40 + ((strlen(p->stages[i].program) + 7) & ~(size_t)7);
  return need;
}

void ll_cap_encode_process(unsigned char *buf, const ll_cap_process_t *p) {
  ll__put_u32(buf, 1);
  ll__put_u32(buf + 4, p->pid);
  ll__put_u32(buf + 8, p->ppid);
  ll__put_u32(buf + 12, p->how);
  ll__put_u32(buf + 16, (uint32_t)p->signal);
  ll__put_u32(buf + 20, p->flags);
  ll__put_u32(buf + 24, p->frames);
  ll__put_u32(buf + 28, p->unwind);
  ll__put_u32(buf + 32, (uint32_t)p->nstage);
  ll__put_u32(buf + 36, 0);
  unsigned char *q = buf + 40;
  for (size_t i = 0; i < p->nstage; i++) {
    const ll_cap_stage_t *st = &p->stages[i];
    size_t plen = strlen(st->program);
    ll__put_u32(q, st->pid);
    ll__put_u32(q + 4, (uint32_t)plen);
    ll__put_u64(q + 8, st->peak);
    ll__put_u64(q + 16, st->end);
    ll__put_u64(q + 24, st->total_allocations);
    ll__put_u64(q + 32, st->total_bytes);
    memcpy(q + 40, st->program, plen);
    q = zero_pad8(q + 40 + plen, plen);
  }
}

/* ---- 0x104 JEMALLOC -------------------------------------------------------------------------- */

void ll_cap_encode_jemalloc(unsigned char *buf, const ll_cap_jemalloc_t *j) {
  ll__put_u32(buf, 1);
  ll__put_u32(buf + 4, 0);
  ll__put_u64(buf + 8, j->allocated);
  ll__put_u64(buf + 16, j->active);
  ll__put_u64(buf + 24, j->resident);
  ll__put_u64(buf + 32, j->mapped);
}

/* ---- 0x105 LINES ----------------------------------------------------------------------------- */

size_t ll_cap_lines_size(const ll_cap_lines_t *l) {
  size_t n = 24;
  for (uint32_t c = 0; c < l->ncols; c++) n += 8 + 8 * (size_t)l->cols[c].nframe;
  return n + 24 * (size_t)l->npts + 8 * (size_t)l->npts * l->ncols;
}

void ll_cap_encode_lines(unsigned char *buf, const ll_cap_lines_t *l, uint64_t t0_ns) {
  unsigned char *p = buf;
  ll__put_u32(p, 1);
  ll__put_u32(p + 4, l->npts);
  ll__put_u32(p + 8, l->ncols);
  ll__put_u32(p + 12, l->peak_pt);
  ll__put_u64(p + 16, l->stride);
  p += 24;
  for (uint32_t c = 0; c < l->ncols; c++) {
    ll__put_u32(p, l->cols[c].nframe);
    ll__put_u32(p + 4, l->cols[c].total_nframe);
    p += 8;
    for (uint32_t f = 0; f < l->cols[c].nframe; f++, p += 8) ll__put_u64(p, l->cols[c].ips[f]);
  }
  for (uint32_t i = 0; i < l->npts; i++, p += 24) {
    ll__put_u64(p, l->t_ns[i] > t0_ns ? l->t_ns[i] - t0_ns : 0);
    ll__put_u64(p + 8, l->clock[i]);
    ll__put_u64(p + 16, l->total[i]);
  }
  for (size_t i = 0; i < (size_t)l->npts * l->ncols; i++, p += 8) ll__put_u64(p, l->val[i]);
}

/* ---- 0x107 BUDGET ---------------------------------------------------------------------------- */

void ll_cap_encode_budget(unsigned char *buf, const ll_cap_budget_t *b) {
  ll__put_u32(buf, 1);
  ll__put_u32(buf + 4, b->flags);
  ll__put_u64(buf + 8, b->limit_memory);
  ll__put_u64(buf + 16, b->limit_leaks);
}
