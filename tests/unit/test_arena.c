/* test_arena.c - bump arenas: zeroed 16-byte aligned memory, and chunks that grow with the arena where its memory says so (a big arena is a few dozen chunks), fixed where it does not, and back to what is needed when a grown chunk cannot be had. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "arena.h"

static size_t g_maps, g_unmaps;

static void *counted_map(size_t size) {
  g_maps++;
  return ll__mmap_alloc(size);
}
static void counted_unmap(void *p, size_t size) {
  g_unmaps++;
  ll__mmap_free(p, size);
}

/* No chunk over 1 MiB to be had (an address-space cap): a growing arena falls back to what
 * each allocation needs. */
static void *capped_map(size_t size) { return size > ((size_t)1 << 20) ? NULL : counted_map(size); }

/* 64 MiB in 1000-byte pieces: every piece zeroed and aligned; the chunks mapped (and each
 * unmapped once at the end). */
static size_t chunks_for_64mib(const ll__arena_mem_t *mem) {
  g_maps = g_unmaps = 0;
  ll__arena_t *a = ll__arena_new_with(mem);
  assert_non_null(a);
  for (size_t got = 0; got < ((size_t)64 << 20); got += 1000) {
    unsigned char *p = ll__arena_alloc(a, 1000);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_int_equal(p[0] | p[999], 0);
    p[0] = p[999] = 1;
  }
  assert_true(ll__arena_bytes(a) < ((size_t)64 << 20) * 2 + ((size_t)1 << 20));
  size_t maps = g_maps;
  ll__arena_free(a);
  assert_int_equal(g_unmaps, maps);
  return maps;
}

static void growing_chunks_are_few(void **state) {
  (void)state;
  static const ll__arena_mem_t grow = {counted_map, counted_unmap, (size_t)32 << 20};
  assert_true(chunks_for_64mib(&grow) < 20); /* 64 KiB, doubling to 32 MiB */
}

static void fixed_chunks_stay_64k(void **state) {
  (void)state;
  static const ll__arena_mem_t fixed = {counted_map, counted_unmap, 0};
  assert_true(chunks_for_64mib(&fixed) >= 1000); /* 64 KiB each: what the tracker's region wants */
}

static void growth_yields_to_a_cap(void **state) {
  (void)state;
  static const ll__arena_mem_t capped = {capped_map, counted_unmap, (size_t)32 << 20};
  assert_true(chunks_for_64mib(&capped) >= 64); /* every piece still served */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(growing_chunks_are_few),
      cmocka_unit_test(fixed_chunks_stay_64k),
      cmocka_unit_test(growth_yields_to_a_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
