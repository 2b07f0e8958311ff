/* test_capture_write.c - the capture writer: every section it writes, read back by the capture reader field for field, every byte written and none past the end. */
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
#include "capture_reach.h"
#include "capture_read.h"
#include "capture_write.h"
#include "snapfile.h"
#include "snapshot_fixtures.h"

/* ---- what goes in: a value of each section, odd lengths (padding) and empty strings ---------- */

static const unsigned char bid20[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const ll_cap_module_t mods_in[] = {
    {0x555500000000, 0x555500001000, 0x555500009000, LL_CAP_MOD_MAIN, "/home/u/prog", bid20, 20},
    {0x7f0000000000, 0x7f0000010000, 0x7f0000200000, LL_CAP_MOD_SYSTEM,
     "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, 0},
    {0, 0x7fff0000, 0x7fff2000, LL_CAP_MOD_SYSTEM, "[vdso]", bid20, 3},
    {0x7e0000000000, 0x7e0000001000, 0x7e0000002000, LL_CAP_MOD_LEAKLAB, "", NULL, 0},
};
#define NMOD (sizeof mods_in / sizeof mods_in[0])

static ll_cap_point_t points_in[] = {
    {1000000, 10, 10}, {2000000, 4096, 8192}, {4000000, 0, 0}, {UINT64_MAX, UINT64_MAX, 1}};
static const ll_cap_timeline_t timeline_in = {2000000, points_in, 4};

static ll_cap_stage_t stages_in[] = {
    {100, 5000, 10, 7, 9000, "/bin/sh -c ./prog"},
    {100, 0, 0, 0, 0, ""},
    {100, UINT64_MAX, 3, 1, 2, "./prog a b c"},
};
static const ll_cap_process_t process_in = {
    100, 99, LL_CAP_END_SIGNAL, LL_CAP_F_NATIVE | LL_CAP_F_CHILD, 32, 2, 11, 3, stages_in};

static const ll_cap_jemalloc_t jemalloc_in = {11, 22, 33, UINT64_MAX};
static const ll_cap_budget_t budget_in = {LL_CAP_BUDGET_MEMORY | LL_CAP_BUDGET_LEAKS, 70u << 20, 1};

static const uint64_t ips_a[3] = {0x401000, 0x401100, 0x401200}, ips_b[1] = {0x7f0000010123};
static const ll_cap_lines_col_t cols_in[2] = {{3, 9, ips_a}, {1, 1, ips_b}};
static const uint64_t t_in[3] = {400, 1500, 9000}, clock_in[3] = {0, 3, 3},
                      total_in[3] = {0, 96, 64};
static const uint64_t val_in[6] = {0, 0, 64, 32, 64, 0};
static const ll_cap_lines_t lines_in = {3, 2, 1, 8, cols_in, t_in, clock_in, total_in, val_in};
#define T0 1000 /* the timeline's origin, subtracted from the LINES points' times */

static const uint64_t reach_trace_in[2][2][LL_CAP_REACH_KINDS] = {
    {{100, 0, 0, 28}, {1, 0, 0, 2}}, {{0, 48, 8, 0}, {0, 3, 1, 0}}};
static const ll_cap_reach_edge_t edges_in[1] = {{0, 1, 3, 48}};
static const ll_cap_reach_root_t roots_in[2] = {
    {0, LL_CAP_ROOT_GLOBAL, 0, 0x555500004000, 0, 2, 28},
    {1, LL_CAP_ROOT_STACK, 0, 0x7ffd0000, 0x401234, 1, 8}};
static const ll_cap_reach_t reach_in = {2, 1, 2, 3, LL_CAP_REACH_F_SIGNAL, 123456, 4096, 8192, 777,
                                        {100, 48, 8, 28}, {1, 3, 1, 2}, NULL, NULL, NULL, NULL};

static ll_cap_histogram_t histogram_in;

/* ---- the writer, section by section --------------------------------------------------------- */

enum { S_MODULES, S_TIMELINE, S_HISTOGRAM, S_PROCESS, S_JEMALLOC, S_LINES, S_BUDGET, S_REACH, S_N };
static const uint32_t sec_type[S_N] = {LL_CAP_SEC_MODULES, LL_CAP_SEC_TIMELINE,
                                       LL_CAP_SEC_HISTOGRAM, LL_CAP_SEC_PROCESS,
                                       LL_CAP_SEC_JEMALLOC, LL_CAP_SEC_LINES,
                                       LL_CAP_SEC_BUDGET,  LL_CAP_SEC_REACH};

/* The length of section `which`'s encoding, written into buf unless buf is NULL. */
static size_t encode(int which, unsigned char *buf) {
  size_t len = 0;
  switch (which) {
  case S_MODULES: {
    len = 8;
    for (size_t i = 0; i < NMOD; i++)
      len += ll_cap_module_size(strlen(mods_in[i].path), mods_in[i].build_id_len);
    if (buf == NULL) break;
    unsigned char *p = ll_cap_modules_put_head(buf, NMOD);
    for (size_t i = 0; i < NMOD; i++) p = ll_cap_modules_put(p, &mods_in[i]);
    assert_ptr_equal(p, buf + len);
    break;
  }
  case S_TIMELINE:
    len = ll_cap_timeline_size(timeline_in.npoint);
    if (buf != NULL) ll_cap_encode_timeline(buf, &timeline_in);
    break;
  case S_HISTOGRAM:
    len = LL_CAP_HISTOGRAM_LEN;
    if (buf != NULL) ll_cap_encode_histogram(buf, &histogram_in);
    break;
  case S_PROCESS:
    len = ll_cap_process_size(&process_in);
    if (buf != NULL) ll_cap_encode_process(buf, &process_in);
    break;
  case S_JEMALLOC:
    len = LL_CAP_JEMALLOC_LEN;
    if (buf != NULL) ll_cap_encode_jemalloc(buf, &jemalloc_in);
    break;
  case S_LINES:
    len = ll_cap_lines_size(&lines_in);
    if (buf != NULL) ll_cap_encode_lines(buf, &lines_in, T0);
    break;
  case S_BUDGET:
    len = LL_CAP_BUDGET_LEN;
    if (buf != NULL) ll_cap_encode_budget(buf, &budget_in);
    break;
  default: {
    len = ll_cap_reach_size(&reach_in);
    if (buf == NULL) break;
    unsigned char *p = ll_cap_reach_put_head(buf, &reach_in);
    for (int t = 0; t < 2; t++)
      p = ll_cap_reach_put_trace(p, reach_trace_in[t][0], reach_trace_in[t][1]);
    p = ll_cap_reach_put_edge(p, &edges_in[0]);
    for (int r = 0; r < 2; r++) p = ll_cap_reach_put_root(p, &roots_in[r]);
    assert_ptr_equal(p, buf + len);
    break;
  }
  }
  return len;
}

/* Section `which` (malloc'd, *len bytes), checked to write every byte of its length (padding
 * too: two buffers filled differently come out the same) and nothing after it. */
static unsigned char *written(int which, size_t *len) {
  size_t n = encode(which, NULL);
  unsigned char *a = malloc(n + 16), *b = malloc(n + 16);
  assert_true(a != NULL && b != NULL);
  memset(a, 0x00, n + 16);
  memset(b, 0xff, n + 16);
  encode(which, a);
  encode(which, b);
  if (memcmp(a, b, n) != 0) fail_msg("section %#x leaves bytes unwritten", sec_type[which]);
  for (size_t i = n; i < n + 16; i++)
    if (a[i] != 0x00 || b[i] != 0xff)
      fail_msg("section %#x writes past its %zu bytes", sec_type[which], n);
  free(b);
  *len = n;
  return a;
}

/* ---- read back ------------------------------------------------------------------------------ */

static void check_modules(const ll_capture_t *c) {
  const ll_cap_module_t *m;
  size_t n;
  assert_int_equal(ll_capture_modules(c, &m, &n), 0);
  assert_int_equal(n, NMOD);
  for (size_t i = 0; i < NMOD; i++) {
    const ll_cap_module_t *w = &mods_in[i];
    assert_true(m[i].bias == w->bias && m[i].lo == w->lo && m[i].hi == w->hi);
    assert_int_equal(m[i].flags, w->flags);
    assert_string_equal(m[i].path, w->path);
    assert_int_equal(m[i].build_id_len, w->build_id_len);
    if (w->build_id_len > 0) assert_memory_equal(m[i].build_id, w->build_id, w->build_id_len);
  }
}

static void check_process(const ll_capture_t *c) {
  const ll_cap_process_t *p;
  const ll_cap_process_t *w = &process_in;
  assert_int_equal(ll_capture_process(c, &p), 0);
  assert_true(p->pid == w->pid && p->ppid == w->ppid && p->how == w->how && p->flags == w->flags);
  assert_true(p->frames == w->frames && p->unwind == w->unwind && p->signal == w->signal);
  assert_int_equal(p->nstage, w->nstage);
  for (size_t i = 0; i < w->nstage; i++) {
    const ll_cap_stage_t *s = &p->stages[i], *ws = &w->stages[i];
    assert_true(s->pid == ws->pid && s->peak == ws->peak && s->end == ws->end);
    assert_true(s->total_allocations == ws->total_allocations && s->total_bytes == ws->total_bytes);
    assert_string_equal(s->program, ws->program);
  }
  assert_true(ll_capture_native(c));
}

static void check_lines(const ll_capture_t *c) {
  const ll_cap_lines_t *l;
  assert_int_equal(ll_capture_lines(c, &l), 0);
  assert_true(l->npts == lines_in.npts && l->ncols == lines_in.ncols);
  assert_true(l->peak_pt == lines_in.peak_pt && l->stride == lines_in.stride);
  for (uint32_t k = 0; k < l->ncols; k++) {
    assert_int_equal(l->cols[k].nframe, cols_in[k].nframe);
    assert_int_equal(l->cols[k].total_nframe, cols_in[k].total_nframe);
    assert_memory_equal(l->cols[k].ips, cols_in[k].ips, cols_in[k].nframe * sizeof *cols_in[k].ips);
  }
  for (uint32_t i = 0; i < l->npts; i++) /* times from the origin, never below it */
    assert_int_equal(l->t_ns[i], t_in[i] > T0 ? t_in[i] - T0 : 0);
  assert_memory_equal(l->clock, clock_in, sizeof clock_in);
  assert_memory_equal(l->total, total_in, sizeof total_in);
  assert_memory_equal(l->val, val_in, sizeof val_in);
}

/* REACH is read as the reports read it: the section beside END, by trace index. */
static void check_reach(const char *path) {
  ll__snapfile_t *f = NULL;
  const void *data;
  size_t len;
  ll_cap_reach_t r;
  ll__arena_t *a = ll__arena_new();
  assert_non_null(a);
  assert_int_equal(ll__snapfile_open(path, &f), 0);
  assert_int_equal(ll__snapfile_section(f, LL_CAP_SEC_REACH, 0, &data, &len), 0);
  assert_int_equal(ll_cap_decode_reach(data, len, 2, a, &r), 0);
  assert_true(r.ntrace == 2 && r.nedge == 1 && r.nroot == 2 && r.nthread == reach_in.nthread);
  assert_true(r.flags == reach_in.flags && r.scan_ns == reach_in.scan_ns);
  assert_int_equal(r.cpu_ns, reach_in.cpu_ns);
  assert_true(r.heap_scanned == reach_in.heap_scanned && r.root_scanned == reach_in.root_scanned);
  assert_memory_equal(r.bytes, reach_in.bytes, sizeof r.bytes);
  assert_memory_equal(r.blocks, reach_in.blocks, sizeof r.blocks);
  for (int t = 0; t < 2; t++) {
    assert_memory_equal(r.trace_bytes[t], reach_trace_in[t][0], sizeof reach_trace_in[t][0]);
    assert_memory_equal(r.trace_blocks[t], reach_trace_in[t][1], sizeof reach_trace_in[t][1]);
  }
  assert_memory_equal(&r.edges[0], &edges_in[0], sizeof edges_in[0]);
  for (int i = 0; i < 2; i++) {
    const ll_cap_reach_root_t *o = &r.roots[i], *w = &roots_in[i];
    assert_true(o->held == w->held && o->kind == w->kind && o->thread == w->thread);
    assert_true(o->addr == w->addr && o->ip == w->ip);
    assert_true(o->blocks == w->blocks && o->bytes == w->bytes);
  }
  ll__snapfile_close(f);
  ll__arena_free(a);
}

/* Every section written by the writer into one capture, then every accessor of the reader. */
static void test_round_trip(void **state) {
  (void)state;
  for (int i = 0; i < LL_CAP_HIST_BUCKETS; i++) {
    histogram_in.counts[i] = (uint64_t)i * 3 + 1;
    histogram_in.bytes[i] = i == 0 ? 0 : (uint64_t)1 << (i - 1);
  }
  ll__section_t sec[S_N];
  unsigned char *bytes[S_N];
  for (int s = 0; s < S_N; s++) {
    size_t len;
    bytes[s] = written(s, &len);
    sec[s] = (ll__section_t){sec_type[s], 0, bytes[s], len};
  }
  ll_snapshot_t *end = fx_snapshot_new(LL_AT_END, 2);
  assert_non_null(end);
  assert_non_null(fx_trace(end, "prog.c:10:main", 128, 3));
  assert_non_null(fx_trace(end, "prog.c:20:main", 56, 4));
  const ll_snapshot_t *snaps[1] = {end};
  char path[4096];
  const char *dir = getenv("LL_TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/test_capture_write_%ld.llcap", dir != NULL ? dir : "/tmp",
           (long)getpid());
  assert_int_equal(ll__snapfile_write(path, snaps, 1, sec, S_N), 0);
  ll_snapshot_free(end);
  for (int s = 0; s < S_N; s++) free(bytes[s]);

  ll_capture_t *c = NULL;
  assert_int_equal(ll_capture_open(path, &c), 0);
  check_modules(c);
  check_process(c);
  const ll_cap_timeline_t *tl;
  assert_int_equal(ll_capture_timeline(c, &tl), 0);
  assert_int_equal(tl->interval_ns, timeline_in.interval_ns);
  assert_int_equal(tl->npoint, timeline_in.npoint);
  assert_memory_equal(tl->points, points_in, sizeof points_in);
  const ll_cap_histogram_t *h;
  assert_int_equal(ll_capture_histogram(c, &h), 0);
  assert_memory_equal(h, &histogram_in, sizeof *h);
  const ll_cap_jemalloc_t *je;
  assert_int_equal(ll_capture_jemalloc(c, &je), 0);
  assert_memory_equal(je, &jemalloc_in, sizeof *je);
  check_lines(c);
  const ll_cap_budget_t *b;
  assert_int_equal(ll_capture_budget(c, &b), 0);
  assert_true(b->flags == budget_in.flags && b->limit_memory == budget_in.limit_memory &&
              b->limit_leaks == budget_in.limit_leaks);
  ll_capture_close(c);
  check_reach(path);
  unlink(path);
}

/* Nothing to list: the empty sections still read back. */
static void test_empty(void **state) {
  (void)state;
  unsigned char head[8], tl[16];
  ll_cap_modules_put_head(head, 0);
  ll_cap_encode_timeline(tl, &(ll_cap_timeline_t){1000000, NULL, 0});
  assert_int_equal(ll_cap_timeline_size(0), sizeof tl);
  ll__arena_t *a = ll__arena_new();
  assert_non_null(a);
  ll_cap_module_t *m = NULL;
  size_t n = 7;
  ll_cap_timeline_t t;
  assert_int_equal(ll_cap_decode_modules(head, sizeof head, a, &m, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(ll_cap_decode_timeline(tl, sizeof tl, a, &t), 0);
  assert_true(t.npoint == 0 && t.interval_ns == 1000000);
  ll__arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
