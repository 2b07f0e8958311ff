/* test_snapfile.c - snapshot files: round trips, extras, errors, truncation and corruption. */
#include "test_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "crc32.h"
#include "snapfile.h"
#include "snapshot_fixtures.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *tmp_file(const char *name) {
  static char paths[8][512];
  static int next;
  const char *dir = getenv("LL_TEST_TMPDIR");
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/snapfile_%d_%s", dir != NULL ? dir : "/tmp", (int)getpid(), name);
  return p;
}

static void spit(const char *path, const void *buf, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  close(fd);
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

/* Make a modified image self-consistent again: both length fields and the CRC. */
static void reseal(unsigned char *b, size_t len) {
  wr64(b + 16, len);
  wr64(b + len - 16, len);
  wr32(b + len - 8, ll__crc32(0, b, len - 8));
}

/* Payload offset of the index-th section of `type`, walking the documented framing. */
static size_t find_section(const unsigned char *b, size_t len, uint32_t type, int index, size_t *plen) {
  size_t off = 24;
  while (off + 16 <= len - 16) {
    uint64_t n = rd64(b + off + 8);
    if (rd32(b + off) == type && index-- == 0) {
      if (plen != NULL) *plen = (size_t)n;
      return off + 16;
    }
    off += 16 + (size_t)n + ((8 - (n & 7)) & 7);
  }
  fail_msg("section %u not found", type);
  return 0;
}

/* A copy of the image with one more section just before the trailer. */
static unsigned char *with_section(const unsigned char *b, size_t len, uint32_t type, uint32_t flags,
                                   const void *payload, size_t plen, size_t *out_len) {
  size_t pad = (8 - (plen & 7)) & 7, n = len + 16 + plen + pad;
  unsigned char *o = calloc(1, n);
  assert_non_null(o);
  memcpy(o, b, len - 16);
  unsigned char *s = o + len - 16;
  wr32(s, type);
  wr32(s + 4, flags);
  wr64(s + 8, plen);
  memcpy(s + 16, payload, plen);
  memcpy(o + n - 16, b + len - 16, 16);
  reseal(o, n);
  *out_len = n;
  return o;
}

static int open_buf_rc(const unsigned char *b, size_t len) {
  ll__snapfile_t *f = NULL;
  int rc = ll__snapfile_open_buffer(b, len, &f);
  if (rc == 0) {
    /* An accepted file must decode every view it lists. */
    for (int at = 0; at < LL_AT__COUNT; at++) {
      if ((ll__snapfile_views(f) & (1u << at)) == 0) continue;
      ll_snapshot_t *s = NULL;
      rc = ll__snapfile_load(f, (ll_at_t)at, &s);
      if (rc != 0) break;
      ll_snapshot_free(s);
    }
  }
  ll__snapfile_close(f);
  return rc;
}

/* What ll_snapshot_load does (open, load one view, close), on an image in memory: the loops
 * that damage a file thousands of times need no file per try. */
static int load_buf(const unsigned char *b, size_t len, ll_at_t at, ll_snapshot_t **out) {
  ll__snapfile_t *f = NULL;
  int rc = ll__snapfile_open_buffer(b, len, &f);
  if (rc == 0) rc = ll__snapfile_load(f, at, out);
  ll__snapfile_close(f);
  return rc;
}

/* What ll_snapshot_file_views does, on an image in memory. */
static int views_buf(const unsigned char *b, size_t len, unsigned *mask) {
  ll__snapfile_t *f = NULL;
  int rc = ll__snapfile_open_buffer(b, len, &f);
  if (rc == 0) *mask = ll__snapfile_views(f);
  ll__snapfile_close(f);
  return rc;
}

static int clean_error(int rc) {
  return rc == LL_EBADMAGIC || rc == LL_EVERSION || rc == LL_ETRUNC || rc == LL_ECHECKSUM ||
         rc == LL_ECORRUPT;
}

/* Three views sharing tracebacks, with the awkward cases: native frames, an empty traceback,
 * total_nframe > nframe, huge counters, odd strings, an empty view. */
static void make_views(ll_snapshot_t *v[3]) {
  ll_snapshot_t *cur = fx_snapshot_new(LL_AT_CURRENT, 8), *peak = fx_snapshot_new(LL_AT_PEAK, 8),
                *leaks = fx_snapshot_new(LL_AT_LEAKS, 1);
  assert_non_null(cur);
  assert_non_null(peak);
  assert_non_null(leaks);
  assert_non_null(fx_trace(cur, "a.c:10:fa main.c:5:main", 100, 1));
  assert_non_null(fx_trace(cur, "b.c:7:fb main.c:5:main", 300, 3));
  assert_non_null(fx_trace(cur, "<unknown>:0@7f0012345678 <unknown>:0@401000", 64, 1));
  assert_non_null(fx_trace_tb(cur, fx_traceback_frames(cur, NULL, 0, 0), 1, 16, 1));
  ll_frame_t fr[2] = {{"dir/fünf.c", "größe", 4000000000u, 0xffffffffffffffffULL}, {"", "", 0, 0}};
  assert_non_null(fx_trace_tb(cur, fx_traceback_frames(cur, fr, 2, 40), UINT64_MAX - 1, UINT64_MAX,
                              1ULL << 40));
  char longname[400];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  ll_frame_t lf = {longname, "f", 1, 0};
  assert_non_null(fx_trace_tb(cur, fx_traceback_frames(cur, &lf, 1, 1), 5, 16, 1));
  cur->traceback_limit = 7;
  cur->program = ll__arena_strdup(cur->ll__arena, "prog --arg ü");

  assert_non_null(fx_trace(peak, "a.c:10:fa main.c:5:main", 1000, 10));
  assert_non_null(fx_trace(peak, "c.c:1:fc main.c:5:main", 2000, 2));
  peak->peak_bytes = 3000;
  leaks->program = ll__arena_strdup(leaks->ll__arena, "");
  v[0] = peak;
  v[1] = cur;
  v[2] = leaks;
}

static void free_views(ll_snapshot_t *v[3]) {
  for (int i = 0; i < 3; i++) ll_snapshot_free(v[i]);
}

/* The dumped three-view file, as bytes. */
static unsigned char *sample_file(size_t *len) {
  ll_snapshot_t *v[3];
  make_views(v);
  const char *path = tmp_file("sample.llsnap");
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)v, 3, path), 0);
  free_views(v);
  unsigned char *b = (unsigned char *)tf_slurp(NULL, path, len);
  unlink(path);
  return b;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- CRC ---------------------------------------------------------------------------------- */

