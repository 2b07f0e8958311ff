/* test_snapfile_append.c - adding a section to an existing snapshot file: readable after, everything before unchanged, damaged files refused. */
#include "test_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "snapfile.h"
#include "snapshot_fixtures.h"

static char *tmp_file(const char *name) {
  static char path[512];
  const char *dir = getenv("LL_TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/append_%d_%s", dir != NULL ? dir : "/tmp", (int)getpid(), name);
  return path;
}

static void spit(const char *path, const unsigned char *b, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, len, f), len);
  fclose(f);
}

static void test_append_reads_back(void **state) {
  (void)state;
  const char *path = tmp_file("a.llsnap");
  ll_snapshot_t *snap = fx_random_snapshot(7, LL_AT_PEAK, 50, 4, 3);
  ll__section_t first = {0x100, 0, "modules", 7};
  assert_int_equal(ll__snapfile_write(path, (const ll_snapshot_t *const *)&snap, 1, &first, 1), 0);
  size_t before_len, after_len;
  unsigned char *before = (unsigned char *)tf_slurp(NULL, path, &before_len);

  /* Odd length: the payload is padded to 8, the file stays well-formed. */
  static const unsigned char budget[13] = {1, 0, 0, 0, 3, 0, 0, 0, 9, 8, 7, 6, 5};
  assert_int_equal(ll__snapfile_append(path, 0x107, budget, sizeof budget), 0);
  unsigned char *after = (unsigned char *)tf_slurp(NULL, path, &after_len);
  assert_int_equal(after_len, before_len + 16 + 16);
  /* Everything up to the old trailer is the same but the header's length. */
  assert_memory_equal(after, before, 16);
  assert_memory_equal(after + 24, before + 24, before_len - 16 - 24);

  ll__snapfile_t *f = NULL;
  const void *d;
  size_t n;
  assert_int_equal(ll__snapfile_open(path, &f), 0);
  assert_int_equal(ll__snapfile_section(f, 0x107, 0, &d, &n), 0);
  assert_int_equal(n, sizeof budget);
  assert_memory_equal(d, budget, sizeof budget);
  assert_int_equal(ll__snapfile_section(f, 0x100, 0, &d, &n), 0);
  assert_memory_equal(d, "modules", 7);
  ll__snapfile_close(f);
  ll_snapshot_t *got = NULL;
  assert_int_equal(ll_snapshot_load(path, LL_AT_PEAK, &got), 0);
  assert_null(fx_snapshot_diff(snap, got));
  ll_snapshot_free(got);

  /* A second one goes after the first. */
  assert_int_equal(ll__snapfile_append(path, 0x108, NULL, 0), 0);
  assert_int_equal(ll__snapfile_open(path, &f), 0);
  assert_int_equal(ll__snapfile_section(f, 0x108, 0, &d, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(ll__snapfile_section(f, 0x107, 0, &d, &n), 0);
  ll__snapfile_close(f);
  free(before);
  free(after);
  ll_snapshot_free(snap);
  unlink(path);
}

static void test_append_refuses(void **state) {
  (void)state;
  const char *path = tmp_file("b.llsnap");
  ll_snapshot_t *snap = fx_random_snapshot(8, LL_AT_END, 10, 3, 2);
  assert_int_equal(ll__snapfile_write(path, (const ll_snapshot_t *const *)&snap, 1, NULL, 0), 0);
  assert_int_equal(ll__snapfile_append(path, 4, "x", 1), LL_EINVAL); /* a core type */
  assert_int_equal(ll__snapfile_append(path, 0x107, NULL, 3), LL_EINVAL);
  assert_int_equal(ll__snapfile_append(NULL, 0x107, "x", 1), LL_EINVAL);

  /* A damaged file is reported and left as it was, never extended. */
  size_t len, len2;
  unsigned char *b = (unsigned char *)tf_slurp(NULL, path, &len);
  b[40] ^= 0x10;
  spit(path, b, len);
  assert_int_equal(ll__snapfile_append(path, 0x107, "x", 1), LL_ECHECKSUM);
  unsigned char *b2 = (unsigned char *)tf_slurp(NULL, path, &len2);
  assert_int_equal(len2, len);
  assert_memory_equal(b2, b, len);
  assert_int_equal(ll__snapfile_append(tmp_file("missing.llsnap"), 0x107, "x", 1), -ENOENT);
  free(b);
  free(b2);
  ll_snapshot_free(snap);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_reads_back),
      cmocka_unit_test(test_append_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
