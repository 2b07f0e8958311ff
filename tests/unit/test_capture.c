/* test_capture.c - the capture codec and reader: each extra section encoded then decoded back, every truncation and bad count rejected, a capture file read once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <leaklab/leaklab.h>

#include "arena.h"
#include "capture_read.h"
#include "capture_write.h"
#include "snapfile.h"
#include "snapshot_fixtures.h"

/* ---- section bytes as the preload lays them out (capture_format.h), built field by field ----- */

typedef struct buf {
  unsigned char b[4096];
  size_t n;
} buf_t;

static void p32(buf_t *b, uint32_t v) {
  ll__put_u32(b->b + b->n, v);
  b->n += 4;
}
static void p64(buf_t *b, uint64_t v) {
  ll__put_u64(b->b + b->n, v);
  b->n += 8;
}
static void pbytes(buf_t *b, const void *p, size_t n) {
  memcpy(b->b + b->n, p, n);
  b->n += n;
}
static void pad8(buf_t *b) {
  while (b->n % 8 != 0) b->b[b->n++] = 0;
}

static const unsigned char bid[4] = {0xde, 0xad, 0xbe, 0xef};

static void modules_bytes(buf_t *b) {
  memset(b, 0, sizeof *b);
  p32(b, 2);
  p32(b, 0);
  const char *paths[2] = {"/home/u/prog", "/usr/lib/x86_64-linux-gnu/libc.so.6"};
  for (int i = 0; i < 2; i++) {
    p64(b, 0x1000u * (uint64_t)(i + 1));
    p64(b, 0x400000u + 0x100000u * (uint64_t)i);
    p64(b, 0x480000u + 0x100000u * (uint64_t)i);
    p32(b, i == 0 ? LL_CAP_MOD_MAIN : LL_CAP_MOD_SYSTEM);
    unsigned char h[4];
    ll__put_u16(h, (uint16_t)strlen(paths[i]));
    ll__put_u16(h + 2, i == 0 ? 4 : 0);
    pbytes(b, h, 4);
    pbytes(b, paths[i], strlen(paths[i]));
    if (i == 0) pbytes(b, bid, 4);
    pad8(b);
  }
}

static void process_bytes(buf_t *b, uint32_t flags) {
  memset(b, 0, sizeof *b);
  p32(b, 1);    /* version */
  p32(b, 42);   /* pid */
  p32(b, 7);    /* ppid */
  p32(b, LL_CAP_END_SIGNAL);
  p32(b, 11);   /* SIGSEGV */
  p32(b, flags);
  p32(b, 16);   /* frames */
  p32(b, 1);    /* unwind: fp */
  p32(b, 2);    /* stages */
  p32(b, 0);
  const char *progs[2] = {"/bin/sh", "/home/u/prog"};
  for (int i = 0; i < 2; i++) {
    p32(b, 40u + (uint32_t)i);
    p32(b, (uint32_t)strlen(progs[i]));
    p64(b, 100u * (uint64_t)(i + 1));
    p64(b, 10u * (uint64_t)(i + 1));
    p64(b, 3u + (uint64_t)i);
    p64(b, 300u + (uint64_t)i);
    pbytes(b, progs[i], strlen(progs[i]));
    pad8(b);
  }
}

static void timeline_bytes(buf_t *b) {
  memset(b, 0, sizeof *b);
  p64(b, 1000000);
  p32(b, 3);
  p32(b, 0);
  for (uint64_t i = 0; i < 3; i++) {
    p64(b, 1000 * i);
    p64(b, 64 * i);
    p64(b, 64 * i + 1);
  }
}

static void histogram_bytes(buf_t *b) {
  memset(b, 0, sizeof *b);
  p32(b, LL_CAP_HIST_BUCKETS);
  p32(b, 0);
  for (uint64_t i = 0; i < LL_CAP_HIST_BUCKETS; i++) p64(b, i * 3);
  for (uint64_t i = 0; i < LL_CAP_HIST_BUCKETS; i++) p64(b, i * 1000);
}

