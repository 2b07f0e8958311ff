/* inlined_alloc.c - allocations inside always_inline helpers (built -O2): report-time symbolisation must expand inlined frames. */
/*
 * Lines tagged @NAME are found by tests/e2e/symbolize_inline.sh with grep. Live at the end:
 * @call1 -> @middle -> @inner 4001 bytes and @call2 -> @middle -> @inner 3001 bytes, both from
 * the one malloc of inner_alloc, inlined twice (through middle_alloc) into caller. No stdio:
 * its buffers would be allocations too.
 */
#include <stdlib.h>

static void *keep[2];

static inline __attribute__((always_inline)) void *inner_alloc(size_t n) {
  return malloc(n); /* @inner */
}

static inline __attribute__((always_inline)) void *middle_alloc(size_t n) {
  return inner_alloc(n + 1); /* @middle */
}

/* Out of line, so the expansion ends in a real function with a return address of its own. */
__attribute__((noinline, noclone)) static void caller(size_t n) {
  keep[0] = middle_alloc(n); /* @call1 */
  keep[1] = middle_alloc(n - 1000); /* @call2 */
}

int main(int argc, char **argv) {
  (void)argv;
  caller(4000 + (size_t)argc - 1); /* @main */
  return keep[0] != NULL && keep[1] != NULL ? 0 : 1;
}