static void test_crc32(void **state) {
  (void)state;
  assert_int_equal(ll__crc32(0, "123456789", 9), 0xCBF43926u);
  assert_int_equal(ll__crc32(0, "", 0), 0);
  assert_int_equal(ll__crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
  /* The 8-byte path and the byte path agree, whatever the split and alignment. */
  unsigned char buf[1031];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 131 + 7);
  uint32_t whole = ll__crc32(0, buf, sizeof buf), bytewise = 0;
  for (size_t i = 0; i < sizeof buf; i++) bytewise = ll__crc32(bytewise, buf + i, 1);
  assert_int_equal(whole, bytewise);
  assert_int_equal(ll__crc32(ll__crc32(0, buf, 333), buf + 333, sizeof buf - 333), whole);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void test_roundtrip_views(void **state) {
  (void)state;
  ll_snapshot_t *v[3];
  make_views(v);
  const char *path = tmp_file("rt.llsnap");
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)v, 3, path), 0);
  unsigned mask = 0;
  assert_int_equal(ll_snapshot_file_views(path, &mask), 0);
  assert_int_equal(mask, (1u << LL_AT_CURRENT) | (1u << LL_AT_PEAK) | (1u << LL_AT_LEAKS));
  for (int i = 0; i < 3; i++) {
    ll_snapshot_t *got = NULL;
    assert_int_equal(ll_snapshot_load(path, v[i]->at, &got), 0);
    const char *diff = fx_snapshot_diff(v[i], got);
    if (diff != NULL) fail_msg("view %s differs in %s", ll_at_name(v[i]->at), diff);
    assert_ptr_not_equal(got->ll__arena, NULL);
    ll_snapshot_free(got);
  }
  ll_snapshot_t *none = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_END, &none), LL_ENOVIEW);
  assert_int_equal(ll_snapshot_load(path, LL_AT_TEMPORARY, &none), LL_ENOVIEW);
  assert_int_equal(ll_snapshot_load(path, LL_AT_ALLOCATIONS, &none), LL_ENOVIEW);
  assert_int_equal(ll_snapshot_load(path, LL_AT__COUNT, &none), LL_EINVAL);
  assert_null(none);

  /* A loaded snapshot owns its memory: the file can go. */
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), 0);
  unlink(path);
  assert_null(fx_snapshot_diff(v[1], got));
  ll_snapshot_free(got);
  free_views(v);
}

