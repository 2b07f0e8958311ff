/* test_symbolize_moments.c - several moments symbolised at once equal each one symbolised alone, share their tracebacks, and outlive each other's free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define _GNU_SOURCE 1
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_format.h"
#include "capture_write.h"
#include "snapfile.h"
#include "symbolize.h"

/* Two places in this program's own code, and one outside every module. */
__attribute__((noinline)) static int here_one(int x) { return x * 3 + 1; }
__attribute__((noinline)) static int here_two(int x) { return x * 5 + 2; }
#define NOWHERE 0x10ull

static ll_cap_module_t g_exe;
static char g_exe_path[4096];

static int find_exe(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  (void)arg;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uint64_t a = info->dlpi_addr + ph->p_vaddr;
    if (a < lo) lo = a;
    if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
  }
  g_exe = (ll_cap_module_t){info->dlpi_addr, lo, hi, LL_CAP_MOD_MAIN, g_exe_path, NULL, 0};
  return 1; /* the first is the main program */
}

/* A capture of three moments whose traces use three stacks, the first two held by every moment
 * (so symbolising them together can share them), written to path. */
static void write_capture(const char *path) {
  ssize_t n = readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
  assert_true(n > 0);
  g_exe_path[n] = '\0';
  dl_iterate_phdr(find_exe, NULL);
  uint64_t one = (uint64_t)(uintptr_t)&here_one + 4, two = (uint64_t)(uintptr_t)&here_two + 4;
  static ll_frame_t f1[2], f2[2], f3[1];
  f1[0] = (ll_frame_t){"<unknown>", "", 0, one};
  f1[1] = (ll_frame_t){"<unknown>", "", 0, two};
  f2[0] = (ll_frame_t){"<unknown>", "", 0, NOWHERE};
  f2[1] = (ll_frame_t){"<unknown>", "", 0, two};
  f3[0] = (ll_frame_t){"<unknown>", "", 0, one};
  static ll_traceback_t t1 = {2, 2, f1}, t2 = {2, 2, f2}, t3 = {1, 1, f3};
  static ll_trace_t peak_tr[3], end_tr[2], cur_tr[2];
  peak_tr[0] = (ll_trace_t){&t1, 100, 112, 1};
  peak_tr[1] = (ll_trace_t){&t2, 40, 48, 2};
  peak_tr[2] = (ll_trace_t){&t3, 7, 8, 1};
  end_tr[0] = (ll_trace_t){&t1, 60, 64, 1};
  end_tr[1] = (ll_trace_t){&t2, 20, 24, 1};
  cur_tr[0] = (ll_trace_t){&t2, 20, 24, 1};
  cur_tr[1] = (ll_trace_t){&t1, 60, 64, 1};
  static ll_snapshot_t peak, end, cur;
  peak = (ll_snapshot_t){LL_AT_PEAK, 16, "t", 147, 147, 5, 300, 0, 0, 3, peak_tr, NULL};
  end = (ll_snapshot_t){LL_AT_END, 16, "t", 80, 147, 5, 300, 0, 0, 2, end_tr, NULL};
  cur = (ll_snapshot_t){LL_AT_CURRENT, 16, "t", 80, 147, 5, 300, 0, 0, 2, cur_tr, NULL};
  const ll_snapshot_t *snaps[3] = {&peak, &end, &cur};
  size_t len = 8 + ll_cap_module_size(strlen(g_exe.path), 0);
  unsigned char *mods = calloc(1, len);
  assert_non_null(mods);
  ll_cap_modules_put(ll_cap_modules_put_head(mods, 1), &g_exe);
  ll__section_t sec = {LL_CAP_SEC_MODULES, 0, mods, len};
  assert_int_equal(ll__snapfile_write(path, snaps, 3, &sec, 1), 0);
  free(mods);
}

