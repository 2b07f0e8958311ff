/* snapfile.c - the versioned, checksummed snapshot file (format in snapfile.h): write and load. */
#include "snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"

/* The image's mapping is rounded up to pages; under ASan the bytes past the file are poisoned so
 * the sanitizer builds catch a decoder that reads even one byte beyond it. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
static void img_poison(unsigned char *img, size_t len, size_t cap, int on) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), mapped = (cap + page - 1) / page * page;
  if (on) ASAN_POISON_MEMORY_REGION(img + len, mapped - len);
  else ASAN_UNPOISON_MEMORY_REGION(img + len, mapped - len);
}
#else
static void img_poison(unsigned char *img, size_t len, size_t cap, int on) {
  (void)img, (void)len, (void)cap, (void)on;
}
#endif

/* ==== little-endian bytes =================================================================== */

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static unsigned char *put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
  return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v) {
  put32(p, (uint32_t)v);
  return put32(p + 4, (uint32_t)(v >> 32));
}

static size_t pad8(size_t n) { return (8 - (n & 7)) & 7; }

/* Overflow-checked size arithmetic: once *acc is SIZE_MAX it stays there (callers test it). */
static void add_sz(size_t *acc, size_t v) { *acc = (*acc > SIZE_MAX - v) ? SIZE_MAX : *acc + v; }

static size_t mul_sz(size_t a, size_t b) { return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b; }

#define SNAP_HEAD 72u
#define TRACE_REC 32u
#define FRAME_REC 24u

/* ==== writing =============================================================================== */

typedef struct wctx {
  ll__ktab_t *kt;
  uint32_t *tb_of_trace; /* traceback id of every trace, all snapshots in order */
  size_t ntraces_all;
  uint32_t program[LL_AT__COUNT];
  uint32_t *ids; /* scratch: frame ids of one traceback */
} wctx_t;

static int intern_snaps(wctx_t *w, const ll_snapshot_t *const *snaps, size_t n) {
  size_t t = 0;
  for (size_t i = 0; i < n; i++) {
    const ll_snapshot_t *s = snaps[i];
    if ((w->program[i] = ll__ktab_str(w->kt, s->program != NULL ? s->program : "")) == LL__KTAB_NONE)
      return LL_ENOMEM;
    for (size_t k = 0; k < s->ntraces; k++, t++) {
      const ll_traceback_t *tb = s->traces[k].traceback;
      for (uint32_t j = 0; j < tb->nframe; j++) {
        const ll_frame_t *f = &tb->frames[j];
        ll__kframe_t kf = {0};
        kf.filename = ll__ktab_str(w->kt, f->filename != NULL ? f->filename : "<unknown>");
        kf.function = ll__ktab_str(w->kt, f->function != NULL ? f->function : "");
        if (kf.filename == LL__KTAB_NONE || kf.function == LL__KTAB_NONE) return LL_ENOMEM;
        kf.lineno = f->lineno;
        kf.ip = f->ip;
        if ((w->ids[j] = ll__ktab_frame(w->kt, &kf)) == LL__KTAB_NONE) return LL_ENOMEM;
      }
      w->tb_of_trace[t] = ll__ktab_seq(w->kt, w->ids, tb->nframe, tb->total_nframe);
      if (w->tb_of_trace[t] == LL__KTAB_NONE) return LL_ENOMEM;
    }
  }
  return 0;
}

static unsigned char *sec_begin(unsigned char *p, uint32_t type, uint32_t flags, size_t len) {
  p = put32(p, type);
  p = put32(p, flags);
  return put64(p, len);
}