static void test_tables_shared_between_views(void **state) {
  (void)state;
  ll_snapshot_t *v[3];
  make_views(v);
  ll_snapshot_t *cur = v[1];
  const char *p1 = tmp_file("one.llsnap"), *p2 = tmp_file("two.llsnap");
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)&cur, 1, p1), 0);
  /* The same traces as a second view: only a SNAPSHOT section more, tables stored once. */
  ll_snapshot_t end = *cur;
  end.at = LL_AT_END;
  const ll_snapshot_t *two[2] = {cur, &end};
  assert_int_equal(ll_snapshot_dump(two, 2, p2), 0);
  struct stat s1, s2;
  assert_int_equal(stat(p1, &s1), 0);
  assert_int_equal(stat(p2, &s2), 0);
  assert_int_equal((size_t)(s2.st_size - s1.st_size), 16 + 72 + 32 * cur->ntraces);
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(p2, LL_AT_END, &got), 0);
  assert_int_equal(got->at, LL_AT_END);
  got->at = LL_AT_CURRENT;
  assert_null(fx_snapshot_diff(cur, got));
  ll_snapshot_free(got);
  unlink(p1);
  unlink(p2);
  free_views(v);
}

/* One file holds every moment, the allocations view included, each read back whole. */
static void test_every_moment(void **state) {
  (void)state;
  ll_snapshot_t *v[3];
  make_views(v);
  ll_snapshot_t all[LL_AT__COUNT];
  const ll_snapshot_t *ptrs[LL_AT__COUNT];
  for (int at = 0; at < LL_AT__COUNT; at++) {
    all[at] = *v[1];
    all[at].at = (ll_at_t)at;
    all[at].total_allocations = 100 + (uint64_t)at; /* tells the views apart */
    ptrs[at] = &all[at];
  }
  const char *path = tmp_file("moments.llsnap");
  assert_int_equal(ll_snapshot_dump(ptrs, LL_AT__COUNT, path), 0);
  unsigned mask = 0;
  assert_int_equal(ll_snapshot_file_views(path, &mask), 0);
  assert_int_equal(mask, (1u << LL_AT__COUNT) - 1);
  for (int at = LL_AT__COUNT - 1; at >= 0; at--) {
    ll_snapshot_t *got = NULL;
    assert_int_equal(ll_snapshot_load(path, (ll_at_t)at, &got), 0);
    assert_int_equal(got->at, at);
    assert_null(fx_snapshot_diff(&all[at], got));
    ll_snapshot_free(got);
  }
  unlink(path);
  free_views(v);
}

