/* static_env.c - a statically linked program (built with -static): prints its arguments and any leaklab or LD_PRELOAD variable it was given, then exits 0. */
#include <stdio.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  (void)argv;
  int seen = 0;
  for (char **e = environ; *e != NULL; e++) {
    if (strncmp(*e, "LEAKLAB_", 8) == 0 || strncmp(*e, "LD_PRELOAD=", 11) == 0) {
      printf("static_env sees %s\n", *e);
      seen = 1;
    }
  }
  printf("static_env: %d argument(s)%s\n", argc - 1, seen ? "" : ", no leaklab variable");
  return 0;
}
