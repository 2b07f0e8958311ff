/* record_program.c - what recording needs found first: the program (not static, nor its #! interpreter), the preload, jemalloc. */
#include "cli.h"
#include "record.h"
#include "spawn.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LL_PRELOAD_BUILD_PATH
#define LL_PRELOAD_BUILD_PATH ""
#endif

/* Where Debian (and most distributions) keep jemalloc's shared library. */
static const char *const jemalloc_paths[] = {
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2", "/usr/local/lib/libjemalloc.so.2",
};

int ll__allocator_library(const char *verb, const char *name, const char **out) {
  if (strcmp(name, "glibc") == 0) {
    *out = NULL;
    return 0;
  }
  if (strcmp(name, "jemalloc") != 0)
    return ll__usage_error(verb, "--allocator takes glibc or jemalloc, not '%s'", name);
  for (size_t i = 0; i < sizeof jemalloc_paths / sizeof jemalloc_paths[0]; i++)
    if (access(jemalloc_paths[i], R_OK) == 0) {
      *out = jemalloc_paths[i];
      return 0;
    }
  fprintf(stderr, "leaklab: jemalloc is not installed (libjemalloc.so.2 not found); install it "
                  "with: apt-get install libjemalloc2\n");
  return LL__EXIT_RUNTIME;
}

/* 1: an ELF file without an interpreter (statically linked: no preload can load into it);
 * 0: anything else (dynamic ELF, a script, unreadable: the run will tell). */
static int is_static_elf(const char *path) {
  unsigned char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf);
  int result = 0;
  if (n < (ssize_t)sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG) != 0 ||
      buf[EI_CLASS] != ELFCLASS64)
    goto cleanup;
  Elf64_Ehdr eh;
  memcpy(&eh, buf, sizeof eh);
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) goto cleanup;
  result = 1;
  for (int i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != sizeof ph) {
      result = 0; /* unreadable headers: let exec decide */
      break;
    }
    if (ph.p_type == PT_INTERP) {
      result = 0;
      break;
    }
  }
cleanup:
  close(fd);
  return result;
}

/* The interpreter of a "#!" script, when the program is one; 0 or -1. */
static int script_interpreter(const char *path, char *out, size_t len) {
  char buf[512];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return -1;
  buf[n] = '\0';
  char *p = buf + 2;
  while (*p == ' ' || *p == '\t') p++;
  size_t k = strcspn(p, " \t\n");
  if (k == 0 || k >= len) return -1;
  memcpy(out, p, k);
  out[k] = '\0';
  return 0;
}

/* $LEAKLAB_PRELOAD_LIB, else beside the binary (build tree), else <bindir>/../lib/leaklab
 * (installed), else where the build put it. */
static int find_preload(char *out, size_t len) {
  const char *env = getenv("LEAKLAB_PRELOAD_LIB");
  if (env != NULL && env[0] != '\0') {
    snprintf(out, len, "%s", env);
    return access(out, R_OK) == 0 ? 0 : -1;
  }
  char self[PATH_MAX];
  if (ll__self_exe(self, sizeof self) == 0) {
    char *slash = strrchr(self, '/');
    if (slash != NULL) *slash = '\0';
    static const char *const rel[] = {"/" LL_PRELOAD_NAME, "/../lib/leaklab/" LL_PRELOAD_NAME};
    for (size_t i = 0; i < 2; i++) {
      char cand[PATH_MAX + 64];
      snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
      if (access(cand, R_OK) == 0 && realpath(cand, out) != NULL) return 0;
    }
  }
  snprintf(out, len, "%s", LL_PRELOAD_BUILD_PATH);
  return out[0] != '\0' && access(out, R_OK) == 0 ? 0 : -1;
}

int ll__record_locate(const char *name, char *program, size_t plen, char *preload, size_t llen) {
  char interp[PATH_MAX];
  if (ll__find_program(name, program, plen) != 0) {
    fprintf(stderr, "leaklab: %s: program not found or not executable%s\n", name,
            strchr(name, '/') ? "" : " (not in PATH)");
    return LL__EXIT_RUNTIME;
  }
  if (is_static_elf(program) ||
      (script_interpreter(program, interp, sizeof interp) == 0 && is_static_elf(interp))) {
    fprintf(stderr, "leaklab: %s is statically linked: the preload library cannot load into it, so "
            "nothing can be recorded (link it dynamically)\n", program);
    return LL__EXIT_RUNTIME;
  }
  if (find_preload(preload, llen) != 0) {
    fprintf(stderr, "leaklab: cannot find %s (beside the leaklab binary, or set "
            "LEAKLAB_PRELOAD_LIB)\n", LL_PRELOAD_NAME);
    return LL__EXIT_RUNTIME;
  }
  return 0;
}