/* Serialise everything into one buffer of exactly `total` bytes. */
static void serialise(const wctx_t *w, const ll_snapshot_t *const *snaps, size_t n,
                      const ll__section_t *extra, size_t nextra, const size_t *plen,
                      unsigned char *buf, size_t total) {
  unsigned char *p = buf;
  memcpy(p, LL__SNAPFILE_MAGIC, 8);
  p = put32(p + 8, LL__SNAPFILE_VERSION);
  p = put32(p, 0);
  p = put64(p, total);

  size_t nstr = ll__ktab_nstr(w->kt), nfr = ll__ktab_nframe(w->kt), ntb = ll__ktab_nseq(w->kt);
  p = sec_begin(p, LL__SEC_STRINGS, 0, plen[0]);
  p = put32(put32(p, (uint32_t)nstr), 0);
  for (uint32_t i = 0; i < nstr; i++) {
    size_t len;
    const char *s = ll__ktab_str_at(w->kt, i, &len);
    memcpy(p, s, len);
    p[len] = 0;
    p += len + 1;
  }
  p += pad8(plen[0]);

  p = sec_begin(p, LL__SEC_FRAMES, 0, plen[1]);
  p = put32(put32(p, (uint32_t)nfr), 0);
  for (uint32_t i = 0; i < nfr; i++) {
    const ll__kframe_t *f = ll__ktab_frame_at(w->kt, i);
    p = put32(put32(put32(put32(p, f->filename), f->function), f->lineno), 0);
    p = put64(p, f->ip);
  }
  p += pad8(plen[1]);

  p = sec_begin(p, LL__SEC_TRACEBACKS, 0, plen[2]);
  p = put32(put32(p, (uint32_t)ntb), 0);
  for (uint32_t i = 0; i < ntb; i++) {
    uint32_t nf, total_nframe;
    const uint32_t *ids = ll__ktab_seq_at(w->kt, i, &nf, &total_nframe);
    p = put32(put32(p, nf), total_nframe);
    for (uint32_t j = 0; j < nf; j++) p = put32(p, ids[j]);
  }
  p += pad8(plen[2]);

  size_t t = 0;
  for (size_t i = 0; i < n; i++) {
    const ll_snapshot_t *s = snaps[i];
    size_t len = SNAP_HEAD + s->ntraces * TRACE_REC;
    p = sec_begin(p, LL__SEC_SNAPSHOT, 0, len);
    p = put32(put32(put32(put32(p, (uint32_t)s->at), s->traceback_limit), w->program[i]), 0);
    uint64_t head[7] = {s->current_bytes,         s->peak_bytes,      s->total_allocations,
                        s->total_bytes,           s->untracked_allocations,
                        s->untracked_bytes,       s->ntraces};
    for (int k = 0; k < 7; k++) p = put64(p, head[k]);
    for (size_t k = 0; k < s->ntraces; k++, t++) {
      const ll_trace_t *tr = &s->traces[k];
      p = put32(put32(p, w->tb_of_trace[t]), 0);
      p = put64(put64(put64(p, tr->size), tr->usable), tr->count);
    }
    p += pad8(len);
  }
  for (size_t i = 0; i < nextra; i++) {
    p = sec_begin(p, extra[i].type, extra[i].flags, extra[i].len);
    if (extra[i].len) memcpy(p, extra[i].data, extra[i].len);
    p += extra[i].len + pad8(extra[i].len);
  }
  p = put64(p, total);
  p = put32(p, ll__crc32(0, buf, (size_t)(p - buf)));
  memcpy(p, LL__SNAPFILE_END, 4);
}

/* path + ".tmp." + pid, in mmap'd memory (no malloc, no stdio). */
static char *tmp_path(const char *path, size_t *bytes) {
  size_t n = strlen(path);
  *bytes = n + 32;
  char *t = ll__mmap_alloc(*bytes);
  if (t == NULL) return NULL;
  memcpy(t, path, n);
  memcpy(t + n, ".tmp.", 5);
  char digits[24];
  int k = 0;
  unsigned long pid = (unsigned long)getpid();
  do digits[k++] = (char)('0' + pid % 10);
  while ((pid /= 10) != 0);
  char *q = t + n + 5;
  while (k > 0) *q++ = digits[--k];
  *q = '\0';
  return t;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno != 0 ? -errno : LL_EIO;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int write_file(const char *path, const unsigned char *buf, size_t len) {
  size_t tbytes;
  char *tmp = tmp_path(path, &tbytes);
  if (tmp == NULL) return LL_ENOMEM;
  int rc = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = errno != 0 ? -errno : LL_EIO;
    goto cleanup;
  }
  rc = write_all(fd, buf, len);
  /* fsync before rename: otherwise a crash can leave the new name with empty contents. */
  if (rc == 0 && fsync(fd) != 0) rc = errno != 0 ? -errno : LL_EIO;
  if (close(fd) != 0 && rc == 0) rc = errno != 0 ? -errno : LL_EIO;
  if (rc == 0 && rename(tmp, path) != 0) rc = errno != 0 ? -errno : LL_EIO;
  if (rc != 0) unlink(tmp);
cleanup:
  ll__mmap_free(tmp, tbytes);
  return rc;
}

