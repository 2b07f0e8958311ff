/* preload_limits.c - RLIMIT_AS: a program that caps its own address space keeps what it asked for, and the capture is still written. */
#include "preload_limits.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "engine.h"
#include "preload_async.h"
#include "preload_state.h"
#include "preload_watch.h"

/*
 * Why: the helper's tracker region is reserved address space (64 GiB, MAP_NORESERVE: no memory,
 * but it counts against RLIMIT_AS). A program that sets RLIMIT_AS below that would get NULL from
 * every malloc that needs a new mapping. So when it does, the helper drains and exits, the
 * region's unused part and the rings are given back, and the program's threads record from
 * then on (the figures are the same; only the cost changes).
 * A program that runs out of its own limit would leave the capture writer without memory: a
 * reserve of CAPTURE_RESERVE bytes of address space (PROT_NONE: no memory) is held while the
 * limit is finite and unmapped just before the capture is written.
 */
#define CAPTURE_RESERVE ((size_t)64 << 20)

static void *g_reserve;

static void hold_reserve(void) {
  if (g_reserve != NULL) return;
  void *p = mmap(NULL, CAPTURE_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) g_reserve = p;
}

void ll__pl_limits_for_capture(void) {
  void *p = __atomic_exchange_n(&g_reserve, NULL, __ATOMIC_SEQ_CST);
  if (p != NULL) munmap(p, CAPTURE_RESERVE);
}

void ll__pl_limits_start(void) {
  struct rlimit r;
  if (ll__pl_recording() && getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY) hold_reserve();
}

/* The program is about to set RLIMIT_AS to `lim` (NULL: it only reads it). */
static void before(int resource, const struct rlimit *lim) {
  if (resource != RLIMIT_AS || lim == NULL || lim->rlim_cur == RLIM_INFINITY || ll__pl_guard) return;
  if (!ll__pl_recording()) return;
  int saved = errno;
  int g = ll__pl_guard_enter();
  if (ll__pl_async_active() && ll__pl_async_stop(0) == 0) {
    ll__tracker_seal_share();
    ll__pl_async_release();
  }
  if (ll__pl_watch_active()) { /* its tables' reserve goes back: they are private from now on */
    ll__pl_watch_stop();
    ll__tracker_seal_share();
  }
  hold_reserve();
  ll__pl_guard_leave(g);
  errno = saved;
}

typedef int (*setrlimit_fn)(int, const struct rlimit *);
typedef int (*prlimit_fn)(pid_t, int, const struct rlimit *, struct rlimit *);

LL__PL_EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *lim) {
  before((int)resource, lim);
  setrlimit_fn real = (setrlimit_fn)ll__pl_next("setrlimit");
  return real != NULL ? real((int)resource, lim) : (errno = ENOSYS, -1);
}

LL__PL_EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *lim) {
  before((int)resource, (const struct rlimit *)lim);
  setrlimit_fn real = (setrlimit_fn)ll__pl_next("setrlimit64");
  return real != NULL ? real((int)resource, (const struct rlimit *)lim) : (errno = ENOSYS, -1);
}

LL__PL_EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *lim, struct rlimit *old) {
  if (pid == 0 || pid == getpid()) before((int)resource, lim);
  prlimit_fn real = (prlimit_fn)ll__pl_next("prlimit");
  return real != NULL ? real(pid, (int)resource, lim, old) : (errno = ENOSYS, -1);
}

LL__PL_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *lim, struct rlimit64 *old) {
  if (pid == 0 || pid == getpid()) before((int)resource, (const struct rlimit *)lim);
  prlimit_fn real = (prlimit_fn)ll__pl_next("prlimit64");
  return real != NULL ? real(pid, (int)resource, (const struct rlimit *)lim, (struct rlimit *)old)
                      : (errno = ENOSYS, -1);
}