static const ll_cap_jemalloc_t je_in = {1000, 2000, 3000, 4000};

/* LINES: two columns over three points, through the codec's own encoder. */
static const uint64_t lines_ips0[2] = {0x401000, 0x402000}, lines_ips1[1] = {0x403000};
static const ll_cap_lines_col_t lines_cols[2] = {{2, 5, lines_ips0}, {1, 1, lines_ips1}};
static const uint64_t lines_t[3] = {1500, 2500, 3500}, lines_clock[3] = {1, 5, 9},
                      lines_total[3] = {100, 300, 200}, lines_val[6] = {50, 10, 200, 20, 150, 5};
static const ll_cap_lines_t lines_in = {3, 2, 1, 4, lines_cols, lines_t, lines_clock,
                                        lines_total, lines_val};

/* ---- decode each section --------------------------------------------------------------------- */

static void check_modules(const ll_cap_module_t *m, size_t n) {
  assert_int_equal(n, 2);
  assert_int_equal(m[0].bias, 0x1000);
  assert_int_equal(m[0].lo, 0x400000);
  assert_int_equal(m[0].hi, 0x480000);
  assert_int_equal(m[0].flags, LL_CAP_MOD_MAIN);
  assert_string_equal(m[0].path, "/home/u/prog");
  assert_int_equal(m[0].build_id_len, 4);
  assert_memory_equal(m[0].build_id, bid, 4);
  assert_string_equal(m[1].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  assert_int_equal(m[1].build_id_len, 0);
  assert_true(ll_cap_module_is_own(m[0].flags));
  assert_false(ll_cap_module_is_own(m[1].flags));
}

static void check_process(const ll_cap_process_t *p, uint32_t flags) {
  assert_int_equal(p->pid, 42);
  assert_int_equal(p->ppid, 7);
  assert_int_equal(p->how, LL_CAP_END_SIGNAL);
  assert_int_equal(p->signal, 11);
  assert_int_equal(p->flags, flags);
  assert_int_equal(p->frames, 16);
  assert_int_equal(p->unwind, 1);
  assert_int_equal(p->nstage, 2);
  assert_string_equal(p->stages[0].program, "/bin/sh");
  assert_string_equal(p->stages[1].program, "/home/u/prog");
  assert_int_equal(p->stages[1].pid, 41);
  assert_int_equal(p->stages[1].peak, 200);
  assert_int_equal(p->stages[1].end, 20);
  assert_int_equal(p->stages[1].total_allocations, 4);
  assert_int_equal(p->stages[1].total_bytes, 301);
}

static void check_lines(const ll_cap_lines_t *l) {
  assert_int_equal(l->npts, 3);
  assert_int_equal(l->ncols, 2);
  assert_int_equal(l->peak_pt, 1);
  assert_int_equal(l->stride, 4);
  assert_int_equal(l->cols[0].nframe, 2);
  assert_int_equal(l->cols[0].total_nframe, 5);
  assert_int_equal(l->cols[0].ips[1], 0x402000);
  assert_int_equal(l->cols[1].ips[0], 0x403000);
  assert_int_equal(l->t_ns[0], 500); /* t0 (1000) subtracted */
  assert_int_equal(l->clock[2], 9);
  assert_int_equal(l->total[1], 300);
  assert_memory_equal(l->val, lines_val, sizeof lines_val);
}

static void test_round_trips(void **state) {
  (void)state;
  ll__arena_t *a = ll__arena_new();
  buf_t b;

  ll_cap_module_t *mods;
  size_t nmod;
  modules_bytes(&b);
  assert_int_equal(ll_cap_decode_modules(b.b, b.n, a, &mods, &nmod), 0);
  check_modules(mods, nmod);

  ll_cap_process_t proc;
  process_bytes(&b, LL_CAP_F_NATIVE);
  assert_int_equal(ll_cap_decode_process(b.b, b.n, a, &proc), 0);
  check_process(&proc, LL_CAP_F_NATIVE);

  ll_cap_timeline_t tl;
  timeline_bytes(&b);
  assert_int_equal(ll_cap_decode_timeline(b.b, b.n, a, &tl), 0);
  assert_int_equal(tl.interval_ns, 1000000);
  assert_int_equal(tl.npoint, 3);
  assert_int_equal(tl.points[2].t_ns, 2000);
  assert_int_equal(tl.points[2].current, 128);
  assert_int_equal(tl.points[2].high, 129);

  ll_cap_histogram_t h;
  histogram_bytes(&b);
  assert_int_equal(ll_cap_decode_histogram(b.b, b.n, &h), 0);
  assert_int_equal(h.counts[64], 192);
  assert_int_equal(h.bytes[10], 10000);

  unsigned char jb[LL_CAP_JEMALLOC_LEN];
  ll_cap_jemalloc_t je;
  ll_cap_encode_jemalloc(jb, &je_in);
  assert_int_equal(ll_cap_decode_jemalloc(jb, sizeof jb, &je), 0);
  assert_memory_equal(&je, &je_in, sizeof je);

  size_t llen = ll_cap_lines_size(&lines_in);
  unsigned char *lb = malloc(llen);
  assert_non_null(lb);
  ll_cap_encode_lines(lb, &lines_in, 1000);
  ll_cap_lines_t lines;
  assert_int_equal(ll_cap_decode_lines(lb, llen, a, &lines), 0);
  check_lines(&lines);
  free(lb);
  ll__arena_free(a);
}

/* Every proper prefix of every section is rejected (LL_ECORRUPT), never read past. */
static int decode_any(int which, const unsigned char *p, size_t n, ll__arena_t *a) {
  ll_cap_module_t *mods;
  size_t nmod;
  ll_cap_process_t proc;
  ll_cap_timeline_t tl;
  ll_cap_histogram_t h;
  ll_cap_jemalloc_t je;
  ll_cap_lines_t l;
  switch (which) {
  case 0: return ll_cap_decode_modules(p, n, a, &mods, &nmod);
  case 1: return ll_cap_decode_process(p, n, a, &proc);
  case 2: return ll_cap_decode_timeline(p, n, a, &tl);
  case 3: return ll_cap_decode_histogram(p, n, &h);
  case 4: return ll_cap_decode_jemalloc(p, n, &je);
  default: return ll_cap_decode_lines(p, n, a, &l);
  }
}

static void test_truncated_rejected(void **state) {
  (void)state;
  ll__arena_t *a = ll__arena_new();
  for (int which = 0; which < 6; which++) {
    buf_t b;
    memset(&b, 0, sizeof b);
    switch (which) {
    case 0: modules_bytes(&b); break;
    case 1: process_bytes(&b, 0); break;
    case 2: timeline_bytes(&b); break;
    case 3: histogram_bytes(&b); break;
    case 4: ll_cap_encode_jemalloc(b.b, &je_in); b.n = LL_CAP_JEMALLOC_LEN; break;
    default: b.n = ll_cap_lines_size(&lines_in); ll_cap_encode_lines(b.b, &lines_in, 0); break;
    }
    assert_int_equal(decode_any(which, b.b, b.n, a), 0);
    /* The module map and the process section end on padding a prefix may drop: cut into data. */
    size_t whole = b.n - ((which == 0 || which == 1) ? 8 : 0);
    for (size_t n = 0; n < whole; n++) {
      unsigned char *copy = malloc(n + 1); /* exactly n readable bytes for ASan to watch */
      assert_non_null(copy);
      memcpy(copy, b.b, n);
      int rc = decode_any(which, copy, n, a);
      free(copy);
      if (rc != LL_ECORRUPT) fail_msg("section %d cut to %zu of %zu bytes: rc %d", which, n, b.n, rc);
    }
  }
  ll__arena_free(a);
}

/* Counts and versions that do not match the bytes. */
static void test_corrupt_rejected(void **state) {
  (void)state;
  ll__arena_t *a = ll__arena_new();
  buf_t b;
  ll_cap_module_t *mods;
  size_t nmod;
  ll_cap_process_t proc;
  ll_cap_timeline_t tl;
  ll_cap_histogram_t h;
  ll_cap_jemalloc_t je;

  modules_bytes(&b);
  ll__put_u32(b.b, 1000000); /* more modules than bytes */
  assert_int_equal(ll_cap_decode_modules(b.b, b.n, a, &mods, &nmod), LL_ECORRUPT);
  modules_bytes(&b);
  ll__put_u64(b.b + 8 + 16, 0x10); /* hi below lo */
  assert_int_equal(ll_cap_decode_modules(b.b, b.n, a, &mods, &nmod), LL_ECORRUPT);

  process_bytes(&b, 0);
  ll__put_u32(b.b, 2); /* a version this reader does not know */
  assert_int_equal(ll_cap_decode_process(b.b, b.n, a, &proc), LL_ECORRUPT);
  process_bytes(&b, 0);
  ll__put_u32(b.b + 32, 1000); /* more stages than bytes */
  assert_int_equal(ll_cap_decode_process(b.b, b.n, a, &proc), LL_ECORRUPT);

  timeline_bytes(&b);
  ll__put_u32(b.b + 8, 4); /* four points announced, three present */
  assert_int_equal(ll_cap_decode_timeline(b.b, b.n, a, &tl), LL_ECORRUPT);
  timeline_bytes(&b);
  assert_int_equal(ll_cap_decode_timeline(b.b, b.n + 8, a, &tl), LL_ECORRUPT); /* trailing bytes */

  histogram_bytes(&b);
  ll__put_u32(b.b, 64); /* another bucket count */
  assert_int_equal(ll_cap_decode_histogram(b.b, b.n, &h), LL_ECORRUPT);
  histogram_bytes(&b);
  assert_int_equal(ll_cap_decode_histogram(b.b, b.n + 8, &h), LL_ECORRUPT);

  ll_cap_encode_jemalloc(b.b, &je_in);
  assert_int_equal(ll_cap_decode_jemalloc(b.b, LL_CAP_JEMALLOC_LEN + 8, &je), LL_ECORRUPT);
  ll__put_u32(b.b, 9);
  assert_int_equal(ll_cap_decode_jemalloc(b.b, LL_CAP_JEMALLOC_LEN, &je), LL_ECORRUPT);
  ll__arena_free(a);
}

/* ---- the reader: one capture file, every section from one open --------------------------------- */

static void write_capture(const char *path, int corrupt_jemalloc) {
  static buf_t mb, pb, tb, hb;
  unsigned char jb[LL_CAP_JEMALLOC_LEN];
  modules_bytes(&mb);
  process_bytes(&pb, LL_CAP_F_NATIVE);
  timeline_bytes(&tb);
  histogram_bytes(&hb);
  ll_cap_encode_jemalloc(jb, &je_in);
  if (corrupt_jemalloc) ll__put_u32(jb, 9);
  size_t llen = ll_cap_lines_size(&lines_in);
  unsigned char *lb = malloc(llen);
  assert_non_null(lb);
  ll_cap_encode_lines(lb, &lines_in, 1000);
  const ll__section_t sec[] = {{LL_CAP_SEC_MODULES, 0, mb.b, mb.n},
                               {LL_CAP_SEC_PROCESS, 0, pb.b, pb.n},
                               {LL_CAP_SEC_TIMELINE, 0, tb.b, tb.n},
                               {LL_CAP_SEC_HISTOGRAM, 0, hb.b, hb.n},
                               {LL_CAP_SEC_JEMALLOC, 0, jb, sizeof jb},
                               {LL_CAP_SEC_LINES, 0, lb, llen}};
  ll_snapshot_t *peak = fx_snapshot_new(LL_AT_PEAK, 0);
  assert_non_null(peak);
  const ll_snapshot_t *snaps[1] = {peak};
  assert_int_equal(ll__snapfile_write(path, snaps, 1, sec, sizeof sec / sizeof sec[0]), 0);
  ll_snapshot_free(peak);
  free(lb);
}

static void capture_path(char *buf, size_t len, const char *name) {
  const char *dir = getenv("LL_TEST_TMPDIR");
  snprintf(buf, len, "%s/test_capture_%ld_%s.llcap", dir != NULL ? dir : "/tmp", (long)getpid(),
           name);
}

/* The reader over write_capture's file (`name` in its path), the file itself gone. */
static ll_capture_t *open_written(const char *name, int corrupt_jemalloc) {
  char path[4096];
  ll_capture_t *c = NULL;
  capture_path(path, sizeof path, name);
  write_capture(path, corrupt_jemalloc);
  assert_int_equal(ll_capture_open(path, &c), 0);
  unlink(path);
  return c;
}

static void test_reader(void **state) {
  (void)state;
  ll_capture_t *c = open_written("whole", 0);

  assert_int_equal(ll_capture_views(c), 1u << LL_AT_PEAK);
  ll_snapshot_t *s = NULL;
  assert_int_equal(ll_capture_load(c, LL_AT_PEAK, &s), 0);
  assert_int_equal(s->peak_bytes, 2000 + LL_AT_PEAK);
  ll_snapshot_free(s);
  assert_int_equal(ll_capture_load(c, LL_AT_END, &s), LL_ENOVIEW);

  const ll_cap_module_t *mods;
  size_t nmod;
  assert_int_equal(ll_capture_modules(c, &mods, &nmod), 0);
  check_modules(mods, nmod);
  const ll_cap_process_t *proc;
  assert_int_equal(ll_capture_process(c, &proc), 0);
  check_process(proc, LL_CAP_F_NATIVE);
  assert_true(ll_capture_native(c));
  const ll_cap_timeline_t *tl;
  assert_int_equal(ll_capture_timeline(c, &tl), 0);
  assert_int_equal(tl->npoint, 3);
  const ll_cap_histogram_t *h;
  assert_int_equal(ll_capture_histogram(c, &h), 0);
  assert_int_equal(h->counts[1], 3);
  const ll_cap_jemalloc_t *je;
  assert_int_equal(ll_capture_jemalloc(c, &je), 0);
  assert_memory_equal(je, &je_in, sizeof *je);
  const ll_cap_lines_t *l;
  assert_int_equal(ll_capture_lines(c, &l), 0);
  check_lines(l);
  ll_capture_close(c);
}

/* A section that does not decode fails only its accessor; a plain snapshot file has none. */
static void test_reader_bad_and_absent_sections(void **state) {
  (void)state;
  char path[4096];
  ll_capture_t *c = open_written("badje", 1);
  const ll_cap_jemalloc_t *je;
  assert_int_equal(ll_capture_jemalloc(c, &je), LL_ECORRUPT);
  assert_null(je);
  const ll_cap_process_t *proc;
  assert_int_equal(ll_capture_process(c, &proc), 0);
  ll_capture_close(c);

  capture_path(path, sizeof path, "plain");
  ll_snapshot_t *end = fx_snapshot_new(LL_AT_END, 0);
  const ll_snapshot_t *snaps[1] = {end};
  assert_int_equal(ll__snapfile_write(path, snaps, 1, NULL, 0), 0);
  ll_snapshot_free(end);
  assert_int_equal(ll_capture_open(path, &c), 0);
  unlink(path);
  const ll_cap_module_t *mods;
  size_t nmod;
  assert_int_equal(ll_capture_modules(c, &mods, &nmod), LL_ENOVIEW);
  assert_int_equal(ll_capture_process(c, &proc), LL_ENOVIEW);
  assert_false(ll_capture_native(c));
  ll_capture_close(c);

  /* Not a snapshot file at all: the open says so. */
  assert_int_equal(ll_capture_open_buffer("not a capture", 13, &c), LL_EBADMAGIC);
  assert_int_equal(ll_capture_open("/nonexistent/leaklab.llcap", &c), LL_ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_truncated_rejected),
      cmocka_unit_test(test_corrupt_rejected),
      cmocka_unit_test(test_reader),
      cmocka_unit_test(test_reader_bad_and_absent_sections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