static int check_inputs(const char *path, const ll_snapshot_t *const *snaps, size_t n,
                        const ll__section_t *extra, size_t nextra) {
  unsigned seen = 0;
  if (path == NULL || (n > 0 && snaps == NULL) || (nextra > 0 && extra == NULL)) return LL_EINVAL;
  if (n > LL_AT__COUNT) return LL_EINVAL;
  for (size_t i = 0; i < n; i++) {
    const ll_snapshot_t *s = snaps[i];
    if (s == NULL || (unsigned)s->at >= LL_AT__COUNT || (seen & (1u << s->at)) != 0) return LL_EINVAL;
    seen |= 1u << s->at;
    if (s->ntraces > 0 && s->traces == NULL) return LL_EINVAL;
    for (size_t k = 0; k < s->ntraces; k++) {
      const ll_traceback_t *tb = s->traces[k].traceback;
      if (tb == NULL || tb->nframe > LL_MAX_NFRAME || (tb->nframe > 0 && tb->frames == NULL))
        return LL_EINVAL;
    }
  }
  for (size_t i = 0; i < nextra; i++)
    if (extra[i].type < LL__SEC_EXTRA_MIN || (extra[i].len > 0 && extra[i].data == NULL))
      return LL_EINVAL;
  return 0;
}

int ll__snapfile_write(const char *path, const ll_snapshot_t *const *snaps, size_t n,
                       const ll__section_t *extra, size_t nextra) {
  int rc = check_inputs(path, snaps, n, extra, nextra);
  if (rc != 0) return rc;
  wctx_t w = {0};
  unsigned char *buf = NULL;
  size_t total = 0, tbbytes = 0, ids_bytes = (size_t)LL_MAX_NFRAME * sizeof(uint32_t);
  rc = LL_ENOMEM;
  for (size_t i = 0; i < n; i++) add_sz(&w.ntraces_all, snaps[i]->ntraces);
  tbbytes = mul_sz(w.ntraces_all, sizeof(uint32_t));
  if (tbbytes == SIZE_MAX) goto cleanup;
  if ((w.kt = ll__ktab_new()) == NULL || (w.ids = ll__mmap_alloc(ids_bytes)) == NULL) goto cleanup;
  if (tbbytes > 0 && (w.tb_of_trace = ll__mmap_alloc(tbbytes)) == NULL) goto cleanup;
  if ((rc = intern_snaps(&w, snaps, n)) != 0) goto cleanup;
  rc = LL_ENOMEM;

  /* Payload lengths of the three tables, then the file size. */
  size_t plen[3] = {8, 8, 8};
  size_t nstr = ll__ktab_nstr(w.kt), nfr = ll__ktab_nframe(w.kt), ntb = ll__ktab_nseq(w.kt);
  if (nstr > UINT32_MAX || nfr > UINT32_MAX || ntb > UINT32_MAX) goto cleanup;
  for (uint32_t i = 0; i < nstr; i++) {
    size_t len;
    ll__ktab_str_at(w.kt, i, &len);
    add_sz(&plen[0], len + 1);
  }
  add_sz(&plen[1], mul_sz(nfr, FRAME_REC));
  for (uint32_t i = 0; i < ntb; i++) {
    uint32_t nf;
    ll__ktab_seq_at(w.kt, i, &nf, NULL);
    add_sz(&plen[2], 8 + (size_t)nf * 4);
  }
  total = LL__SNAPFILE_HEADER + LL__SNAPFILE_TRAILER;
  for (int k = 0; k < 3; k++) {
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, plen[k]);
    add_sz(&total, pad8(plen[k]));
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = SNAP_HEAD;
    add_sz(&len, mul_sz(snaps[i]->ntraces, TRACE_REC));
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, len);
    add_sz(&total, pad8(len));
  }
  for (size_t i = 0; i < nextra; i++) {
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, extra[i].len);
    add_sz(&total, pad8(extra[i].len));
  }
  if (total == SIZE_MAX || (buf = ll__mmap_alloc(total)) == NULL) goto cleanup;
  serialise(&w, snaps, n, extra, nextra, plen, buf, total);
  rc = write_file(path, buf, total);