static void test_empty_file_and_overwrite(void **state) {
  (void)state;
  const char *path = tmp_file("empty.llsnap");
  assert_int_equal(ll_snapshot_dump(NULL, 0, path), 0);
  unsigned mask = 99;
  assert_int_equal(ll_snapshot_file_views(path, &mask), 0);
  assert_int_equal(mask, 0);
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_ENOVIEW);

  /* Dumping over an existing file replaces it, and leaves no temporary behind. */
  ll_snapshot_t *v[3];
  make_views(v);
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)&v[2], 1, path), 0);
  assert_int_equal(ll_snapshot_file_views(path, &mask), 0);
  assert_int_equal(mask, 1u << LL_AT_LEAKS);
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  assert_int_equal(access(tmp, F_OK), -1);
  assert_int_equal(ll_snapshot_load(path, LL_AT_LEAKS, &got), 0);
  assert_null(fx_snapshot_diff(v[2], got));
  ll_snapshot_free(got);
  unlink(path);
  free_views(v);
}

static void test_dump_errors(void **state) {
  (void)state;
  ll_snapshot_t *v[3];
  make_views(v);
  const char *path = tmp_file("bad.llsnap");
  const ll_snapshot_t *dup[2] = {v[1], v[1]};
  assert_int_equal(ll_snapshot_dump(dup, 2, path), LL_EINVAL);
  ll_snapshot_t odd = *v[1];
  odd.at = (ll_at_t)9;
  const ll_snapshot_t *one = &odd;
  assert_int_equal(ll_snapshot_dump(&one, 1, path), LL_EINVAL);
  assert_int_equal(ll_snapshot_dump(NULL, 1, path), LL_EINVAL);
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)v, 3, NULL), LL_EINVAL);
  ll_trace_t broken = {NULL, 1, 1, 1};
  odd = *v[2];
  odd.ntraces = 1;
  odd.traces = &broken;
  assert_int_equal(ll_snapshot_dump(&one, 1, path), LL_EINVAL);
  assert_int_equal(access(path, F_OK), -1); /* nothing written on refusal */
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)v, 3, "/nonexistent-dir/x.llsnap"),
                   LL_ENOENT);
  ll__section_t bad = {0x20, 0, "x", 1};
  assert_int_equal(ll__snapfile_write(path, (const ll_snapshot_t *const *)v, 3, &bad, 1), LL_EINVAL);
  free_views(v);
}

static void test_read_errors(void **state) {
  (void)state;
  ll_snapshot_t *got = NULL;
  unsigned mask = 0;
  const char *missing = tmp_file("missing.llsnap");
  unlink(missing);
  assert_int_equal(ll_snapshot_load(missing, LL_AT_CURRENT, &got), LL_ENOENT);
  assert_int_equal(ll_snapshot_file_views(missing, &mask), LL_ENOENT);
  const char *dir = getenv("LL_TEST_TMPDIR") != NULL ? getenv("LL_TEST_TMPDIR") : "/tmp";
  assert_int_equal(ll_snapshot_load(dir, LL_AT_CURRENT, &got), -EISDIR);

  const char *path = tmp_file("foreign.llsnap");
  const char text[] = "# a text file, not a snapshot at all\n";
  spit(path, text, sizeof text - 1);
  assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_EBADMAGIC);
  spit(path, "", 0);
  assert_int_equal(ll_snapshot_file_views(path, &mask), LL_ETRUNC);
  spit(path, "LLSNAX", 6);
  assert_int_equal(ll_snapshot_file_views(path, &mask), LL_EBADMAGIC);

  size_t len;
  unsigned char *b = sample_file(&len);
  spit(path, b, len);
  if (geteuid() != 0) { /* root reads anything */
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_EACCES);
    chmod(path, 0644);
  }
  /* A newer version, even with a valid checksum, is refused as such. */
  wr32(b + 8, 2);
  reseal(b, len);
  spit(path, b, len);
  assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_EVERSION);
  assert_null(got);
  unlink(path);
  free(b);
}

/* ---- extra sections ----------------------------------------------------------------------- */

