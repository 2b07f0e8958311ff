/* test_intern.c - unit tests of interning: strings and locations by content, tracebacks by frames and depth, growth, no memory, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "intern.h"
#include "tracker_mem.h"

static ll__intern_t in;

static int teardown(void **state) {
  (void)state;
  ll__tmem_fail = 0;
  ll__intern_reset(&in);
  ll__tmem_arena_reset();
  return 0;
}

static const ll__loc_t *loc_of(uint64_t key) {
  assert_true((key & LL__KEY_SYM) != 0);
  assert_true((key & ~LL__KEY_SYM) < in.nloc);
  return &in.locs[key & ~LL__KEY_SYM];
}

/* One location per (file, function, line) by content, whatever the pointers. */
static void test_sites_by_content(void **state) {
  (void)state;
  char file2[] = "alpha.c", func2[] = "f";
  uint64_t a, b, c, d, e, u;
  assert_int_equal(ll__intern_site(&in, "alpha.c", "f", 10, &a), 0);
  assert_int_equal(ll__intern_site(&in, "alpha.c", "f", 10, &b), 0); /* the site cache */
  assert_int_equal(ll__intern_site(&in, file2, func2, 10, &c), 0);   /* other pointers */
  assert_int_equal(ll__intern_site(&in, "alpha.c", "f", 11, &d), 0);
  assert_int_equal(ll__intern_site(&in, "alpha.c", "g", 10, &e), 0);
  assert_int_equal(ll__intern_site(&in, NULL, NULL, 0, &u), 0);
  assert_int_equal(a, b);
  assert_int_equal(a, c);
  assert_int_not_equal(a, d);
  assert_int_not_equal(a, e);
  assert_int_equal(in.nloc, 4); /* ids are dense */
  assert_int_equal(a & ~LL__KEY_SYM, 0);
  assert_int_equal(u & ~LL__KEY_SYM, 3);
  const ll__loc_t *la = loc_of(a), *le = loc_of(e), *lu = loc_of(u);
  assert_string_equal(la->file->s, "alpha.c");
  assert_string_equal(la->func->s, "f");
  assert_int_equal(la->line, 10);
  assert_ptr_equal(la->file, le->file); /* strings interned once */
  assert_int_equal(la->file->len, 7);
  assert_string_equal(lu->file->s, "<unknown>");
  assert_string_equal(lu->func->s, "");
  /* "alpha.c", "f", "g", "<unknown>", "": one dense id each */
  assert_int_equal(in.str_count, 5);
  assert_true(la->file->id < 5 && la->func->id < 5 && le->func->id < 5);
  assert_int_not_equal(la->func->id, le->func->id);
  /* The stored strings are copies: the caller's buffers may change. */
  memcpy(file2, "omega.c", 8);
  assert_string_equal(loc_of(c)->file->s, "alpha.c");
}

/* A traceback is its keys in order plus its depth before truncation; keys are copied. */
static void test_tracebacks(void **state) {
  (void)state;
  uint64_t k[4] = {0x401000, 0x402000, LL__KEY_SYM | 1, 0x404000};
  uint32_t id[8];
  assert_int_equal(ll__intern_tb(&in, k, 3, 3, &id[0]), 0);
  assert_int_equal(ll__intern_tb(&in, k, 3, 3, &id[1]), 0);
  assert_int_equal(ll__intern_tb(&in, k, 3, 9, &id[2]), 0); /* deeper stack, same kept frames */
  assert_int_equal(ll__intern_tb(&in, k, 2, 3, &id[3]), 0);
  uint64_t r[3] = {k[1], k[0], k[2]};
  assert_int_equal(ll__intern_tb(&in, r, 3, 3, &id[4]), 0); /* order matters */
  assert_int_equal(ll__intern_tb(&in, k, 0, 0, &id[5]), 0); /* no frames at all */
  assert_int_equal(id[0], 0);
  assert_int_equal(id[1], 0);
  assert_int_equal(id[2], 1);
  assert_int_equal(id[3], 2);
  assert_int_equal(id[4], 3);
  assert_int_equal(id[5], 4);
  assert_int_equal(in.ntb, 5);
  const ll__tb_t *t = &in.tbs[id[2]];
  assert_int_equal(t->nframe, 3);
  assert_int_equal(t->total_nframe, 9);
  assert_ptr_not_equal(t->keys, k);
  k[0] = 0xdead; /* the caller's array changes; the interned one does not */
  assert_int_equal(in.tbs[0].keys[0], 0x401000);
  assert_int_equal(ll__intern_tb(&in, k, 3, 3, &id[6]), 0);
  assert_int_equal(id[6], 5);
  /* New tracebacks start with every counter at zero. */
  const ll__tb_t *z = &in.tbs[id[6]];
  assert_int_equal(z->cur_size + z->cur_usable + z->cur_count, 0);
  assert_int_equal(z->pk_size + z->pk_usable + z->pk_count + z->pk_gen, 0);
  assert_int_equal(z->tmp_size + z->tmp_usable + z->tmp_count, 0);
}

