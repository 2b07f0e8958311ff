/* crash.c - allocates known blocks, then ends abnormally: abort, segv, _exit or exit, as argv[1] says. */
/* Live when it ends: @crash_a 4000 + @crash_b 3 x 100 = 4300 bytes. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile char *sink[4];

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "abort";
  sink[0] = malloc(4000); /* @crash_a */
  for (int i = 1; i < 4; i++) sink[i] = malloc(100); /* @crash_b */
  if (strcmp(how, "abort") == 0) abort();
  if (strcmp(how, "segv") == 0) {
    volatile int *bad = (volatile int *)(uintptr_t)16;
    *bad = 1;
  }
  if (strcmp(how, "_exit") == 0) _exit(7);
  if (strcmp(how, "term") == 0) raise(SIGTERM);
  return 5;
}
