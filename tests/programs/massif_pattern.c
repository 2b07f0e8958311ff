/* massif_pattern.c - a known allocation pattern whose peak (216700 B) massif and leaklab must agree on. */
#include <stdlib.h>
#include <string.h>

/*
 * Live at the peak, requested bytes:
 *   make_table     8 blocks of 1000 + 24*i    8672
 *   grow_buffer    realloc 100 -> 5000        5000
 *   main calloc    10 x 300                   3000
 *   main strdup    28 (through libc)            28
 *   big_block      200000                   200000
 *                                    total  216700
 * At exit: 4 table blocks (1096 + 1120 + 1144 + 1168 = 4528) and the string (28): 4556 B.
 * No stdio: its buffers would add allocations that depend on where stdout goes.
 */
#define NTABLE 8

static char *table[NTABLE];

__attribute__((noinline)) static void make_table(void) {
  for (int i = 0; i < NTABLE; i++) {
    table[i] = malloc(1000 + 24 * (size_t)i);
    if (table[i] != NULL) memset(table[i], i, 1000 + 24 * (size_t)i);
  }
}

__attribute__((noinline)) static char *grow_buffer(void) {
  char *b = malloc(100);
  if (b == NULL) return NULL;
  memset(b, 'a', 100);
  char *g = realloc(b, 5000);
  if (g == NULL) {
    free(b);
    return NULL;
  }
  memset(g, 'b', 5000);
  return g;
}

__attribute__((noinline)) static char *big_block(void) {
  char *p = malloc(200000);
  if (p != NULL) memset(p, 'c', 200000);
  return p;
}

int main(void) {
  make_table();
  char *buf = grow_buffer();
  char *zeroes = calloc(10, 300);
  char *name = strdup("massif pattern known string");
  char *big = big_block();
  int ok = buf != NULL && zeroes != NULL && name != NULL && big != NULL;

  /* Touch the memory so nothing is optimised away, then go down from the peak. */
  volatile char sink = (char)(big[199999] + zeroes[2999] + buf[4999] + name[0]);
  (void)sink;
  free(big);
  free(zeroes);
  free(buf);
  for (int i = 0; i < NTABLE / 2; i++) free(table[i]);
  return ok ? 0 : 1;
}
