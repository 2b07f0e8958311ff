/* test_hooks.c - the compile-time hooks: exact file:line attribution and libc-identical results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include <leaklab/hooks.h>
#include <leaklab/report.h>

#include "engine.h"

static int setup(void **state) {
  (void)state;
  return ll_start(1);
}

static int teardown(void **state) {
  (void)state;
  ll_stop();
  return 0;
}

static size_t current(void) {
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  return cur;
}

/* The tracemalloc line of the single statistic at `line` of this file, or "" if none. */
static void line_stat(unsigned line, char *buf, size_t len) {
  ll_snapshot_t *snap = NULL;
  ll_stats_t *stats = NULL;
  buf[0] = '\0';
  assert_int_equal(ll_take_snapshot(&snap), 0);
  assert_int_equal(ll_snapshot_statistics(snap, LL_GROUP_LINENO, 0, &stats), 0);
  for (size_t i = 0; i < stats->len; i++) {
    const ll_frame_t *f = &stats->items[i].traceback->frames[0];
    if (f->lineno == line && strcmp(f->filename, __FILE__) == 0) {
      ll_format_stat(buf, len, &stats->items[i], 0);
      assert_string_equal(f->function, "alloc_known_pattern");
    }
  }
  ll_stats_free(stats);
  ll_snapshot_free(snap);
}

static void *blocks[3];
static unsigned known_line;

static void alloc_known_pattern(void) {
  static const size_t sizes[3] = {41, 41, 42};
  for (int i = 0; i < 3; i++) {
    known_line = __LINE__ + 1;
    blocks[i] = malloc(sizes[i]);
  }
}

static void test_known_pattern_line(void **state) {
  (void)state;
  alloc_known_pattern();
  char got[512], want[512];
  line_stat(known_line, got, sizeof got);
  snprintf(want, sizeof want, "%s:%u: size=124 B, count=3, average=41 B", __FILE__, known_line);
  assert_string_equal(got, want);
  assert_int_equal(current(), 124);
  for (int i = 0; i < 3; i++) free(blocks[i]);
  assert_int_equal(current(), 0);
}

static void test_realloc_cases(void **state) {
  (void)state;
  char *p = realloc(NULL, 100); /* realloc(NULL, n) is malloc */
  assert_non_null(p);
  assert_int_equal(current(), 100);
  memset(p, 'x', 100);
  p = realloc(p, 4000); /* grow: probably moves */
  assert_non_null(p);
  assert_int_equal(current(), 4000);
  assert_int_equal(p[99], 'x');
  p = realloc(p, 10); /* shrink: in place */
  assert_non_null(p);
  assert_int_equal(current(), 10);
  ll_frame_t f;
  assert_int_equal(ll_get_object_traceback(p, &f, 1), 1);
  assert_int_equal(f.lineno, __LINE__ - 5); /* the block now belongs to the last realloc */
  /* A move for sure: keep another block right after p so growing in place is impossible. */
  char *fence = malloc(16);
  char *q = realloc(p, 1 << 20);
  assert_non_null(q);
  assert_int_equal(current(), (1 << 20) + 16);
  size_t peak;
  size_t cur;
  ll_get_traced_memory(&cur, &peak);
  assert_int_equal(peak, (1 << 20) + 16);
  /* realloc failure: NULL, ENOMEM, old block intact and still traced. */
  errno = 0;
  char *r = realloc(q, SIZE_MAX / 2);
  assert_null(r);
  assert_int_equal(errno, ENOMEM);
  assert_int_equal(current(), (1 << 20) + 16);
  assert_int_equal(ll_get_object_traceback(q, &f, 1), 1);
  /* realloc(p, 0) frees p in glibc and returns NULL. */
  r = realloc(q, 0);
  assert_null(r);
  assert_int_equal(current(), 16);
  free(fence);
  assert_int_equal(current(), 0);
}

/* size and count of this file's line in the allocations view (count 0: absent). */
static uint64_t allocated_at(const ll_snapshot_t *s, unsigned line, uint64_t *count) {
  for (size_t i = 0; i < s->ntraces; i++) {
    const ll_frame_t *f = &s->traces[i].traceback->frames[0];
    if (f->lineno == line && strcmp(f->filename, __FILE__) == 0) {
      assert_true(s->traces[i].usable >= s->traces[i].size);
      *count = s->traces[i].count;
      return s->traces[i].size;
    }
  }
  *count = 0;
  return 0;
}

/* Every allocation per line through the real allocator, freed or not: calloc is n * size, a
 * realloc that succeeds is one allocation of its new size (heaptrack's count), a failed realloc
 * and realloc(p, 0) none. */
