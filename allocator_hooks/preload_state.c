/* preload_state.c - the preload's bottom module: process state, recursion guard, real allocator table, own path. */
#include "preload_state.h"

#include "capture_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread int ll__pl_guard __attribute__((tls_model("initial-exec")));
volatile int ll__pl_state;
int ll__pl_run_active;
int ll__pl_follow;
long ll__pl_pid;
int ll__pl_helper;
ll__pl_real_t ll__pl_real;

/* Set while this thread runs dlsym for the real functions (dlsym may allocate). */
static __thread int t_resolving __attribute__((tls_model("initial-exec")));

static char g_self[LL__PL_SELF_MAX];

void ll__pl_say(const char *msg) {
  ssize_t w = write(2, msg, strlen(msg));
  (void)w;
}

static char g_said_base[4200]; /* the run's capture path: markers CAPTURE.said.ID beside it */

void ll__pl_say_once_base(const char *capture) {
  snprintf(g_said_base, sizeof g_said_base, "%s", capture != NULL ? capture : "");
}

void ll__pl_say_once(unsigned id, const char *msg) {
  char path[sizeof g_said_base + 32];
  int saved = errno;
  if (g_said_base[0] != '\0' &&
      snprintf(path, sizeof path, "%s" LL_SAY_SUFFIX "%u", g_said_base, id) < (int)sizeof path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
      errno = saved;
      return; /* said already, by this process or another of the run */
    }
    if (fd >= 0) close(fd);
  }
  ll__pl_say(msg);
  errno = saved;
}

int ll__pl_resolving(void) { return t_resolving; }

void ll__pl_resolve(void) {
  ll__pl_real_t *r = &ll__pl_real;
  if (ll__pl_resolved()) return;
  t_resolving = 1;
  r->free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  r->calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  r->realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  r->posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  r->aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  r->memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  r->malloc_usable_size = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
  void *(*m)(size_t) = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  t_resolving = 0;
  if (m == NULL || r->free == NULL || r->calloc == NULL || r->realloc == NULL ||
      r->posix_memalign == NULL || r->memalign == NULL || r->malloc_usable_size == NULL) {
    /* No stdio: this runs before anything is set up. */
    ll__pl_say("leaklab: libleaklab-preload.so cannot find the real allocator (dlsym RTLD_NEXT)\n");
    abort();
  }
  /* malloc last: its being set tells every thread the table is complete. */
  __atomic_store_n(&r->malloc, m, __ATOMIC_RELEASE);
}

void *ll__pl_next(const char *name) {
  int g = ll__pl_guard_enter();
  void *f = dlsym(RTLD_NEXT, name);
  ll__pl_guard_leave(g);
  return f;
}

const char *ll__pl_self_path(void) {
  if (g_self[0] == '\0') {
    Dl_info info;
    if (dladdr((void *)ll__pl_self_path, &info) != 0 && info.dli_fname != NULL) {
      size_t n = strnlen(info.dli_fname, sizeof g_self - 1);
      memcpy(g_self, info.dli_fname, n);
      g_self[n] = '\0';
    }
  }
  return g_self;
}