/* Far past the first page of every table: ids stay dense and stable, lookups exact. */
static void test_growth(void **state) {
  (void)state;
  enum { NSITE = 3000, NTB = 40000 };
  static uint64_t site_key[NSITE];
  char name[32];
  for (int i = 0; i < NSITE; i++) {
    snprintf(name, sizeof name, "file%d.c", i % 700);
    assert_int_equal(ll__intern_site(&in, name, "fn", (unsigned)i, &site_key[i]), 0);
    assert_int_equal(site_key[i] & ~LL__KEY_SYM, (uint64_t)i);
  }
  assert_int_equal(in.str_count, 701);
  for (uint32_t i = 0; i < NTB; i++) {
    uint64_t keys[3] = {site_key[i % NSITE], site_key[(i / NSITE) % NSITE], 0x400000 + i};
    uint32_t id;
    assert_int_equal(ll__intern_tb(&in, keys, 3, 3 + i % 2, &id), 0);
    assert_int_equal(id, i);
  }
  for (uint32_t i = 0; i < NTB; i += 7) {
    uint64_t keys[3] = {site_key[i % NSITE], site_key[(i / NSITE) % NSITE], 0x400000 + i};
    uint32_t id;
    assert_int_equal(ll__intern_tb(&in, keys, 3, 3 + i % 2, &id), 0);
    assert_int_equal(id, i);
  }
  for (int i = 0; i < NSITE; i += 13) {
    snprintf(name, sizeof name, "file%d.c", i % 700);
    uint64_t key;
    assert_int_equal(ll__intern_site(&in, name, "fn", (unsigned)i, &key), 0);
    assert_int_equal(key, site_key[i]);
  }
  assert_int_equal(in.ntb, NTB);
  assert_int_equal(in.nloc, NSITE);
}

/* No memory: LL_ENOMEM, nothing half-made, and everything works again afterwards. */
static void test_no_memory(void **state) {
  (void)state;
  uint64_t a, b, keys[2] = {0x401000, 0x402000};
  uint32_t id;
  assert_int_equal(ll__intern_site(&in, "a.c", "f", 1, &a), 0);
  assert_int_equal(ll__intern_tb(&in, keys, 2, 2, &id), 0);
  ll__tmem_fail = 1;
  assert_int_equal(ll__intern_site(&in, "b.c", "g", 2, &b), LL_ENOMEM);
  assert_int_equal(ll__intern_tb(&in, keys, 1, 1, &id), LL_ENOMEM);
  /* What is already there needs no memory. */
  assert_int_equal(ll__intern_site(&in, "a.c", "f", 1, &b), 0);
  assert_int_equal(b, a);
  assert_int_equal(ll__intern_tb(&in, keys, 2, 2, &id), 0);
  assert_int_equal(id, 0);
  assert_int_equal(in.nloc, 1);
  assert_int_equal(in.ntb, 1);
  ll__tmem_fail = 0;
  assert_int_equal(ll__intern_site(&in, "b.c", "g", 2, &b), 0);
  assert_int_equal(b & ~LL__KEY_SYM, 1);
  assert_string_equal(loc_of(b)->file->s, "b.c");
  assert_int_equal(ll__intern_tb(&in, keys, 1, 1, &id), 0);
  assert_int_equal(id, 1);
}

/* Reset gives every byte back and starts ids from 0 again. */
static void test_reset(void **state) {
  (void)state;
  size_t base = ll__tmem_bytes();
  uint64_t key, keys[1] = {0x401000};
  uint32_t id;
  assert_int_equal(ll__intern_site(&in, "a.c", "f", 1, &key), 0);
  assert_int_equal(ll__intern_tb(&in, &key, 1, 1, &id), 0);
  assert_int_equal(ll__intern_tb(&in, keys, 1, 1, &id), 0);
  assert_int_equal(id, 1);
  assert_true(ll__tmem_bytes() > base);
  ll__intern_reset(&in);
  ll__tmem_arena_reset();
  assert_int_equal(ll__tmem_bytes(), base);
  assert_int_equal(in.ntb + in.nloc + in.str_count, 0);
  assert_int_equal(ll__intern_tb(&in, keys, 1, 1, &id), 0);
  assert_int_equal(id, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_sites_by_content, teardown),
      cmocka_unit_test_teardown(test_tracebacks, teardown),
      cmocka_unit_test_teardown(test_growth, teardown),
      cmocka_unit_test_teardown(test_no_memory, teardown),
      cmocka_unit_test_teardown(test_reset, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
