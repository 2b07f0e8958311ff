/* exec_static.c - keeps three blocks, then execs the program named by its first argument (a statically linked one, which the preload cannot enter). */
/*
 * usage: exec_static PROGRAM [vp]   3 blocks of 1000 bytes kept (@kept), one of 500 freed, then
 *                                   execv(PROGRAM) (execvp with "vp", PROGRAM then found on
 *                                   PATH); exits 127 when the exec fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *kept[3];

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int i = 0; i < 3; i++) kept[i] = malloc(1000); /* @kept */
  free(malloc(500));
  char *args[] = {argv[1], "one", "two", NULL};
  if (argc > 2 && strcmp(argv[2], "vp") == 0)
    execvp(argv[1], args);
  else
    execv(argv[1], args);
  perror("exec_static: exec");
  return 127;
}