cleanup:
  ll__mmap_free(buf, total);
  ll__mmap_free(w.tb_of_trace, tbbytes);
  ll__mmap_free(w.ids, ids_bytes);
  ll__ktab_free(w.kt);
  return rc;
}

int ll_snapshot_dump(const ll_snapshot_t *const *snaps, size_t nsnap, const char *path) {
  return ll__snapfile_write(path, snaps, nsnap, NULL, 0);
}

/* ==== reading =============================================================================== */

typedef struct span {
  size_t off; /* payload offset in the image */
  size_t len;
} span_t;

struct ll__snapfile {
  unsigned char *img;
  size_t len;     /* bytes of the file */
  size_t img_cap; /* bytes mapped */
  span_t strings, frames, tracebacks;
  span_t snap[LL_AT__COUNT];
  unsigned views;
  uint32_t nstr, nframe, ntb;
  size_t *str_off; /* validated offsets of each string, of each traceback record */
  size_t *tb_off;
};

void ll__snapfile_close(ll__snapfile_t *f) {
  if (f == NULL) return;
  if (f->img != NULL) img_poison(f->img, f->len, f->img_cap, 0);
  ll__mmap_free(f->img, f->img_cap);
  ll__mmap_free(f->str_off, (size_t)f->nstr * sizeof(size_t));
  ll__mmap_free(f->tb_off, (size_t)f->ntb * sizeof(size_t));
  ll__mmap_free(f, sizeof *f);
}

/* Magic, version, length, trailer and checksum; then section framing. */
static int check_frame(ll__snapfile_t *f) {
  const unsigned char *b = f->img;
  size_t len = f->len;
  if (len < 8) return memcmp(b, LL__SNAPFILE_MAGIC, len) == 0 ? LL_ETRUNC : LL_EBADMAGIC;
  if (memcmp(b, LL__SNAPFILE_MAGIC, 8) != 0) return LL_EBADMAGIC;
  if (len < 12) return LL_ETRUNC;
  if (get32(b + 8) != LL__SNAPFILE_VERSION) return LL_EVERSION;
  if (len < LL__SNAPFILE_HEADER) return LL_ETRUNC;
  uint64_t total = get64(b + 16);
  if (total > len) return LL_ETRUNC;
  if (total < LL__SNAPFILE_HEADER + LL__SNAPFILE_TRAILER || total < len) return LL_ECORRUPT;
  const unsigned char *tr = b + len - LL__SNAPFILE_TRAILER;
  if (get64(tr) != total || memcmp(tr + 12, LL__SNAPFILE_END, 4) != 0 ||
      get32(tr + 8) != ll__crc32(0, b, len - 8))
    return LL_ECHECKSUM;

  size_t off = LL__SNAPFILE_HEADER, end = len - LL__SNAPFILE_TRAILER;
  while (off < end) {
    if (end - off < LL__SNAPFILE_SECHDR) return LL_ECORRUPT;
    uint32_t type = get32(b + off), flags = get32(b + off + 4);
    uint64_t slen = get64(b + off + 8);
    size_t room = end - off - LL__SNAPFILE_SECHDR;
    if (slen > room || pad8((size_t)slen) > room - slen) return LL_ECORRUPT;
    span_t sp = {off + LL__SNAPFILE_SECHDR, (size_t)slen};
    span_t *slot = NULL;
    if (type == LL__SEC_STRINGS) slot = &f->strings;
    else if (type == LL__SEC_FRAMES) slot = &f->frames;
    else if (type == LL__SEC_TRACEBACKS) slot = &f->tracebacks;
    else if (type == LL__SEC_SNAPSHOT) {
      if (slen < SNAP_HEAD) return LL_ECORRUPT;
      uint32_t at = get32(b + sp.off);
      if (at >= LL_AT__COUNT || (f->views & (1u << at)) != 0) return LL_ECORRUPT;
      f->views |= 1u << at;
      f->snap[at] = sp;
    } else if (type < LL__SEC_EXTRA_MIN && (flags & LL__SEC_REQUIRED) != 0) {
      return LL_EVERSION; /* a newer core section this reader cannot do without */
    }
    if (slot != NULL) {
      if (slot->off != 0) return LL_ECORRUPT;
      *slot = sp;
    }
    off = sp.off + (size_t)slen + pad8((size_t)slen);
  }
  if (f->strings.off == 0 || f->frames.off == 0 || f->tracebacks.off == 0) return LL_ECORRUPT;
  return 0;
}

