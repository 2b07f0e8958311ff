/* rlimit_as.c - caps its own address space with RLIMIT_AS (as sandboxes and test harnesses do), then allocates: 50 MiB must fit, and with "exhaust" it allocates until malloc says no. */
/*
 * usage: rlimit_as MIB [exhaust]. First prints errno as main found it (0 unless something before
 * main left it set: a recorder must not). Sets RLIMIT_AS (soft and hard) to MIB MiB, allocates @rl_big (50 MiB, kept) and @rl_small (3 x 1000 bytes, kept), then with
 * "exhaust" 1 MiB blocks (@rl_fill) until malloc returns NULL, and keeps them. Prints what it got.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void *volatile sink[4];

int main(int argc, char **argv) {
  printf("errno %d\n", errno);
  if (argc < 2) return 2;
  struct rlimit r;
  r.rlim_cur = r.rlim_max = (rlim_t)strtoull(argv[1], NULL, 10) << 20;
  if (setrlimit(RLIMIT_AS, &r) != 0) {
    perror("setrlimit");
    return 1;
  }
  sink[0] = malloc(50 << 20); /* @rl_big */
  if (sink[0] != NULL) memset(sink[0], 1, 4096);
  for (int i = 1; i < 4; i++) sink[i] = malloc(1000); /* @rl_small */
  printf("big %s\n", sink[0] != NULL ? "ok" : "NULL");
  if (argc > 2 && strcmp(argv[2], "exhaust") == 0) {
    static void *blocks[1 << 16];
    int n = 0;
    while (n < (1 << 16) && (blocks[n] = malloc(1 << 20)) != NULL) n++; /* @rl_fill */
    printf("exhausted: %s\n", n > 0 && n < (1 << 16) ? "yes" : "no");
    /* Kept: the program ends at its limit, and the capture has to be written from there. */
  }
  return 0;
}
