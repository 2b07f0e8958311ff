/* known_pattern.c - a known allocation pattern: exact peak, per-line sizes, leaks and temporaries. */
/*
 * Lines tagged @NAME are found by the end-to-end tests with grep, so editing this file keeps the
 * tests right. Live at the peak (the moment @big is allocated):
 *   @realloc 3000, @calloc 1000, @loop 10 x 512 = 5120, @big 100000  -> 109120 bytes
 * Leaked at the end: @realloc 3000, @loop 5 x 512 = 2560, @helper 777, @strdup 12 -> 6349 bytes
 * Temporaries (freed before any other allocation): @temp 1000 x 64 and @big.
 * No stdio: its buffers would be allocations too.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep[10];

__attribute__((noinline)) static void *helper(size_t n) {
  return malloc(n); /* @helper */
}

int main(void) {
  char *a = malloc(1000); /* @malloc */
  char *b = calloc(10, 100); /* @calloc */
  for (int i = 0; i < 10; i++) keep[i] = malloc(512); /* @loop */
  a = realloc(a, 3000); /* @realloc */
  char *big = malloc(100000); /* @big */
  memset(big, 1, 100000);
  free(big);
  for (int i = 0; i < 1000; i++) {
    char *t = malloc(64); /* @temp */
    t[0] = (char)i;
    free(t);
  }
  free(b);
  for (int i = 0; i < 5; i++) free(keep[i]);
  void *h = helper(777);
  char *s = strdup("hello world"); /* @strdup */
  if (a == NULL || h == NULL || s == NULL) return 1;
  static const char done[] = "known_pattern done\n";
  if (write(1, done, sizeof done - 1) < 0) return 1;
  return 0;
}