/* Tables: every index, count and string checked once, so loading can trust them. */
static int check_tables(ll__snapfile_t *f) {
  const unsigned char *b = f->img;
  span_t s = f->strings;
  if (s.len < 8 || get32(b + s.off + 4) != 0) return LL_ECORRUPT;
  uint32_t nstr = get32(b + s.off);
  if (nstr > s.len - 8) return LL_ECORRUPT; /* each string takes at least its NUL */
  if (nstr > 0 && (f->str_off = ll__mmap_alloc((size_t)nstr * sizeof(size_t))) == NULL) return LL_ENOMEM;
  f->nstr = nstr;
  size_t p = s.off + 8, end = s.off + s.len;
  for (uint32_t i = 0; i < nstr; i++) {
    const unsigned char *z = memchr(b + p, 0, end - p);
    if (z == NULL) return LL_ECORRUPT;
    f->str_off[i] = p;
    p = (size_t)(z - b) + 1;
  }
  if (p != end) return LL_ECORRUPT;

  span_t fr = f->frames;
  if (fr.len < 8 || get32(b + fr.off + 4) != 0) return LL_ECORRUPT;
  uint32_t nfr = get32(b + fr.off);
  if ((fr.len - 8) % FRAME_REC != 0 || (fr.len - 8) / FRAME_REC != nfr) return LL_ECORRUPT;
  for (uint32_t i = 0; i < nfr; i++) {
    const unsigned char *q = b + fr.off + 8 + (size_t)i * FRAME_REC;
    if (get32(q) >= nstr || get32(q + 4) >= nstr || get32(q + 12) != 0) return LL_ECORRUPT;
  }
  f->nframe = nfr;

  span_t tb = f->tracebacks;
  if (tb.len < 8 || get32(b + tb.off + 4) != 0) return LL_ECORRUPT;
  uint32_t ntb = get32(b + tb.off);
  if (ntb > (tb.len - 8) / 8) return LL_ECORRUPT;
  if (ntb > 0 && (f->tb_off = ll__mmap_alloc((size_t)ntb * sizeof(size_t))) == NULL) return LL_ENOMEM;
  f->ntb = ntb;
  p = tb.off + 8;
  end = tb.off + tb.len;
  for (uint32_t i = 0; i < ntb; i++) {
    if (end - p < 8) return LL_ECORRUPT;
    uint32_t nf = get32(b + p);
    if (nf > LL_MAX_NFRAME || (end - p - 8) / 4 < nf) return LL_ECORRUPT;
    f->tb_off[i] = p;
    p += 8;
    for (uint32_t j = 0; j < nf; j++, p += 4)
      if (get32(b + p) >= nfr) return LL_ECORRUPT;
  }
  if (p != end) return LL_ECORRUPT;

  for (int at = 0; at < LL_AT__COUNT; at++) {
    if ((f->views & (1u << at)) == 0) continue;
    span_t sp = f->snap[at];
    const unsigned char *h = b + sp.off;
    if (get32(h + 8) >= nstr || get32(h + 12) != 0) return LL_ECORRUPT;
    uint64_t ntr = get64(h + 64);
    if ((sp.len - SNAP_HEAD) % TRACE_REC != 0 || (sp.len - SNAP_HEAD) / TRACE_REC != ntr)
      return LL_ECORRUPT;
    for (uint64_t k = 0; k < ntr; k++) {
      const unsigned char *q = h + SNAP_HEAD + k * TRACE_REC;
      if (get32(q) >= ntb || get32(q + 4) != 0) return LL_ECORRUPT;
    }
  }
  return 0;
}