static void test_extra_sections(void **state) {
  (void)state;
  ll_snapshot_t *v[3];
  make_views(v);
  const char *path = tmp_file("extra.llsnap");
  uint64_t hist[4] = {1, 2, 3, 0xFFFFFFFFFFFFULL};
  ll__section_t ex[4] = {{0x100, 0, "hello", 5},
                         {0x101, 0, hist, sizeof hist},
                         {0x101, LL__SEC_REQUIRED, "second", 6},
                         {0x102, 0, NULL, 0}};
  assert_int_equal(ll__snapfile_write(path, (const ll_snapshot_t *const *)v, 2, ex, 4), 0);
  ll__arena_t *a = ll__arena_new();
  assert_non_null(a);
  const void *d = NULL;
  size_t n = 0;
  assert_int_equal(ll__snapfile_read_section(path, 0x100, a, &d, &n), 0);
  assert_int_equal(n, 5);
  assert_memory_equal(d, "hello", 5);
  assert_int_equal(ll__snapfile_read_section(path, 0x101, a, &d, &n), 0);
  assert_int_equal(n, sizeof hist);
  assert_memory_equal(d, hist, sizeof hist);
  assert_int_equal((uintptr_t)d % 8, 0);
  assert_int_equal(ll__snapfile_read_section(path, 0x102, a, &d, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(ll__snapfile_read_section(path, 0x103, a, &d, &n), LL_ENOVIEW);
  ll__arena_free(a);

  ll__snapfile_t *f = NULL;
  assert_int_equal(ll__snapfile_open(path, &f), 0);
  assert_int_equal(ll__snapfile_section(f, 0x101, 1, &d, &n), 0);
  assert_int_equal(n, 6);
  assert_memory_equal(d, "second", 6);
  assert_int_equal(ll__snapfile_section(f, 0x101, 2, &d, &n), LL_ENOVIEW);
  assert_int_equal(ll__snapfile_views(f), (1u << LL_AT_PEAK) | (1u << LL_AT_CURRENT));
  ll__snapfile_close(f);

  /* Extras never get in the way of snapshots, even flagged required (that flag is theirs). */
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_PEAK, &got), 0);
  assert_null(fx_snapshot_diff(v[0], got));
  ll_snapshot_free(got);
  unlink(path);
  free_views(v);
}

static void test_unknown_core_sections(void **state) {
  (void)state;
  size_t len, n;
  unsigned char *b = sample_file(&len);
  /* A later core section without the REQUIRED flag is skipped... */
  unsigned char *o = with_section(b, len, 0x50, 0, "future", 6, &n);
  assert_int_equal(open_buf_rc(o, n), 0);
  free(o);
  /* ...with it, the file is refused as too new. */
  o = with_section(b, len, 0x50, LL__SEC_REQUIRED, "future", 6, &n);
  assert_int_equal(open_buf_rc(o, n), LL_EVERSION);
  free(o);
  /* A second string table is inconsistent. */
  size_t plen, off = find_section(b, len, LL__SEC_STRINGS, 0, &plen);
  o = with_section(b, len, LL__SEC_STRINGS, 0, b + off, plen, &n);
  assert_int_equal(open_buf_rc(o, n), LL_ECORRUPT);
  free(o);
  free(b);
}

/* ---- damage ------------------------------------------------------------------------------- */

