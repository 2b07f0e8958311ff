/* snapfile_read.c - the snapshot file's reader (format in snapfile.h): verify once, then decode views and sections. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "errors.h"
#include "le_bytes.h"
#include "snapfile.h"

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

/* The header's checks, on its first `have` bytes of a file of `len`: a file is judged by its magic,
 * version and length before the rest of it is read (or room is made for it). */
static int check_head(const unsigned char *b, size_t have, uint64_t len) {
  if (have < 8) return memcmp(b, LL__SNAPFILE_MAGIC, have) == 0 ? LL_ETRUNC : LL_EBADMAGIC;
  if (memcmp(b, LL__SNAPFILE_MAGIC, 8) != 0) return LL_EBADMAGIC;
  if (have < 12) return LL_ETRUNC;
  if (ll__get_u32(b + 8) != LL__SNAPFILE_VERSION) return LL_EVERSION;
  if (have < LL__SNAPFILE_HEADER) return LL_ETRUNC;
  uint64_t total = ll__get_u64(b + 16);
  if (total > len) return LL_ETRUNC;
  if (total < LL__SNAPFILE_HEADER + LL__SNAPFILE_TRAILER || total < len) return LL_ECORRUPT;
  return 0;
}

/* Magic, version, length, trailer and checksum; then section framing. */
static int check_frame(ll__snapfile_t *f) {
  const unsigned char *b = f->img;
  size_t len = f->len;
  int rc = check_head(b, len, len);
  if (rc != 0) return rc; /* and the header's total length is len */
  const unsigned char *tr = b + len - LL__SNAPFILE_TRAILER;
  if (ll__get_u64(tr) != len || memcmp(tr + 12, LL__SNAPFILE_END, 4) != 0 ||
      ll__get_u32(tr + 8) != ll__crc32(0, b, len - 8))
    return LL_ECHECKSUM;

  size_t off = LL__SNAPFILE_HEADER, end = len - LL__SNAPFILE_TRAILER;
  while (off < end) {
    if (end - off < LL__SNAPFILE_SECHDR) return LL_ECORRUPT;
    uint32_t type = ll__get_u32(b + off), flags = ll__get_u32(b + off + 4);
    uint64_t slen = ll__get_u64(b + off + 8);
    size_t room = end - off - LL__SNAPFILE_SECHDR;
    if (slen > room || ll__snapfile_pad8((size_t)slen) > room - slen) return LL_ECORRUPT;
    span_t sp = {off + LL__SNAPFILE_SECHDR, (size_t)slen};
    span_t *slot = NULL;
    if (type == LL__SEC_STRINGS) slot = &f->strings;
    else if (type == LL__SEC_FRAMES) slot = &f->frames;
    else if (type == LL__SEC_TRACEBACKS) slot = &f->tracebacks;
    else if (type == LL__SEC_SNAPSHOT) {
      if (slen < LL__SNAPFILE_SNAP_HEAD) return LL_ECORRUPT;
      uint32_t at = ll__get_u32(b + sp.off);
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
    off = sp.off + (size_t)slen + ll__snapfile_pad8((size_t)slen);
  }
  if (f->strings.off == 0 || f->frames.off == 0 || f->tracebacks.off == 0) return LL_ECORRUPT;
  return 0;
}

/* Tables: every index, count and string checked once, so loading can trust them. */
static int check_tables(ll__snapfile_t *f) {
  const unsigned char *b = f->img;
  span_t s = f->strings;
  if (s.len < 8 || ll__get_u32(b + s.off + 4) != 0) return LL_ECORRUPT;
  uint32_t nstr = ll__get_u32(b + s.off);
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
  if (fr.len < 8 || ll__get_u32(b + fr.off + 4) != 0) return LL_ECORRUPT;
  uint32_t nfr = ll__get_u32(b + fr.off);
  if ((fr.len - 8) % LL__SNAPFILE_FRAME_REC != 0 || (fr.len - 8) / LL__SNAPFILE_FRAME_REC != nfr) return LL_ECORRUPT;
  for (uint32_t i = 0; i < nfr; i++) {
    const unsigned char *q = b + fr.off + 8 + (size_t)i * LL__SNAPFILE_FRAME_REC;
    if (ll__get_u32(q) >= nstr || ll__get_u32(q + 4) >= nstr || ll__get_u32(q + 12) != 0) return LL_ECORRUPT;
  }
  f->nframe = nfr;

  span_t tb = f->tracebacks;
  if (tb.len < 8 || ll__get_u32(b + tb.off + 4) != 0) return LL_ECORRUPT;
  uint32_t ntb = ll__get_u32(b + tb.off);
  if (ntb > (tb.len - 8) / 8) return LL_ECORRUPT;
  if (ntb > 0 && (f->tb_off = ll__mmap_alloc((size_t)ntb * sizeof(size_t))) == NULL) return LL_ENOMEM;
  f->ntb = ntb;
  p = tb.off + 8;
  end = tb.off + tb.len;
  for (uint32_t i = 0; i < ntb; i++) {
    if (end - p < 8) return LL_ECORRUPT;
    uint32_t nf = ll__get_u32(b + p);
    if (nf > LL_MAX_NFRAME || (end - p - 8) / 4 < nf) return LL_ECORRUPT;
    f->tb_off[i] = p;
    p += 8;
    for (uint32_t j = 0; j < nf; j++, p += 4)
      if (ll__get_u32(b + p) >= nfr) return LL_ECORRUPT;
  }
  if (p != end) return LL_ECORRUPT;

  for (int at = 0; at < LL_AT__COUNT; at++) {
    if ((f->views & (1u << at)) == 0) continue;
    span_t sp = f->snap[at];
    const unsigned char *h = b + sp.off;
    if (ll__get_u32(h + 8) >= nstr || ll__get_u32(h + 12) != 0) return LL_ECORRUPT;
    uint64_t ntr = ll__get_u64(h + 64);
    if ((sp.len - LL__SNAPFILE_SNAP_HEAD) % LL__SNAPFILE_TRACE_REC != 0 || (sp.len - LL__SNAPFILE_SNAP_HEAD) / LL__SNAPFILE_TRACE_REC != ntr)
      return LL_ECORRUPT;
    for (uint64_t k = 0; k < ntr; k++) {
      const unsigned char *q = h + LL__SNAPFILE_SNAP_HEAD + k * LL__SNAPFILE_TRACE_REC;
      if (ll__get_u32(q) >= ntb || ll__get_u32(q + 4) != 0) return LL_ECORRUPT;
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

/* read() until n bytes or the end of the file; the count read, or an error code. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return LL__ERR(errno);
    }
    if (r == 0) break; /* shrank since fstat: parse what is there, it will say truncated */
    got += (size_t)r;
  }
  return (ssize_t)got;
}

int ll__snapfile_open(const char *path, ll__snapfile_t **out) {
  if (path == NULL || out == NULL) return LL_EINVAL;
  /* O_NONBLOCK: opening a FIFO with no writer would wait for one; it is refused below anyway. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return LL__ERR(errno);
  int rc = 0;
  unsigned char *img = NULL, head[LL__SNAPFILE_HEADER];
  size_t cap = 0;
  ssize_t got;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    rc = LL__ERR(errno);
    goto cleanup;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = LL__ERR(EISDIR);
    goto cleanup;
  }
  if (!S_ISREG(st.st_mode)) { /* a FIFO, device or socket: no size, maybe no end */
    rc = LL_ENOTREG;
    goto cleanup;
  }
  size_t size = (size_t)st.st_size;
  if ((got = read_full(fd, head, sizeof head)) < 0) {
    rc = (int)got;
    goto cleanup;
  }
  if ((size_t)got < sizeof head) size = (size_t)got; /* shrank: what there is is the file */
  if ((rc = check_head(head, (size_t)got, size)) != 0) goto cleanup;
  /* Read, not mmap the file: a file truncated under a mapping would raise SIGBUS. */
  cap = size;
  if ((img = ll__mmap_alloc(cap)) == NULL) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  memcpy(img, head, sizeof head);
  if ((got = read_full(fd, img + sizeof head, size - sizeof head)) < 0) {
    rc = (int)got;
    goto cleanup;
  }
  close(fd);
  fd = -1;
  rc = snapfile_parse(img, sizeof head + (size_t)got, cap, out);
  img = NULL; /* owned by the parser now */
cleanup:
  if (fd >= 0) close(fd);
  ll__mmap_free(img, cap);
  return rc;
}

unsigned ll__snapfile_views(const ll__snapfile_t *f) { return f->views; }

const unsigned char *ll__snapfile_image(const ll__snapfile_t *f, size_t *len) {
  *len = f->len;
  return f->img;
}

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
  uint32_t nf = ll__get_u32(p);
  ll_traceback_t *tb = ll__arena_alloc(c->arena, sizeof *tb);
  ll_frame_t *frames = ll__arena_alloc(c->arena, (size_t)nf * sizeof *frames);
  if (tb == NULL || frames == NULL) return NULL;
  for (uint32_t j = 0; j < nf; j++) {
    const unsigned char *q = b + c->f->frames.off + 8 + (size_t)ll__get_u32(p + 8 + 4 * (size_t)j) * LL__SNAPFILE_FRAME_REC;
    frames[j].filename = load_str(c, ll__get_u32(q));
    frames[j].function = load_str(c, ll__get_u32(q + 4));
    if (frames[j].filename == NULL || frames[j].function == NULL) return NULL;
    frames[j].lineno = ll__get_u32(q + 8);
    frames[j].ip = ll__get_u64(q + 16);
  }
  tb->nframe = nf;
  tb->total_nframe = ll__get_u32(p + 4);
  tb->frames = frames;
  c->tb[id] = tb;
  return tb;
}

