/* peak_last.c - the peak made by the last allocations, then 0.8 s without any, then exit with everything live: the chart's peak belongs before the pause. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 200000 /* 64 B each: 12.2 MiB, the last ones within a step (1/256 of it) of a point */

static void *keep[N];

int main(void) {
  for (int i = 0; i < N; i++) keep[i] = malloc(64);
  printf("peaked\n");
  fflush(stdout);
  struct timespec ts = {0, 800000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  return keep[N - 1] == NULL; /* every block still live: the peak is the end */
}
