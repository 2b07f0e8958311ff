/* test_files.h - what unit tests that read files share: cmocka's includes and reading a whole file into memory. */
#ifndef LEAKLAB_TEST_FILES_H
#define LEAKLAB_TEST_FILES_H
/*
 * Contract: include it instead of cmocka's preamble. tf_slurp reads dir/name (name alone when
 * dir is NULL) into a malloc'd buffer with a NUL after its len bytes (text readers parse it in
 * place); a file that cannot be read fails the test. The caller frees the buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

static inline char *tf_slurp(const char *dir, const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s%s%s", dir != NULL ? dir : "", dir != NULL ? "/" : "", name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s", path);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

#endif
