/* series_times.c - memory over time with pauses: 32 MiB allocated, 0.6 s, 16 MiB more (the peak), 0.6 s, the first 32 MiB freed, 0.6 s, the rest freed; each phase announced on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK (64 * 1024)
#define NA 512 /* 32 MiB */
#define NB 256 /* 16 MiB */

static void *a[NA], *b[NB];

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Each line is flushed at once: a test that watches stdout acts between the phases. */
static void say(const char *what) {
  printf("%s\n", what);
  fflush(stdout);
}

int main(void) {
  for (int i = 0; i < NA; i++) a[i] = malloc(BLOCK);
  say("A allocated");
  pause_ms(600);
  for (int i = 0; i < NB; i++) b[i] = malloc(BLOCK);
  say("B allocated");
  pause_ms(600);
  for (int i = 0; i < NA; i++) free(a[i]);
  say("A freed");
  pause_ms(600);
  for (int i = 0; i < NB; i++) free(b[i]);
  say("B freed");
  return 0;
}