static void test_truncated_at_every_offset(void **state) {
  (void)state;
  size_t len;
  unsigned char *b = sample_file(&len);
  for (size_t k = 0; k < len; k++) {
    ll_snapshot_t *got = NULL;
    int rc = load_buf(b, k, LL_AT_CURRENT, &got);
    if (rc != LL_ETRUNC) fail_msg("cut at %zu of %zu: %d (%s)", k, len, rc, ll_err_name(rc));
    unsigned mask;
    assert_int_equal(views_buf(b, k, &mask), LL_ETRUNC);
  }
  /* The same through files, at a few cuts: the path API reads what it was given. */
  const char *path = tmp_file("trunc.llsnap");
  const size_t cuts[] = {0, 5, 8, 23, 24, len / 2, len - 17, len - 1};
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    spit(path, b, cuts[c]);
    ll_snapshot_t *got = NULL;
    assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_ETRUNC);
    unsigned mask;
    assert_int_equal(ll_snapshot_file_views(path, &mask), LL_ETRUNC);
  }
  /* One byte too many is not a valid file either. */
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, b, len);
  longer[len] = 0;
  spit(path, longer, len + 1);
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_CURRENT, &got), LL_ECORRUPT);
  printf("# %zu truncations of a %zu-byte file: all LL_ETRUNC\n", len, len);
  free(longer);
  unlink(path);
  free(b);
}

static void test_every_bit_flipped(void **state) {
  (void)state;
  size_t len;
  unsigned char *b = sample_file(&len);
  unsigned counts[5] = {0};
  const int codes[5] = {LL_EBADMAGIC, LL_EVERSION, LL_ETRUNC, LL_ECHECKSUM, LL_ECORRUPT};
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      b[i] ^= (unsigned char)(1u << bit);
      ll_snapshot_t *got = NULL;
      int rc = load_buf(b, len, LL_AT_CURRENT, &got);
      b[i] ^= (unsigned char)(1u << bit);
      if (!clean_error(rc)) fail_msg("bit %d of byte %zu flipped: %d (%s)", bit, i, rc, ll_err_name(rc));
      for (int c = 0; c < 5; c++) counts[c] += rc == codes[c];
    }
  }
  printf("# %zu bit flips: %u bad magic, %u version, %u truncated, %u checksum, %u corrupt\n",
         len * 8, counts[0], counts[1], counts[2], counts[3], counts[4]);
  assert_int_equal(counts[0], 8 * 8);   /* every bit of the magic */
  assert_int_equal(counts[1], 4 * 8);   /* every bit of the version */
  assert_true(counts[3] > len * 8 / 2); /* the content: the checksum catches it */
  free(b);
}

/* Damage the content and recompute the CRC: the decoder's own checks must hold the line. */
static void test_corrupt_content_with_valid_crc(void **state) {
  (void)state;
  size_t len;
  unsigned char *b = sample_file(&len);
  unsigned char *c = malloc(len);
  assert_non_null(c);
  unsigned ok = 0, corrupt = 0, other = 0;
  for (size_t i = 24; i < len - 16; i++) {
    for (int m = 0; m < 7; m++) {
      memcpy(c, b, len);
      switch (m) {
        case 0: c[i] ^= 0x01; break;
        case 1: c[i] ^= 0x80; break;
        case 2: c[i] ^= 0xFF; break;
        case 3: c[i] = 0x00; break;
        case 4: c[i] = 0xFF; break;
        case 5: c[i] = (unsigned char)(c[i] + 1); break;
        default: c[i] = (unsigned char)(c[i] - 1); break;
      }
      if (c[i] == b[i]) continue;
      reseal(c, len);
      ll__snapfile_t *f = NULL;
      int rc = ll__snapfile_open_buffer(c, len, &f);
      for (int at = 0; rc == 0 && at < LL_AT__COUNT; at++) {
        if ((ll__snapfile_views(f) & (1u << at)) == 0) continue;
        ll_snapshot_t *s = NULL;
        if ((rc = ll__snapfile_load(f, (ll_at_t)at, &s)) != 0) break;
        /* Whatever was accepted must be usable all the way through: statistics by traceback
         * read every frame of every trace (file, function, line, address) and refuse more frames
         * than LL_MAX_NFRAME; by line or file they read a part of the top frame only, so they
         * are not run here (they were: three times the cost, two thirds of this file's run). */
        ll_stats_t *st = NULL;
        assert_int_equal(ll_snapshot_statistics(s, LL_GROUP_TRACEBACK, 0, &st), 0);
        ll_stats_free(st);
        ll_snapshot_free(s);
      }
      ll__snapfile_close(f);
      if (rc == 0) ok++;
      else if (rc == LL_ECORRUPT) corrupt++;
      else if (clean_error(rc)) other++;
      else fail_msg("byte %zu mutation %d: %d (%s)", i, m, rc, ll_err_name(rc));
    }
  }
  printf("# content mutations with fixed CRC: %u accepted, %u LL_ECORRUPT, %u other clean errors\n",
         ok, corrupt, other);
  assert_true(ok > 0);      /* sizes and counters are free values */
  assert_true(corrupt > 0); /* indexes and lengths are not */
  free(c);
  free(b);
}

