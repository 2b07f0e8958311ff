/* capture_format.c - the decoders (bounds-checked) of the capture's extra sections, and the system-library rule. */
#include "capture_format.h"

#include <leaklab/leaklab.h>

#include "arena.h"

/* A cursor over section bytes: every read checks the remaining length first. */
typedef struct cur {
  const unsigned char *p;
  size_t left;
} cur_t;

static int take(cur_t *c, size_t n, const unsigned char **out) {
  if (c->left < n) return -1;
  *out = c->p;
  c->p += n;
  c->left -= n;
  return 0;
}

static int u32(cur_t *c, uint32_t *v) {
  const unsigned char *p;
  if (take(c, 4, &p) != 0) return -1;
  *v = ll__get_u32(p);
  return 0;
}

static int u64(cur_t *c, uint64_t *v) {
  const unsigned char *p;
  if (take(c, 8, &p) != 0) return -1;
  *v = ll__get_u64(p);
  return 0;
}

static int pad8(cur_t *c, size_t used) {
  const unsigned char *p;
  size_t pad = (8 - used % 8) % 8;
  return take(c, pad < c->left ? pad : c->left, &p);
}

static char *copy_str(ll__arena_t *a, const unsigned char *s, size_t n) {
  char *d = ll__arena_alloc(a, n + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

int ll_cap_decode_modules(const void *data, size_t len, ll__arena_t *arena,
                          ll_cap_module_t **mods, size_t *n) {
  cur_t c = {data, len};
  uint32_t count, zero;
  if (u32(&c, &count) != 0 || u32(&c, &zero) != 0) return LL_ECORRUPT;
  /* Each entry takes at least 32 bytes: a count larger than that is a lie. */
  if (count > c.left / 32) return LL_ECORRUPT;
  ll_cap_module_t *m = ll__arena_alloc(arena, (size_t)count * sizeof *m + 1);
  if (m == NULL) return LL_ENOMEM;
  for (uint32_t i = 0; i < count; i++) {
    const unsigned char *h, *path, *bid;
    if (u64(&c, &m[i].bias) != 0 || u64(&c, &m[i].lo) != 0 || u64(&c, &m[i].hi) != 0 ||
        u32(&c, &m[i].flags) != 0 || take(&c, 4, &h) != 0)
      return LL_ECORRUPT;
    size_t plen = ll__get_u16(h), blen = ll__get_u16(h + 2);
    if (take(&c, plen, &path) != 0 || take(&c, blen, &bid) != 0) return LL_ECORRUPT;
    if (pad8(&c, 32 + plen + blen) != 0) return LL_ECORRUPT;
    if (m[i].hi < m[i].lo) return LL_ECORRUPT;
    if ((m[i].path = copy_str(arena, path, plen)) == NULL) return LL_ENOMEM;
    m[i].build_id = bid;
    m[i].build_id_len = blen;
  }
  *mods = m;
  *n = count;
  return 0;
}

int ll_cap_decode_process(const void *data, size_t len, ll__arena_t *arena,
                          ll_cap_process_t *out) {
  cur_t c = {data, len};
  uint32_t version, sig, nstage, zero;
  memset(out, 0, sizeof *out);
  if (u32(&c, &version) != 0 || version != 1) return LL_ECORRUPT;
  if (u32(&c, &out->pid) != 0 || u32(&c, &out->ppid) != 0 || u32(&c, &out->how) != 0 ||
      u32(&c, &sig) != 0 || u32(&c, &out->flags) != 0 || u32(&c, &out->frames) != 0 ||
      u32(&c, &out->unwind) != 0 || u32(&c, &nstage) != 0 || u32(&c, &zero) != 0)
    return LL_ECORRUPT;
  out->signal = (int32_t)sig;
  if (nstage > c.left / 40) return LL_ECORRUPT;
  out->stages = ll__arena_alloc(arena, (size_t)nstage * sizeof *out->stages + 1);
  if (out->stages == NULL) return LL_ENOMEM;
  for (uint32_t i = 0; i < nstage; i++) {
    ll_cap_stage_t *s = &out->stages[i];
    uint32_t plen;
    const unsigned char *prog;
    if (u32(&c, &s->pid) != 0 || u32(&c, &plen) != 0 || u64(&c, &s->peak) != 0 ||
        u64(&c, &s->end) != 0 || u64(&c, &s->total_allocations) != 0 ||
        u64(&c, &s->total_bytes) != 0 || take(&c, plen, &prog) != 0 || pad8(&c, plen) != 0)
      return LL_ECORRUPT;
    if ((s->program = copy_str(arena, prog, plen)) == NULL) return LL_ENOMEM;
  }
  out->nstage = nstage;
  return 0;
}

int ll_cap_decode_timeline(const void *data, size_t len, ll__arena_t *arena,
                           ll_cap_timeline_t *out) {
  cur_t c = {data, len};
  uint32_t count, zero;
  memset(out, 0, sizeof *out);
  if (u64(&c, &out->interval_ns) != 0 || u32(&c, &count) != 0 || u32(&c, &zero) != 0)
    return LL_ECORRUPT;
  if (count != c.left / 24 || c.left % 24 != 0) return LL_ECORRUPT;
  ll_cap_point_t *pt = ll__arena_alloc(arena, (size_t)count * sizeof *pt + 1);
  if (pt == NULL) return LL_ENOMEM;
  for (uint32_t i = 0; i < count; i++)
    if (u64(&c, &pt[i].t_ns) != 0 || u64(&c, &pt[i].current) != 0 || u64(&c, &pt[i].high) != 0)
      return LL_ECORRUPT;
  out->points = pt;
  out->npoint = count;
  return 0;
}

int ll_cap_decode_histogram(const void *data, size_t len, ll_cap_histogram_t *out) {
  cur_t c = {data, len};
  uint32_t n, zero;
  memset(out, 0, sizeof *out);
  if (u32(&c, &n) != 0 || n != LL_CAP_HIST_BUCKETS || u32(&c, &zero) != 0 ||
      c.left != 2u * 8u * LL_CAP_HIST_BUCKETS)
    return LL_ECORRUPT;
  for (uint32_t i = 0; i < n; i++) (void)u64(&c, &out->counts[i]);
  for (uint32_t i = 0; i < n; i++) (void)u64(&c, &out->bytes[i]);
  return 0;
}

int ll_cap_decode_budget(const void *data, size_t len, ll_cap_budget_t *out) {
  cur_t c = {data, len};
  uint32_t version;
  memset(out, 0, sizeof *out);
  if (u32(&c, &version) != 0 || version != 1 || u32(&c, &out->flags) != 0 ||
      u64(&c, &out->limit_memory) != 0 || u64(&c, &out->limit_leaks) != 0 || c.left != 0 ||
      (out->flags & ~(LL_CAP_BUDGET_MEMORY | LL_CAP_BUDGET_LEAKS)) != 0)
    return LL_ECORRUPT;
  return 0;
}

int ll_cap_decode_jemalloc(const void *data, size_t len, ll_cap_jemalloc_t *out) {
  cur_t c = {data, len};
  uint32_t version, zero;
  memset(out, 0, sizeof *out);
  if (u32(&c, &version) != 0 || version != 1 || u32(&c, &zero) != 0 ||
      u64(&c, &out->allocated) != 0 || u64(&c, &out->active) != 0 ||
      u64(&c, &out->resident) != 0 || u64(&c, &out->mapped) != 0 || c.left != 0)
    return LL_ECORRUPT;
  return 0;
}

static int has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ll_cap_path_is_system(const char *path) {
  /* Debian installs libraries (libc, libstdc++, libgmp, the loader) under these; a library the
   * user built sits anywhere else (the build tree, $HOME, /opt) and counts as their own code. */
  static const char *const dirs[] = {"/lib/", "/lib64/", "/lib32/", "/usr/lib/", "/usr/lib64/",
                                     "/usr/lib32/", "/usr/libexec/"};
  if (path == NULL || path[0] != '/') return 1; /* the vdso, anonymous code */
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (has_prefix(path, dirs[i])) return 1;
  return 0;
}

/* ---- LINES ----------------------------------------------------------------------------------- */

static int u64s(cur_t *c, ll__arena_t *a, size_t n, uint64_t **out) {
  if (n > c->left / 8) return LL_ECORRUPT;
  uint64_t *v = ll__arena_alloc(a, n * sizeof *v + 1);
  if (v == NULL) return LL_ENOMEM;
  for (size_t i = 0; i < n; i++) u64(c, &v[i]); /* the length was checked */
  *out = v;
  return 0;
}

int ll_cap_decode_lines(const void *data, size_t len, ll__arena_t *arena, ll_cap_lines_t *out) {
  cur_t c = {data, len};
  uint32_t version;
  int rc;
  memset(out, 0, sizeof *out);
  if (u32(&c, &version) != 0 || version != 1 || u32(&c, &out->npts) != 0 ||
      u32(&c, &out->ncols) != 0 || u32(&c, &out->peak_pt) != 0 || u64(&c, &out->stride) != 0)
    return LL_ECORRUPT;
  if (out->ncols > c.left / 8 || (out->peak_pt != UINT32_MAX && out->peak_pt >= out->npts))
    return LL_ECORRUPT;
  ll_cap_lines_col_t *cols = ll__arena_alloc(arena, (size_t)out->ncols * sizeof *cols + 1);
  if (cols == NULL) return LL_ENOMEM;
  for (uint32_t k = 0; k < out->ncols; k++) {
    uint64_t *ips;
    if (u32(&c, &cols[k].nframe) != 0 || u32(&c, &cols[k].total_nframe) != 0 ||
        cols[k].nframe == 0 || cols[k].nframe > LL_CAP_LINES_MAX_FRAMES ||
        cols[k].total_nframe < cols[k].nframe)
      return LL_ECORRUPT;
    if ((rc = u64s(&c, arena, cols[k].nframe, &ips)) != 0) return rc;
    cols[k].ips = ips;
  }
  out->cols = cols;
  /* Every point takes 24 bytes and 8 per column: the counts must match the bytes left. */
  if ((uint64_t)out->npts * (24 + 8 * (uint64_t)out->ncols) != c.left) return LL_ECORRUPT;
  uint64_t *t = ll__arena_alloc(arena, (size_t)out->npts * sizeof *t + 1);
  uint64_t *clk = ll__arena_alloc(arena, (size_t)out->npts * sizeof *clk + 1);
  uint64_t *tot = ll__arena_alloc(arena, (size_t)out->npts * sizeof *tot + 1);
  if (t == NULL || clk == NULL || tot == NULL) return LL_ENOMEM;
  for (uint32_t i = 0; i < out->npts; i++) {
    u64(&c, &t[i]);
    u64(&c, &clk[i]);
    u64(&c, &tot[i]);
    if (i > 0 && clk[i] < clk[i - 1]) return LL_ECORRUPT; /* the clock never goes back */
  }
  uint64_t *val;
  if ((rc = u64s(&c, arena, (size_t)out->npts * out->ncols, &val)) != 0) return rc;
  out->t_ns = t;
  out->clock = clk;
  out->total = tot;
  out->val = val;
  return 0;
}
