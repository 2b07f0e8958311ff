/* proc_cmdline.h - the program's command line from /proc/self/cmdline, for both hook libraries (macros and preload). */
#ifndef LEAKLAB_PROC_CMDLINE_H
#define LEAKLAB_PROC_CMDLINE_H
/*
 * Contract: header-only (macro_hooks.c and the preload are built into different libraries);
 * async-signal-safe and allocation-free (open/read, no stdio), so it runs inside a constructor
 * before anything is set up.
 */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

/* The arguments joined by spaces into buf (NUL-terminated, cut to cap - 1 bytes; "" when
 * /proc cannot be read), so reports can name the program; its length. */
static inline size_t ll__read_cmdline(char *buf, size_t cap) {
  size_t n = 0;
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got;
    while (n < cap - 1 && (got = read(fd, buf + n, cap - 1 - n)) > 0) n += (size_t)got;
    close(fd);
  }
  while (n > 0 && buf[n - 1] == '\0') n--; /* the last argument's terminator, empty arguments */
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  buf[n] = '\0';
  return n;
}

#endif
