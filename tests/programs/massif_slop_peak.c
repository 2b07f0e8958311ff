/* massif_slop_peak.c - a useful-heap peak that valgrind massif does not mark: the heap grows by 8 B inside its allocator's 16-byte rounding. */
#include <stdlib.h>

/* Under valgrind every block is rounded up to 16 bytes, and massif marks a new peak only when
 * useful + extra heap (requested bytes + that rounding) beats the previous peak's total:
 *   first:  8 B + 64 B live  = 72 B useful, 16 + 64 = 80 B total   <- massif's peak
 *   second: 16 B + 64 B live = 80 B useful, 16 + 64 = 80 B total   <- not higher: not marked
 * leaklab's peak is the highest useful heap, 80 B; massif's peak snapshot says 72 B. */
int main(void) {
  volatile char *small = malloc(8);
  volatile char *big = malloc(64);
  if (small == NULL || big == NULL) return 1;
  small[0] = big[0] = 1;
  free((void *)big); /* massif checks for a peak here, just before the free: 72 B useful */
  free((void *)small);
  small = malloc(16);
  big = malloc(64);
  if (small == NULL || big == NULL) return 1;
  small[0] = big[0] = 2;
  free((void *)big); /* 80 B useful, the same 80 B total: massif keeps the first peak */
  free((void *)small);
  return 0;
}
