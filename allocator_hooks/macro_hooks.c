/* macro_hooks.c - the tracked allocation functions behind <leaklab/hooks.h> (exact file:line). */
/* This file must not include hooks.h's macros: it calls the real functions. */
#define LL_HOOKS_NO_MACROS
#include <leaklab/hooks.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_cmdline.h"

/* Every hook has one shape: call the real function, then record (or, for frees, record first).
 * errno is whatever the real function left: recording never touches it. */

static void record(void *p, size_t size, const char *file, unsigned line, const char *func) {
  if (p == NULL || !ll_is_tracing()) return;
  ll_site_t site = {file, func, line};
  int saved = errno;
  ll_track_alloc(p, size, malloc_usable_size(p), &site, 1);
  errno = saved;
}

void *ll_malloc_at(size_t size, const char *file, unsigned line, const char *func) {
  void *p = malloc(size);
  record(p, size, file, line, func);
  return p;
}

void *ll_calloc_at(size_t n, size_t size, const char *file, unsigned line, const char *func) {
  void *p = calloc(n, size); /* calloc itself rejects n * size overflow with NULL, ENOMEM */
  if (p != NULL) record(p, n * size, file, line, func);
  return p;
}

static void *realloc_common(void *ptr, size_t size, int overflow, size_t n, size_t elem,
                            const char *file, unsigned line, const char *func) {
  if (!ll_is_tracing()) return overflow ? reallocarray(ptr, n, elem) : realloc(ptr, size);
  ll_realloc_token_t tok;
  int saved = errno;
  ll_track_realloc_begin(ptr, &tok);
  errno = saved;
  void *q = overflow ? reallocarray(ptr, n, elem) : realloc(ptr, size);
  saved = errno;
  ll_site_t site = {file, func, line};
  /* Failure (NULL with size > 0) leaves ptr valid: the end call restores its record. */
  ll_track_realloc_end(&tok, q, size, q != NULL ? malloc_usable_size(q) : 0, &site, 1);
  errno = saved;
  return q;
}

void *ll_realloc_at(void *ptr, size_t size, const char *file, unsigned line, const char *func) {
  return realloc_common(ptr, size, 0, 0, 0, file, line, func);
}

void *ll_reallocarray_at(void *ptr, size_t n, size_t size, const char *file, unsigned line,
                         const char *func) {
  size_t total;
  /* An overflowing product is the real reallocarray's ENOMEM; size 1 marks "failed, keep ptr". */
  if (__builtin_mul_overflow(n, size, &total)) return realloc_common(ptr, 1, 1, n, size, file, line, func);
  return realloc_common(ptr, total, 1, n, size, file, line, func);
}

void ll_free_at(void *ptr, const char *file, unsigned line, const char *func) {
  (void)file, (void)line, (void)func;
  if (ptr != NULL) {
    int saved = errno;
    ll_track_free(ptr); /* before the real free: the address may be reused at once */
    errno = saved;
  }
  free(ptr);
}

char *ll_strdup_at(const char *s, const char *file, unsigned line, const char *func) {
  char *d = strdup(s);
  if (d != NULL) record(d, strlen(d) + 1, file, line, func);
  return d;
}

char *ll_strndup_at(const char *s, size_t n, const char *file, unsigned line, const char *func) {
  char *d = strndup(s, n);
  if (d != NULL) record(d, strlen(d) + 1, file, line, func);
  return d;
}

int ll_posix_memalign_at(void **memptr, size_t alignment, size_t size, const char *file,
                         unsigned line, const char *func) {
  int rc = posix_memalign(memptr, alignment, size);
  if (rc == 0) record(*memptr, size, file, line, func);
  return rc;
}

void *ll_aligned_alloc_at(size_t alignment, size_t size, const char *file, unsigned line,
                          const char *func) {
  void *p = aligned_alloc(alignment, size);
  record(p, size, file, line, func);
  return p;
}

/* ---- LEAKLAB_OUTPUT: trace a hooked program with no code change ------------------------------ */

static char output_path[4096];

/* The command line, so reports can name the program. */
static void set_program_from_proc(void) {
  char buf[1024];
  if (ll__read_cmdline(buf, sizeof buf) > 0) ll_set_program(buf);
}

static void dump_at_exit(void) {
  ll_snapshot_t *end = NULL, *peak = NULL;
  int rc = ll_take_snapshot(&end);
  if (rc == 0) rc = ll_take_peak_snapshot(&peak);
  if (rc == 0) {
    end->at = LL_AT_END;
    const ll_snapshot_t *snaps[2] = {peak, end};
    rc = ll_snapshot_dump(snaps, 2, output_path);
  }
  /* The program's own exit status is not ours to change: say what failed and go on. */
  if (rc < 0) fprintf(stderr, "leaklab: cannot write %s: %s\n", output_path, ll_strerror(rc));
  ll_snapshot_free(peak);
  ll_snapshot_free(end);
}

__attribute__((constructor)) static void start_from_environment(void) {
  const char *path = getenv("LEAKLAB_OUTPUT");
  if (path == NULL || path[0] == '\0') return;
  if (strlen(path) >= sizeof output_path) {
    fprintf(stderr, "leaklab: LEAKLAB_OUTPUT is longer than %zu bytes; not tracing\n",
            sizeof output_path - 1);
    return;
  }
  strcpy(output_path, path);
  set_program_from_proc();
  if (ll_start(1) == 0) atexit(dump_at_exit);
}