static void test_allocations_per_line(void **state) {
  (void)state;
  unsigned line[8];
  line[0] = __LINE__ + 1;
  char *c = calloc(25, 4);
  line[1] = __LINE__ + 2;
  for (int i = 0; i < 3; i++) {
    char *t = malloc(40);
    free(t);
  }
  line[2] = __LINE__ + 1;
  char *p = malloc(10);
  char *fence = malloc(16); /* p cannot grow in place: the realloc below moves it */
  line[3] = __LINE__ + 1;
  p = realloc(p, 1 << 20);
  assert_non_null(p);
  line[4] = __LINE__ + 1;
  char *r = realloc(p, SIZE_MAX / 2);
  assert_null(r);
  line[5] = __LINE__ + 1;
  r = realloc(p, 0);
  assert_null(r);
  line[6] = __LINE__ + 1;
  c = realloc(c, 50);
  line[7] = __LINE__ + 1;
  c = reallocarray(c, 10, 30);
  assert_non_null(c);
  free(c);
  free(fence);
  ll_snapshot_t *s = NULL;
  assert_int_equal(ll__take_allocations_snapshot(&s), 0);
  const uint64_t want_size[8] = {100, 120, 10, 1 << 20, 0, 0, 50, 300};
  const uint64_t want_count[8] = {1, 3, 1, 1, 0, 0, 1, 1};
  for (int k = 0; k < 8; k++) {
    uint64_t n, size = allocated_at(s, line[k], &n);
    if (size != want_size[k] || n != want_count[k])
      fail_msg("line %u: %llu bytes in %llu, want %llu in %llu", line[k], (unsigned long long)size,
               (unsigned long long)n, (unsigned long long)want_size[k],
               (unsigned long long)want_count[k]);
  }
  uint64_t fence_n;
  assert_int_equal(allocated_at(s, line[2] + 1, &fence_n), 16);
  assert_int_equal(s->total_allocations, 9);
  assert_int_equal(s->total_bytes, 100 + 120 + 10 + 16 + (1 << 20) + 50 + 300);
  ll_snapshot_free(s);
  assert_int_equal(current(), 0);
}

static void test_reallocarray(void **state) {
  (void)state;
  int *a = reallocarray(NULL, 10, sizeof(int));
  assert_non_null(a);
  assert_int_equal(current(), 10 * sizeof(int));
  errno = 0;
  int *b = reallocarray(a, SIZE_MAX / 2, 4); /* n * size overflows */
  assert_null(b);
  assert_int_equal(errno, ENOMEM);
  assert_int_equal(current(), 10 * sizeof(int)); /* old block kept and traced */
  a = reallocarray(a, 1000, sizeof(int));
  assert_non_null(a);
  assert_int_equal(current(), 1000 * sizeof(int));
  free(a);
  assert_int_equal(current(), 0);
}

static void test_calloc_overflow(void **state) {
  (void)state;
  ll_counters_t before, after;
  ll_get_counters(&before);
  errno = 0;
  void *p = calloc(SIZE_MAX / 4, 8);
  assert_null(p);
  assert_int_equal(errno, ENOMEM);
  ll_get_counters(&after);
  assert_int_equal(after.total_allocations, before.total_allocations);
  assert_int_equal(current(), 0);
  unsigned char *z = calloc(7, 9);
  assert_non_null(z);
  for (int i = 0; i < 63; i++) assert_int_equal(z[i], 0);
  assert_int_equal(current(), 63);
  free(z);
}

static void test_free_null_and_errno(void **state) {
  (void)state;
  errno = 4321;
  free(NULL);
  assert_int_equal(errno, 4321);
  void *p = malloc(8);
  errno = 4321;
  free(p); /* recording a free must not touch errno */
  assert_int_equal(errno, 4321);
  assert_int_equal(current(), 0);
}

static void test_strings(void **state) {
  (void)state;
  char *a = strdup("leaklab");
  char *b = strndup("leaklab", 4);
  char *c = strndup("ab", 100);
  assert_string_equal(a, "leaklab");
  assert_string_equal(b, "leak");
  assert_string_equal(c, "ab");
  assert_int_equal(current(), 8 + 5 + 3);
  free(a);
  free(b);
  free(c);
  assert_int_equal(current(), 0);
}

static void test_aligned(void **state) {
  (void)state;
  void *p = NULL;
  assert_int_equal(posix_memalign(&p, 4096, 100), 0);
  assert_int_equal((uintptr_t)p % 4096, 0);
  void *q = aligned_alloc(64, 128);
  assert_non_null(q);
  assert_int_equal((uintptr_t)q % 64, 0);
  assert_int_equal(current(), 228);
  void *bad = (void *)0x1;
  assert_int_equal(posix_memalign(&bad, 3, 100), EINVAL); /* not a power of two */
  assert_ptr_equal(bad, (void *)0x1);                      /* untouched on failure */
  assert_int_equal(current(), 228);
  free(p);
  free(q);
  assert_int_equal(current(), 0);
}

static void test_not_tracing_records_nothing(void **state) {
  (void)state;
  ll_stop();
  void *p = malloc(50);
  assert_int_equal(ll_start(1), 0);
  assert_int_equal(current(), 0);
  free(p); /* unknown to the tracker: ignored */
  assert_int_equal(current(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_known_pattern_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_realloc_cases, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocations_per_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reallocarray, setup, teardown),
      cmocka_unit_test_setup_teardown(test_calloc_overflow, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_null_and_errno, setup, teardown),
      cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_aligned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_tracing_records_nothing, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
