/* churn.c - the overhead benchmark: N malloc/free pairs, 16..256 bytes, over 1024 live slots. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000000;
  static void *slot[1024];
  unsigned long x = 88172645463325252ul, sum = 0;
  for (long i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: sizes and slots without libc */
    size_t k = x & 1023, size = 16 + (x >> 10) % 241;
    free(slot[k]);
    char *p = malloc(size); /* @churn_malloc */
    p[0] = (char)i;
    sum += (unsigned char)p[0];
    slot[k] = p;
  }
  for (int k = 0; k < 1024; k++) free(slot[k]);
  printf("churn %ld %lu\n", n, sum);
  return 0;
}
