/* preload_state.c - the preload's bottom module: process state, recursion guard, real allocator table, own path, the helper processes' /proc reads and detaching. */
#include "preload_state.h"

#include "capture_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

/* Leave marker `id` beside the run's capture: 0 when an earlier call (this process's or
 * another of the run's) left it already. Keeps errno. */
static int first_mark(unsigned id) {
  char path[sizeof g_said_base + 32];
  int saved = errno, first = 1;
  if (g_said_base[0] != '\0' &&
      snprintf(path, sizeof path, "%s" LL_SAY_SUFFIX "%u", g_said_base, id) < (int)sizeof path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) first = 0;
    if (fd >= 0) close(fd);
  }
  errno = saved;
  return first;
}

void ll__pl_say_once(unsigned id, const char *msg) {
  if (first_mark(id)) ll__pl_say(msg);
}

void ll__pl_mark(unsigned id) { (void)first_mark(id); }

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

int ll__pl_glibc_chunks; /* read inline by the hooks (ll__pl_usable) */

/* Whether f is defined in the object at base, and that object is glibc's libc.so. */
static int in_libc(void *f, void **base) {
  Dl_info di;
  if (f == NULL || dladdr(f, &di) == 0 || di.dli_fname == NULL || strstr(di.dli_fname, "/libc.so") == NULL)
    return 0;
  if (*base == NULL) *base = di.dli_fbase;
  return di.dli_fbase == *base;
}

/* The header read against malloc_usable_size on one block of the real allocator's (freed). */
static int usable_agrees(void *p) {
  if (p == NULL) return 0; /* not checked (no address space?): the call, then */
  ll__pl_glibc_chunks = 1;
  size_t inline_read = ll__pl_usable(p);
  ll__pl_glibc_chunks = 0;
  int same = inline_read == ll__pl_real.malloc_usable_size(p);
  ll__pl_real.free(p);
  return same;
}

/* The blocks are chosen to leave the program's heap as it was: past tcache's and the fast bins'
 * sizes (freed, a chunk carved from the top merges back into it), and mmapped ones above glibc's
 * largest dynamic mmap threshold (32 MiB: freeing a smaller mmapped chunk would raise the
 * threshold for the rest of the run). Address space only: their pages are never touched. */
void ll__pl_usable_check(void) {
  const ll__pl_real_t *r = &ll__pl_real;
  void *base = NULL, *m = NULL;
  ll__pl_glibc_chunks = 0;
  if (!ll__pl_resolved()) return;
  int g = ll__pl_guard_enter();
  int ok = in_libc((void *)r->malloc_usable_size, &base) && in_libc((void *)r->malloc, &base) &&
           in_libc((void *)r->free, &base) && in_libc((void *)r->calloc, &base) &&
           in_libc((void *)r->realloc, &base) && in_libc((void *)r->posix_memalign, &base) &&
           in_libc((void *)r->memalign, &base) &&
           (r->aligned_alloc == NULL || in_libc((void *)r->aligned_alloc, &base));
  const size_t big = (size_t)40 << 20;
  ok = ok && usable_agrees(r->malloc(1100)) && usable_agrees(r->calloc(1, 2000)) &&
       usable_agrees(r->malloc(5000)) && usable_agrees(r->malloc(big)) &&
       usable_agrees(r->memalign(4096, big)) && r->posix_memalign(&m, 64, big) == 0 && usable_agrees(m);
  ll__pl_guard_leave(g);
  ll__pl_glibc_chunks = ok;
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

/* ---- the helper processes ----------------------------------------------------------------- */

/* /proc/PID/stat into buf (NUL-terminated); the text after the command name's ')' (which may
 * hold spaces and parentheses), at the state field; NULL when there is none. */
static const char *proc_stat(int pid, char *buf, size_t len) {
  char path[64];
  int n = snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (n <= 0) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  ssize_t got = read(fd, buf, len - 1);
  close(fd);
  if (got <= 0) return NULL;
  buf[got] = '\0';
  const char *rp = strrchr(buf, ')');
  return rp != NULL && rp[1] == ' ' ? rp + 2 : NULL;
}

int ll__pl_pid_alive(int pid) {
  char buf[256];
  const char *st = proc_stat(pid, buf, sizeof buf);
  return st != NULL && *st != 'Z' && *st != 'X';
}

int ll__pl_zombie_end(int pid, int *how, int *sig) {
  char buf[1024];
  const char *p = proc_stat(pid, buf, sizeof buf);
  if (p == NULL || *p != 'Z') return -1;
  for (int field = 3; field < 52; field++) { /* p is at field 3 */
    if ((p = strchr(p, ' ')) == NULL) return -1;
    p++;
  }
  int code = 0;
  for (; *p >= '0' && *p <= '9'; p++) code = code * 10 + (*p - '0');
  if (*p != ' ' && *p != '\n' && *p != '\0') return -1;
  if ((code & 0x7f) == 0) { /* WIFEXITED */
    *how = LL_CAP_END_EXIT;
    *sig = (code >> 8) & 0xff;
  } else {
    *how = LL_CAP_END_SIGNAL;
    *sig = code & 0x7f;
  }
  return 0;
}

void ll__pl_helper_detach(void) {
  (void)ll__pl_guard_enter(); /* never left (it allocates nothing anyway) */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  setsid();
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0) /* kernels before 5.9 */
    for (int fd = 0; fd < 4096; fd++) close(fd);
  prctl(PR_SET_NAME, "leaklab-helper", 0, 0, 0);
}

void ll__pl_helper_exit(void) {
  syscall(SYS_exit_group, 0);
  for (;;) pause();
}
