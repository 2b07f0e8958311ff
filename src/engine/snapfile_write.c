/* snapfile_write.c - the snapshot file's writer (format in snapfile.h): tables interned once, one image, atomic rename. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"
#include "errors.h"
#include "ktab.h"
#include "le_bytes.h"
#include "snapfile.h"

/* Overflow-checked size arithmetic: once *acc is SIZE_MAX it stays there (callers test it). */
static void add_sz(size_t *acc, size_t v) { *acc = (*acc > SIZE_MAX - v) ? SIZE_MAX : *acc + v; }

static size_t mul_sz(size_t a, size_t b) { return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b; }

/* Writers advance: p = put32(p, v). */
static unsigned char *put32(unsigned char *p, uint32_t v) {
  ll__put_u32(p, v);
  return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v) {
  ll__put_u64(p, v);
  return p + 8;
}

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
  p += ll__snapfile_pad8(plen[0]);

  p = sec_begin(p, LL__SEC_FRAMES, 0, plen[1]);
  p = put32(put32(p, (uint32_t)nfr), 0);
  for (uint32_t i = 0; i < nfr; i++) {
    const ll__kframe_t *f = ll__ktab_frame_at(w->kt, i);
    p = put32(put32(put32(put32(p, f->filename), f->function), f->lineno), 0);
    p = put64(p, f->ip);
  }
  p += ll__snapfile_pad8(plen[1]);

  p = sec_begin(p, LL__SEC_TRACEBACKS, 0, plen[2]);
  p = put32(put32(p, (uint32_t)ntb), 0);
  for (uint32_t i = 0; i < ntb; i++) {
    uint32_t nf, total_nframe;
    const uint32_t *ids = ll__ktab_seq_at(w->kt, i, &nf, &total_nframe);
    p = put32(put32(p, nf), total_nframe);
    for (uint32_t j = 0; j < nf; j++) p = put32(p, ids[j]);
  }
  p += ll__snapfile_pad8(plen[2]);

  size_t t = 0;
  for (size_t i = 0; i < n; i++) {
    const ll_snapshot_t *s = snaps[i];
    size_t len = LL__SNAPFILE_SNAP_HEAD + s->ntraces * LL__SNAPFILE_TRACE_REC;
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
    p += ll__snapfile_pad8(len);
  }
  for (size_t i = 0; i < nextra; i++) {
    p = sec_begin(p, extra[i].type, extra[i].flags, extra[i].len);
    if (extra[i].len) memcpy(p, extra[i].data, extra[i].len);
    p += extra[i].len + ll__snapfile_pad8(extra[i].len);
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
      return LL__ERR(errno);
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int ll__snapfile_write_image(const char *path, const unsigned char *buf, size_t len) {
  size_t tbytes;
  char *tmp = tmp_path(path, &tbytes);
  if (tmp == NULL) return LL_ENOMEM;
  int rc = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = LL__ERR(errno);
    goto cleanup;
  }
  rc = write_all(fd, buf, len);
  /* fsync before rename: otherwise a crash can leave the new name with empty contents. */
  if (rc == 0 && fsync(fd) != 0) rc = LL__ERR(errno);
  if (close(fd) != 0 && rc == 0) rc = LL__ERR(errno);
  if (rc == 0 && rename(tmp, path) != 0) rc = LL__ERR(errno);
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
  add_sz(&plen[1], mul_sz(nfr, LL__SNAPFILE_FRAME_REC));
  for (uint32_t i = 0; i < ntb; i++) {
    uint32_t nf;
    ll__ktab_seq_at(w.kt, i, &nf, NULL);
    add_sz(&plen[2], 8 + (size_t)nf * 4);
  }
  total = LL__SNAPFILE_HEADER + LL__SNAPFILE_TRAILER;
  for (int k = 0; k < 3; k++) {
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, plen[k]);
    add_sz(&total, ll__snapfile_pad8(plen[k]));
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = LL__SNAPFILE_SNAP_HEAD;
    add_sz(&len, mul_sz(snaps[i]->ntraces, LL__SNAPFILE_TRACE_REC));
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, len);
    add_sz(&total, ll__snapfile_pad8(len));
  }
  for (size_t i = 0; i < nextra; i++) {
    add_sz(&total, LL__SNAPFILE_SECHDR);
    add_sz(&total, extra[i].len);
    add_sz(&total, ll__snapfile_pad8(extra[i].len));
  }
  if (total == SIZE_MAX || (buf = ll__mmap_alloc(total)) == NULL) goto cleanup;
  serialise(&w, snaps, n, extra, nextra, plen, buf, total);
  rc = ll__snapfile_write_image(path, buf, total);
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