static void expect_corrupt(const unsigned char *b, size_t len, size_t off, int width, uint64_t value,
                           int want, const char *what) {
  unsigned char *c = malloc(len);
  assert_non_null(c);
  memcpy(c, b, len);
  if (width == 1) c[off] = (unsigned char)value;
  else if (width == 4) wr32(c + off, (uint32_t)value);
  else wr64(c + off, value);
  reseal(c, len);
  int rc = open_buf_rc(c, len);
  if (rc != want) fail_msg("%s: got %d (%s), want %d", what, rc, ll_err_name(rc), want);
  free(c);
}

static void test_targeted_corruption(void **state) {
  (void)state;
  size_t len, sl, fl, tl, pl;
  unsigned char *b = sample_file(&len);
  assert_int_equal(open_buf_rc(b, len), 0);
  size_t so = find_section(b, len, LL__SEC_STRINGS, 0, &sl);
  size_t fo = find_section(b, len, LL__SEC_FRAMES, 0, &fl);
  size_t to = find_section(b, len, LL__SEC_TRACEBACKS, 0, &tl);
  size_t po = find_section(b, len, LL__SEC_SNAPSHOT, 0, &pl); /* the peak view, written first */
  size_t lo = find_section(b, len, LL__SEC_SNAPSHOT, 2, NULL); /* the leaks view */
  uint32_t nstr = rd32(b + so), nfr = rd32(b + fo), ntb = rd32(b + to);
  assert_int_equal(rd32(b + po), LL_AT_PEAK);
  assert_int_equal(rd32(b + lo), LL_AT_LEAKS);

  expect_corrupt(b, len, so, 4, nstr + 1, LL_ECORRUPT, "one string more than stored");
  expect_corrupt(b, len, so, 4, nstr - 1, LL_ECORRUPT, "one string less than stored");
  expect_corrupt(b, len, so, 4, UINT32_MAX, LL_ECORRUPT, "string count overflow");
  expect_corrupt(b, len, so + sl - 1, 1, 'x', LL_ECORRUPT, "last string not NUL-terminated");
  expect_corrupt(b, len, so + 4, 4, 1, LL_ECORRUPT, "reserved field set");
  expect_corrupt(b, len, fo, 4, nfr + 1, LL_ECORRUPT, "frame count off");
  expect_corrupt(b, len, fo + 8, 4, nstr, LL_ECORRUPT, "frame filename out of range");
  expect_corrupt(b, len, fo + 12, 4, UINT32_MAX, LL_ECORRUPT, "frame function out of range");
  expect_corrupt(b, len, to, 4, ntb + 1, LL_ECORRUPT, "traceback count off");
  expect_corrupt(b, len, to, 4, UINT32_MAX, LL_ECORRUPT, "traceback count overflow");
  expect_corrupt(b, len, to + 8, 4, UINT32_MAX, LL_ECORRUPT, "traceback nframe huge");
  expect_corrupt(b, len, to + 8, 4, LL_MAX_NFRAME + 1, LL_ECORRUPT, "traceback nframe over limit");
  expect_corrupt(b, len, to + 16, 4, nfr, LL_ECORRUPT, "traceback frame out of range");
  expect_corrupt(b, len, po, 4, LL_AT__COUNT, LL_ECORRUPT, "view out of range");
  expect_corrupt(b, len, lo, 4, LL_AT_PEAK, LL_ECORRUPT, "duplicate view");
  expect_corrupt(b, len, po + 8, 4, nstr, LL_ECORRUPT, "program string out of range");
  expect_corrupt(b, len, po + 64, 8, 3, LL_ECORRUPT, "trace count off");
  expect_corrupt(b, len, po + 64, 8, UINT64_MAX / 32 + 3, LL_ECORRUPT, "trace count overflow");
  expect_corrupt(b, len, po + 72, 4, ntb, LL_ECORRUPT, "trace traceback out of range");
  expect_corrupt(b, len, po + 76, 4, 9, LL_ECORRUPT, "trace reserved field set");
  expect_corrupt(b, len, so - 8, 8, UINT64_MAX - 3, LL_ECORRUPT, "section length past the end");
  expect_corrupt(b, len, so - 8, 8, sl + 1, LL_ECORRUPT, "section length off by one");
  expect_corrupt(b, len, so - 16, 4, 0x51, LL_ECORRUPT, "no string table");
  /* A view renamed to an unknown type is just absent. */
  unsigned char *c = malloc(len);
  assert_non_null(c);
  memcpy(c, b, len);
  wr32(c + po - 16, 0x52);
  reseal(c, len);
  ll__snapfile_t *f = NULL;
  assert_int_equal(ll__snapfile_open_buffer(c, len, &f), 0);
  assert_int_equal(ll__snapfile_views(f), (1u << LL_AT_CURRENT) | (1u << LL_AT_LEAKS));
  ll_snapshot_t *s = NULL;
  assert_int_equal(ll__snapfile_load(f, LL_AT_PEAK, &s), LL_ENOVIEW);
  ll__snapfile_close(f);
  free(c);
  /* Benign: counters are just numbers. */
  expect_corrupt(b, len, po + 72 + 8, 8, 12345, 0, "trace size changed");
  free(b);
}