/* Takes ownership of img (img_cap bytes mapped, len of them the file). */
static int snapfile_parse(unsigned char *img, size_t len, size_t img_cap, ll__snapfile_t **out) {
  ll__snapfile_t *f = ll__mmap_alloc(sizeof *f);
  if (f == NULL) {
    ll__mmap_free(img, img_cap);
    return LL_ENOMEM;
  }
  f->img = img;
  f->len = len;
  f->img_cap = img_cap;
  img_poison(img, len, img_cap, 1);
  int rc = check_frame(f);
  if (rc == 0) rc = check_tables(f);
  if (rc != 0) {
    ll__snapfile_close(f);
    return rc;
  }
  *out = f;
  return 0;
}

int ll__snapfile_open_buffer(const void *buf, size_t len, ll__snapfile_t **out) {
  if ((buf == NULL && len > 0) || out == NULL) return LL_EINVAL;
  size_t cap = len > 0 ? len : 1;
  unsigned char *img = ll__mmap_alloc(cap);
  if (img == NULL) return LL_ENOMEM;
  if (len > 0) memcpy(img, buf, len);
  return snapfile_parse(img, len, cap, out);
}

int ll__snapfile_open(const char *path, ll__snapfile_t **out) {
  if (path == NULL || out == NULL) return LL_EINVAL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != 0 ? -errno : LL_EIO;
  int rc = 0;
  unsigned char *img = NULL;
  size_t cap = 0, got = 0;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    rc = errno != 0 ? -errno : LL_EIO;
    goto cleanup;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = -EISDIR;
    goto cleanup;
  }
  /* Read, not mmap the file: a file truncated under a mapping would raise SIGBUS. */
  cap = st.st_size > 0 ? (size_t)st.st_size : 1;
  if ((img = ll__mmap_alloc(cap)) == NULL) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, img + got, (size_t)st.st_size - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      rc = errno != 0 ? -errno : LL_EIO;
      goto cleanup;
    }
    if (r == 0) break; /* shrank since fstat: parse what is there, it will say truncated */
    got += (size_t)r;
  }
  close(fd);
  fd = -1;
  rc = snapfile_parse(img, got, cap, out);
  img = NULL; /* owned by the parser now */
cleanup:
  if (fd >= 0) close(fd);
  ll__mmap_free(img, cap);
  return rc;
}

unsigned ll__snapfile_views(const ll__snapfile_t *f) { return f->views; }

typedef struct lctx {
  const ll__snapfile_t *f;
  ll__arena_t *arena;
  const char **str; /* decoded string per id, on first use */
  ll_traceback_t **tb;
} lctx_t;

static const char *load_str(lctx_t *c, uint32_t id) {
  if (c->str[id] == NULL) c->str[id] = ll__arena_strdup(c->arena, (const char *)c->f->img + c->f->str_off[id]);
  return c->str[id];
}

static const ll_traceback_t *load_tb(lctx_t *c, uint32_t id) {
  if (c->tb[id] != NULL) return c->tb[id];
  const unsigned char *b = c->f->img, *p = b + c->f->tb_off[id];
  uint32_t nf = get32(p);
  ll_traceback_t *tb = ll__arena_alloc(c->arena, sizeof *tb);
  ll_frame_t *frames = ll__arena_alloc(c->arena, (size_t)nf * sizeof *frames);
  if (tb == NULL || frames == NULL) return NULL;
  for (uint32_t j = 0; j < nf; j++) {
    const unsigned char *q = b + c->f->frames.off + 8 + (size_t)get32(p + 8 + 4 * (size_t)j) * FRAME_REC;
    frames[j].filename = load_str(c, get32(q));
    frames[j].function = load_str(c, get32(q + 4));
    if (frames[j].filename == NULL || frames[j].function == NULL) return NULL;
    frames[j].lineno = get32(q + 8);
    frames[j].ip = get64(q + 16);
  }
  tb->nframe = nf;
  tb->total_nframe = get32(p + 4);
  tb->frames = frames;
  c->tb[id] = tb;
  return tb;
}