/* Moment `at` into c's arena, its tracebacks and strings shared with the others c decoded. */
static int load_one(lctx_t *c, ll_at_t at, ll_snapshot_t **out) {
  const ll__snapfile_t *f = c->f;
  if ((unsigned)at >= LL_AT__COUNT) return LL_EINVAL;
  if ((f->views & (1u << at)) == 0) return LL_ENOVIEW;
  const unsigned char *h = f->img + f->snap[at].off;
  size_t ntr = (size_t)ll__get_u64(h + 64); /* checked against the section length at open */
  ll_snapshot_t *s = ll__arena_alloc(c->arena, sizeof *s);
  ll_trace_t *traces = ll__arena_alloc(c->arena, ntr * sizeof *traces);
  if (s == NULL || traces == NULL) return LL_ENOMEM;
  s->at = (ll_at_t)ll__get_u32(h);
  s->traceback_limit = ll__get_u32(h + 4);
  if ((s->program = load_str(c, ll__get_u32(h + 8))) == NULL) return LL_ENOMEM;
  s->current_bytes = ll__get_u64(h + 16);
  s->peak_bytes = ll__get_u64(h + 24);
  s->total_allocations = ll__get_u64(h + 32);
  s->total_bytes = ll__get_u64(h + 40);
  s->untracked_allocations = ll__get_u64(h + 48);
  s->untracked_bytes = ll__get_u64(h + 56);
  for (size_t k = 0; k < ntr; k++) {
    const unsigned char *q = h + LL__SNAPFILE_SNAP_HEAD + k * LL__SNAPFILE_TRACE_REC;
    if ((traces[k].traceback = load_tb(c, ll__get_u32(q))) == NULL) return LL_ENOMEM;
    traces[k].size = ll__get_u64(q + 8);
    traces[k].usable = ll__get_u64(q + 16);
    traces[k].count = ll__get_u64(q + 24);
  }
  s->ntraces = ntr;
  s->traces = traces;
  s->ll__arena = c->arena;
  *out = s;
  return 0;
}