/* ---- size and speed ----------------------------------------------------------------------- */

static void test_large_roundtrip(void **state) {
  (void)state;
  const size_t n = 200000;
  ll_snapshot_t *s = fx_random_snapshot(99, LL_AT_PEAK, n, 8, 300);
  assert_non_null(s);
  const char *path = tmp_file("large.llsnap");
  double t0 = now_s();
  assert_int_equal(ll_snapshot_dump((const ll_snapshot_t *const *)&s, 1, path), 0);
  double t_dump = now_s() - t0;
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  ll_snapshot_t *got = NULL;
  t0 = now_s();
  assert_int_equal(ll_snapshot_load(path, LL_AT_PEAK, &got), 0);
  double t_load = now_s() - t0;
  printf("# %zu traces x 8 frames: file %lld bytes (%.1f B/trace), dump %.3f s, load %.3f s\n", n,
         (long long)st.st_size, (double)st.st_size / (double)n, t_dump, t_load);
  const char *diff = fx_snapshot_diff(s, got);
  if (diff != NULL) fail_msg("large round trip differs in %s", diff);
  ll_snapshot_free(got);
  ll_snapshot_free(s);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32),
      cmocka_unit_test(test_roundtrip_views),
      cmocka_unit_test(test_tables_shared_between_views),
      cmocka_unit_test(test_every_moment),
      cmocka_unit_test(test_empty_file_and_overwrite),
      cmocka_unit_test(test_dump_errors),
      cmocka_unit_test(test_read_errors),
      cmocka_unit_test(test_extra_sections),
      cmocka_unit_test(test_unknown_core_sections),
      cmocka_unit_test(test_truncated_at_every_offset),
      cmocka_unit_test(test_every_bit_flipped),
      cmocka_unit_test(test_corrupt_content_with_valid_crc),
      cmocka_unit_test(test_targeted_corruption),
      cmocka_unit_test(test_large_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