int ll__snapfile_load(const ll__snapfile_t *f, ll_at_t at, ll_snapshot_t **out) {
  if (f == NULL || out == NULL || (unsigned)at >= LL_AT__COUNT) return LL_EINVAL;
  if ((f->views & (1u << at)) == 0) return LL_ENOVIEW;
  int rc = LL_ENOMEM;
  size_t sbytes = (size_t)f->nstr * sizeof(char *), tbytes = (size_t)f->ntb * sizeof(ll_traceback_t *);
  lctx_t c = {.f = f};
  if (sbytes > 0 && (c.str = ll__mmap_alloc(sbytes)) == NULL) goto cleanup;
  if (tbytes > 0 && (c.tb = ll__mmap_alloc(tbytes)) == NULL) goto cleanup;
  if ((c.arena = ll__arena_new()) == NULL) goto cleanup;

  const unsigned char *h = f->img + f->snap[at].off;
  size_t ntr = (size_t)get64(h + 64); /* checked against the section length at open */
  ll_snapshot_t *s = ll__arena_alloc(c.arena, sizeof *s);
  ll_trace_t *traces = ll__arena_alloc(c.arena, ntr * sizeof *traces);
  if (s == NULL || traces == NULL) goto cleanup;
  s->at = (ll_at_t)get32(h);
  s->traceback_limit = get32(h + 4);
  if ((s->program = load_str(&c, get32(h + 8))) == NULL) goto cleanup;
  s->current_bytes = get64(h + 16);
  s->peak_bytes = get64(h + 24);
  s->total_allocations = get64(h + 32);
  s->total_bytes = get64(h + 40);
  s->untracked_allocations = get64(h + 48);
  s->untracked_bytes = get64(h + 56);
  for (size_t k = 0; k < ntr; k++) {
    const unsigned char *q = h + SNAP_HEAD + k * TRACE_REC;
    if ((traces[k].traceback = load_tb(&c, get32(q))) == NULL) goto cleanup;
    traces[k].size = get64(q + 8);
    traces[k].usable = get64(q + 16);
    traces[k].count = get64(q + 24);
  }
  s->ntraces = ntr;
  s->traces = traces;
  s->ll__arena = c.arena;
  *out = s;
  c.arena = NULL;
  rc = 0;
cleanup:
  ll__arena_free(c.arena);
  ll__mmap_free(c.str, sbytes);
  ll__mmap_free(c.tb, tbytes);
  return rc;
}

int ll__snapfile_section(const ll__snapfile_t *f, uint32_t type, size_t index, const void **data,
                         size_t *len) {
  if (f == NULL || data == NULL || len == NULL) return LL_EINVAL;
  /* Framing was validated at open, so this walk stays in bounds. */
  size_t off = LL__SNAPFILE_HEADER, end = f->len - LL__SNAPFILE_TRAILER;
  while (off < end) {
    uint32_t t = get32(f->img + off);
    size_t slen = (size_t)get64(f->img + off + 8);
    if (t == type && index-- == 0) {
      *data = f->img + off + LL__SNAPFILE_SECHDR;
      *len = slen;
      return 0;
    }
    off += LL__SNAPFILE_SECHDR + slen + pad8(slen);
  }
  return LL_ENOVIEW;
}

int ll__snapfile_read_section(const char *path, uint32_t type, ll__arena_t *arena,
                              const void **data, size_t *len) {
  if (arena == NULL || data == NULL || len == NULL) return LL_EINVAL;
  ll__snapfile_t *f = NULL;
  const void *d;
  size_t n;
  int rc = ll__snapfile_open(path, &f);
  if (rc == 0) rc = ll__snapfile_section(f, type, 0, &d, &n);
  if (rc == 0) {
    void *copy = ll__arena_alloc(arena, n);
    if (copy == NULL) {
      rc = LL_ENOMEM;
    } else {
      if (n > 0) memcpy(copy, d, n);
      *data = copy;
      *len = n;
    }
  }
  ll__snapfile_close(f);
  return rc;
}

int ll_snapshot_load(const char *path, ll_at_t at, ll_snapshot_t **out) {
  if (path == NULL || out == NULL || (unsigned)at >= LL_AT__COUNT) return LL_EINVAL;
  ll__snapfile_t *f = NULL;
  int rc = ll__snapfile_open(path, &f);
  if (rc == 0) rc = ll__snapfile_load(f, at, out);
  ll__snapfile_close(f);
  return rc;
}

int ll_snapshot_file_views(const char *path, unsigned *mask) {
  if (path == NULL || mask == NULL) return LL_EINVAL;
  ll__snapfile_t *f = NULL;
  int rc = ll__snapfile_open(path, &f);
  if (rc == 0) *mask = ll__snapfile_views(f);
  ll__snapfile_close(f);
  return rc;
}