int ll__snapfile_load_many(const ll__snapfile_t *f, const ll_at_t *at, size_t n, ll_snapshot_t **out) {
  if (f == NULL || out == NULL || (n > 0 && at == NULL)) return LL_EINVAL;
  int rc = LL_ENOMEM;
  size_t sbytes = (size_t)f->nstr * sizeof(char *), tbytes = (size_t)f->ntb * sizeof(ll_traceback_t *);
  lctx_t c = {.f = f};
  if (sbytes > 0 && (c.str = ll__mmap_alloc(sbytes)) == NULL) goto cleanup;
  if (tbytes > 0 && (c.tb = ll__mmap_alloc(tbytes)) == NULL) goto cleanup;
  if ((c.arena = ll__arena_new()) == NULL) goto cleanup;
  for (size_t i = 0; i < n; i++)
    if ((rc = load_one(&c, at[i], &out[i])) != 0) goto cleanup;
  for (size_t i = 1; i < n; i++) ll__arena_ref(c.arena); /* one ll_snapshot_free each */
  if (n > 0) c.arena = NULL;
  rc = 0;
cleanup:
  ll__arena_free(c.arena);
  ll__mmap_free(c.str, sbytes);
  ll__mmap_free(c.tb, tbytes);
  return rc;
}

int ll__snapfile_load(const ll__snapfile_t *f, ll_at_t at, ll_snapshot_t **out) {
  return ll__snapfile_load_many(f, &at, 1, out);
}

int ll__snapfile_section(const ll__snapfile_t *f, uint32_t type, size_t index, const void **data,
                         size_t *len) {
  if (f == NULL || data == NULL || len == NULL) return LL_EINVAL;
  /* Framing was validated at open, so this walk stays in bounds. */
  size_t off = LL__SNAPFILE_HEADER, end = f->len - LL__SNAPFILE_TRAILER;
  while (off < end) {
    uint32_t t = ll__get_u32(f->img + off);
    size_t slen = (size_t)ll__get_u64(f->img + off + 8);
    if (t == type && index-- == 0) {
      *data = f->img + off + LL__SNAPFILE_SECHDR;
      *len = slen;
      return 0;
    }
    off += LL__SNAPFILE_SECHDR + slen + ll__snapfile_pad8(slen);
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
