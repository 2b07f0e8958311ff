/* cmocka.h - cmocka assertions on memory budgets: a block's own peak and per-line leaks, failing with pytest-memray's text. */
#ifndef LEAKLAB_CMOCKA_H
#define LEAKLAB_CMOCKA_H
/*
 * Include it after <cmocka.h> (which itself wants <stdarg.h>, <stddef.h>, <setjmp.h> and
 * <stdint.h> first). Header-only: libleaklab does not depend on cmocka; link the test with
 * leaklab and cmocka.
 *
 *   LL_ASSERT_PEAK_BELOW(24u << 20, parse_file(path));       the block's peak < 24 MiB
 *   LL_ASSERT_LEAKS_BELOW(1024, cache_put(c, k, v));          every line leaks < 1 KiB
 *
 *   ll_cmocka_limit_memory_begin("24 MiB");                   the same with SIZE text and a
 *   ...                                                       block of statements (begin and
 *   ll_cmocka_limit_memory_end();                             end in one source file)
 *   ll_cmocka_limit_leaks_begin("1 KB"); ... ll_cmocka_limit_leaks_end();
 *
 * - The peak is measured from the start of the block (see budget.h): several blocks in one test
 *   or one process each measure their own. The test passes when the peak is strictly below the
 *   limit, and when every line leaks strictly less than the leak limit.
 * - On failure the test fails through cmocka (print_error, then _fail at the line of the end or
 *   of the assertion) with pytest-memray's message:
 *     Test was limited to 1.0KiB but allocated 4.0KiB
 *     List of allocations:
 *         - 4.0 KiB allocated here:
 *             make_table at table.c:12
 * - Only allocations made by code compiled with <leaklab/hooks.h> are seen: build the code under
 *   test with `-include leaklab/hooks.h` (CMake: leaklab_trace_target(mylib)); otherwise every
 *   block measures 0 B and every limit passes.
 * - SIZE text is ll_parse_size's (the leaklab command's): "70MB", "70 MiB", "1.5GB", "512KB",
 *   "100B", binary units. A malformed SIZE fails the test naming the text.
 * - One block at a time. A begin finding a block still open drops it: in a cmocka run that is a
 *   block whose test failed (longjmp'd) before reaching its end.
 */
#ifndef CMOCKA_H_
#error "include <cmocka.h> before <leaklab/cmocka.h>"
#endif

#include <stdint.h>

#include <leaklab/budget.h>

enum { LL__CMOCKA_MEMORY = 1, LL__CMOCKA_LEAKS = 2 };

typedef struct ll__cmocka_block {
  ll_budget_t budget;
  uint64_t limit;
  int kind; /* LL__CMOCKA_*, 0 when no block is open */
} ll__cmocka_block_t;

/* The block of this source file (begin and end of a block are in one test function). */
static inline ll__cmocka_block_t *ll__cmocka_block(void) {
  static ll__cmocka_block_t block;
  return &block;
}

static inline const char *ll__cmocka_kind_name(int kind) {
  return kind == LL__CMOCKA_MEMORY ? "memory" : "leaks";
}

static inline void ll__cmocka_begin_bytes(int kind, uint64_t limit, const char *file, int line) {
  ll__cmocka_block_t *blk = ll__cmocka_block();
  /* Still open: its test failed inside it; what it measured no longer matters. */
  if (ll_budget_is_open()) ll_budget_abort();
  blk->kind = 0;
  int rc = ll_budget_begin(&blk->budget);
  if (rc != 0) {
    print_error("leaklab: cannot start a %s budget: %s\n", ll__cmocka_kind_name(kind),
                ll_strerror(rc));
    _fail(file, line);
    return;
  }
  blk->limit = limit;
  blk->kind = kind;
}

static inline void ll__cmocka_begin_text(int kind, const char *size, const char *file, int line) {
  uint64_t limit;
  if (ll_parse_size(size, &limit) != 0) {
    print_error("leaklab: bad SIZE '%s': expected a number and a unit such as 70MB, 1.5 GiB, "
                "512KB or 100B\n", size != NULL ? size : "(null)");
    _fail(file, line);
    return;
  }
  ll__cmocka_begin_bytes(kind, limit, file, line);
}

static inline void ll__cmocka_end(int kind, const char *file, int line) {
  ll__cmocka_block_t *blk = ll__cmocka_block();
  char msg[LL_LIMIT_MSG_SIZE];

  if (blk->kind != kind) {
    print_error("leaklab: ll_cmocka_limit_%s_end() without ll_cmocka_limit_%s_begin() in "
                "this file\n", ll__cmocka_kind_name(kind), ll__cmocka_kind_name(kind));
    _fail(file, line);
    return;
  }
  blk->kind = 0;
  int rc = ll_budget_end(&blk->budget);
  if (rc == 0)
    rc = kind == LL__CMOCKA_MEMORY ? ll_budget_limit_memory(&blk->budget, blk->limit, msg, sizeof msg)
                                   : ll_budget_limit_leaks(&blk->budget, blk->limit, msg, sizeof msg);
  ll_budget_free(&blk->budget); /* before failing: _fail does not come back */
  if (rc < 0) {
    print_error("leaklab: cannot measure the %s budget: %s\n", ll__cmocka_kind_name(kind),
                ll_strerror(rc));
    _fail(file, line);
  } else if (rc == LL_LIMIT_EXCEEDED) {
    print_error("%s", msg);
    _fail(file, line);
  }
}

#define ll_cmocka_limit_memory_begin(size) \
  ll__cmocka_begin_text(LL__CMOCKA_MEMORY, (size), __FILE__, __LINE__)
#define ll_cmocka_limit_memory_end() ll__cmocka_end(LL__CMOCKA_MEMORY, __FILE__, __LINE__)
#define ll_cmocka_limit_leaks_begin(size) \
  ll__cmocka_begin_text(LL__CMOCKA_LEAKS, (size), __FILE__, __LINE__)
#define ll_cmocka_limit_leaks_end() ll__cmocka_end(LL__CMOCKA_LEAKS, __FILE__, __LINE__)

/* The statement(s) after the limit run inside the block; commas in them are fine. */
#define LL_ASSERT_PEAK_BELOW(limit_bytes, ...)                                              \
  do {                                                                                      \
    ll__cmocka_begin_bytes(LL__CMOCKA_MEMORY, (uint64_t)(limit_bytes), __FILE__, __LINE__); \
    __VA_ARGS__;                                                                            \
    ll__cmocka_end(LL__CMOCKA_MEMORY, __FILE__, __LINE__);                                  \
  } while (0)
#define LL_ASSERT_LEAKS_BELOW(limit_bytes, ...)                                            \
  do {                                                                                     \
    ll__cmocka_begin_bytes(LL__CMOCKA_LEAKS, (uint64_t)(limit_bytes), __FILE__, __LINE__); \
    __VA_ARGS__;                                                                           \
    ll__cmocka_end(LL__CMOCKA_LEAKS, __FILE__, __LINE__);                                  \
  } while (0)

#endif /* LEAKLAB_CMOCKA_H */
