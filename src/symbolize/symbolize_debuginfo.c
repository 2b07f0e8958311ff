/* symbolize_debuginfo.c - libdw's search for a module's separate debug file, refused when a file it would open is a FIFO or a device (libdw opens them blocking: it would wait forever). */
#include "symbolize_debuginfo.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * dwfl_standard_find_debuginfo opens, with a plain blocking open(2), the build-id path
 * (/usr/lib/debug/.build-id/xx/yyyy.debug) and the .gnu_debuglink (or dwz alt link) name in the
 * module's directory, its .debug/ subdirectory and under /usr/lib/debug (the module's directory,
 * then that path with its leading components dropped one by one), for the module's path and its
 * realpath. A FIFO at any of those would hang `report` forever (a device could be read without
 * end). So every path it may open is looked at first with stat(2), which does not block: when
 * one exists and is neither a regular file nor a directory, the module gets no separate debug
 * file (its own symbols still name its functions) instead of being searched. The list below is
 * a superset of libdw 0.188's, so a path it adds later is the only way past this check.
 */

#define DEBUG_ROOT "/usr/lib/debug"

/* 1 when `path` exists and is something open(2) may block on or read without end. */
static int unsafe(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int unsafe_join(const char *a, const char *b, const char *c) {
  char path[PATH_MAX * 2];
  int n = snprintf(path, sizeof path, "%s%s%s", a, b, c);
  return n > 0 && (size_t)n < sizeof path && unsafe(path);
}

/* Every place a debug file called `name` is looked for, for a module in directory `dir`. */
static int unsafe_name(const char *dir, const char *name) {
  if (name[0] == '/') return unsafe(name);
  if (unsafe_join(dir, "/", name) || unsafe_join(dir, "/.debug/", name) ||
      unsafe_join(dir, "/.dwz/", name) || unsafe_join(DEBUG_ROOT "/.dwz/", "", name))
    return 1;
  /* /usr/lib/debug/DIR/name, then DIR with its leading components dropped one at a time. */
  for (const char *sub = dir; sub != NULL && sub[0] == '/'; sub = strchr(sub + 1, '/')) {
    char path[PATH_MAX * 2];
    int n = snprintf(path, sizeof path, DEBUG_ROOT "%s/%s", sub, name);
    if (n > 0 && (size_t)n < sizeof path && unsafe(path)) return 1;
  }
  return unsafe_join(DEBUG_ROOT "/", "", name);
}

/* The module at `file` (its path or its realpath): its directory and the names libdw tries. */
static int unsafe_paths(const char *file, const char *link) {
  char dcopy[PATH_MAX], bcopy[PATH_MAX], made[PATH_MAX + 8];
  if (snprintf(dcopy, sizeof dcopy, "%s", file) >= (int)sizeof dcopy) return 1; /* cannot tell */
  snprintf(bcopy, sizeof bcopy, "%s", file);
  const char *dir = dirname(dcopy), *base = basename(bcopy);
  snprintf(made, sizeof made, "%s.debug", base);
  if (unsafe_name(dir, made) || unsafe_name(dir, base)) return 1;
  if (link == NULL) return 0;
  char lcopy[PATH_MAX];
  snprintf(lcopy, sizeof lcopy, "%s", link);
  return unsafe_name(dir, link) || unsafe_name(dir, basename(lcopy));
}

int ll__find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                       const char *file_name, const char *debuglink_file,
                       GElf_Word debuglink_crc, char **debuginfo_file_name) {
  const unsigned char *bits;
  GElf_Addr vaddr;
  int n = dwfl_module_build_id(mod, &bits, &vaddr);
  if (n > 1) {
    char path[sizeof DEBUG_ROOT + 16 + 2 * 256 + 8], *p = path;
    p += sprintf(p, DEBUG_ROOT "/.build-id/%02x/", bits[0]);
    for (int i = 1; i < n && i < 256; i++) p += sprintf(p, "%02x", bits[i]);
    strcpy(p, ".debug");
    if (unsafe(path)) return -1;
  }
  if (file_name != NULL) {
    if (unsafe_paths(file_name, debuglink_file)) return -1;
    char *canon = realpath(file_name, NULL);
    int bad = canon != NULL && unsafe_paths(canon, debuglink_file);
    free(canon);
    if (bad) return -1;
  } else if (debuglink_file != NULL && debuglink_file[0] == '/' && unsafe(debuglink_file)) {
    return -1;
  }
  return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
}
