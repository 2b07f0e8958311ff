/* test_symbolize_reuse.c - a symboliser freed is handed back for the same module map (no second opening of its modules), never for another map or while in use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "symbolize.h"

static char g_exe[4096];

static ll_cap_module_t module(const char *path, uint64_t bias) {
  return (ll_cap_module_t){bias, bias, bias + 0x100000, 0, path, NULL, 0};
}

static void reused_for_the_same_map_only(void **state) {
  (void)state;
  ssize_t n = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
  assert_true(n > 0);
  g_exe[n] = '\0';
  ll_cap_module_t a = module(g_exe, 0x400000), b = module("/nonexistent/lib.so", 0x400000);
  ll_symbolizer_t *s1, *s2, *s3;
  uint64_t opens = ll__symbolizer_opens();

  /* Freed, then asked for again with an equal map (another copy of it): the same one. */
  assert_int_equal(ll_symbolizer_new(&a, 1, &s1), 0);
  ll_symbolizer_free(s1);
  ll_cap_module_t a2 = module(g_exe, 0x400000);
  assert_int_equal(ll_symbolizer_new(&a2, 1, &s2), 0);
  assert_ptr_equal(s1, s2);
  assert_int_equal(ll__symbolizer_opens(), opens + 1);
  size_t nmod;
  const ll_cap_module_t *map = ll__symbolizer_map(s2, &nmod);
  assert_int_equal(nmod, 1);
  assert_string_equal(map[0].path, g_exe);
  assert_ptr_not_equal(map[0].path, a.path); /* its own copy */

  /* In use: a second one for the same map is opened anew. */
  assert_int_equal(ll_symbolizer_new(&a, 1, &s3), 0);
  assert_ptr_not_equal(s3, s2);
  assert_int_equal(ll__symbolizer_opens(), opens + 2);
  ll_symbolizer_free(s3);
  ll_symbolizer_free(s2); /* the one kept now */

  /* Another map (path, or bias): opened anew. */
  assert_int_equal(ll_symbolizer_new(&b, 1, &s1), 0);
  assert_int_equal(ll__symbolizer_opens(), opens + 3);
  ll_symbolizer_free(s1);
  ll_cap_module_t moved = module(g_exe, 0x500000);
  assert_int_equal(ll_symbolizer_new(&moved, 1, &s1), 0);
  assert_int_equal(ll__symbolizer_opens(), opens + 4);
  ll_symbolizer_free(s1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reused_for_the_same_map_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
