/* fd_reuse.c - a program that closes every inherited descriptor, then copies a file through descriptors it opens itself, allocating from libc as it goes. */
/*
 * usage: fd_reuse IN OUT   prints "first free fd N" (the lowest descriptor free at start), then
 *                          closes descriptors 3 and up (as daemons and closefrom(3) do), opens
 *                          IN and OUT (they get 3 and 4 unless something else holds them: it
 *                          prints which), and copies IN to OUT in chunks, each one strdup'd
 *                          first (an allocation whose caller is libc: under --unwind auto the
 *                          DWARF unwinder walks it). OUT must equal IN byte for byte.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fd_reuse IN OUT\n");
    return 2;
  }
  int probe = dup(0);
  printf("first free fd %d\n", probe);
  fflush(stdout);
  for (int fd = 3; fd < 1024; fd++) close(fd);
  int in = open(argv[1], O_RDONLY), out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) {
    perror("fd_reuse: open");
    return 1;
  }
  printf("in %d out %d\n", in, out);
  char buf[64];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf - 1)) > 0) {
    buf[n] = '\0';
    char *copy = strndup(buf, (size_t)n); /* libc's strndup calls malloc */
    if (copy == NULL || write(out, buf, (size_t)n) != n) return 1;
    free(copy);
  }
  return close(out) == 0 && n == 0 ? 0 : 1;
}