static void same_snapshot(const ll_snapshot_t *a, const ll_snapshot_t *b) {
  assert_int_equal(a->at, b->at);
  assert_int_equal(a->ntraces, b->ntraces);
  assert_int_equal(a->current_bytes, b->current_bytes);
  for (size_t i = 0; i < a->ntraces; i++) {
    const ll_trace_t *x = &a->traces[i], *y = &b->traces[i];
    assert_int_equal(x->size, y->size);
    assert_int_equal(x->count, y->count);
    assert_int_equal(x->traceback->nframe, y->traceback->nframe);
    assert_int_equal(x->traceback->total_nframe, y->traceback->total_nframe);
    for (uint32_t j = 0; j < x->traceback->nframe; j++) {
      const ll_frame_t *p = &x->traceback->frames[j], *q = &y->traceback->frames[j];
      assert_string_equal(p->filename, q->filename);
      assert_string_equal(p->function, q->function);
      assert_int_equal(p->lineno, q->lineno);
      assert_int_equal(p->ip, q->ip);
    }
  }
}

static void moments_equal_alone_and_share(void **state) {
  (void)state;
  char path[4200];
  const char *dir = getenv("LL_TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/symbolize_moments.%d.llcap", dir != NULL ? dir : "/tmp", (int)getpid());
  write_capture(path);
  ll_capture_t *cap;
  assert_int_equal(ll_capture_open(path, &cap), 0);
  const ll_at_t at[3] = {LL_AT_PEAK, LL_AT_END, LL_AT_CURRENT};
  ll_snapshot_t *own[3], *native[3];
  assert_int_equal(ll_symbolize_moments(cap, at, 3, own, native), 0);

  /* Each equals that moment symbolised alone, in both attributions. */
  for (int i = 0; i < 3; i++) {
    ll_snapshot_t *alone;
    assert_int_equal(ll_symbolize_capture(cap, at[i], 0, &alone), 0);
    same_snapshot(own[i], alone);
    ll_snapshot_free(alone);
    assert_int_equal(ll_symbolize_capture(cap, at[i], 1, &alone), 0);
    same_snapshot(native[i], alone);
    ll_snapshot_free(alone);
  }
  /* The attributions differ where they should: own code only, unless no own frame is left. */
  assert_int_equal(own[0]->traces[1].traceback->nframe, 1);    /* NOWHERE dropped */
  assert_int_equal(native[0]->traces[1].traceback->nframe, 2); /* every frame */
  assert_string_equal(own[0]->traces[2].traceback->frames[0].function, "here_one");
  /* A traceback several moments hold is converted once. */
  assert_ptr_equal(own[0]->traces[0].traceback, own[1]->traces[0].traceback);
  assert_ptr_equal(own[0]->traces[0].traceback, own[2]->traces[1].traceback);
  assert_ptr_equal(native[1]->traces[1].traceback, native[2]->traces[0].traceback);
  assert_ptr_not_equal(own[0]->traces[0].traceback, native[0]->traces[0].traceback);

  /* Freed in any order, the others stay whole (their memory is shared). */
  ll_snapshot_free(own[0]);
  ll_snapshot_free(native[1]);
  ll_snapshot_free(native[0]);
  ll_snapshot_free(own[2]);
  assert_string_equal(own[1]->traces[0].traceback->frames[0].function, "here_one");
  assert_string_equal(native[2]->traces[1].traceback->frames[1].function, "here_two");
  ll_snapshot_free(own[1]);
  assert_int_equal(native[2]->traces[1].size, 60);
  ll_snapshot_free(native[2]);

  /* One attribution only; a moment the file lacks fails with nothing out. */
  assert_int_equal(ll_symbolize_moments(cap, at, 2, NULL, native), 0);
  same_snapshot(native[0], native[0]);
  ll_snapshot_free(native[0]);
  ll_snapshot_free(native[1]);
  const ll_at_t missing[2] = {LL_AT_PEAK, LL_AT_LEAKS};
  own[0] = own[1] = (ll_snapshot_t *)1;
  assert_int_equal(ll_symbolize_moments(cap, missing, 2, own, NULL), LL_ENOVIEW);
  assert_null(own[0]);
  assert_null(own[1]);
  assert_int_equal(ll_symbolize_moments(cap, at, 0, own, NULL), LL_EINVAL);
  assert_int_equal(ll_symbolize_moments(cap, at, 1, NULL, NULL), LL_EINVAL);
  ll_capture_close(cap);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(moments_equal_alone_and_share),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
