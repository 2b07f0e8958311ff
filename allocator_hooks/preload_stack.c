/* preload_stack.c - call stacks at allocation time: a guarded frame-pointer walk, libunwind as the fallback. */
#include "preload_stack.h"

#include <pthread.h>

#include "preload_modules.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/*
 * Two ways to get the return addresses of the program's call into malloc:
 * - the frame-pointer walk follows saved frame pointers. It costs a few loads per frame but is
 *   only right where code keeps frame pointers; elsewhere %rbp is an ordinary register. So
 *   every frame pointer is checked before it is read: inside this thread's stack, 8-aligned,
 *   strictly above the previous one; and every return address must fall in a known module's
 *   code, else the walk stops. Garbage can therefore end a stack early but never crash.
 * - libunwind (unw_backtrace) reads the DWARF call-frame information: right for any code with
 *   .eh_frame (everything Debian ships), several times dearer.
 * auto (the default) walks frame pointers when malloc's caller is the program's own code (built
 * by the user, usually with frame pointers at -O0) and uses libunwind when the caller is a
 * system library (strdup, fopen, operator new, libgmp...), whose frames the walk would skip,
 * losing the user's line that the report needs.
 */

static int g_mode = LL__UNWIND_AUTO;
static int g_frames = 16;
int ll__pl_stack_one;

/* This thread's stack, found once (pthread_getattr_np may allocate: the guard is set). */
static __thread uintptr_t t_stack_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t t_stack_hi __attribute__((tls_model("initial-exec")));
__thread int ll__pl_stack_known __attribute__((tls_model("initial-exec")));
#define t_stack_known ll__pl_stack_known

void ll__pl_stack_config(int mode, int frames) {
  g_mode = mode;
  if (frames < 1) frames = 1;
  if (frames > LL__PL_MAX_FRAMES) frames = LL__PL_MAX_FRAMES;
  g_frames = frames;
  ll__pl_stack_one = frames == 1 && mode != LL__UNWIND_LIBUNWIND;
  /* Per-thread caches: no lock shared between threads while unwinding. */
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

int ll__pl_stack_frames(void) { return g_frames; }

int ll__pl_unwind_mode(void) { return g_mode; }

static void find_stack(void) {
  pthread_attr_t attr;
  void *addr;
  size_t size;
  t_stack_known = -1;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    t_stack_lo = (uintptr_t)addr;
    t_stack_hi = (uintptr_t)addr + size;
    t_stack_known = 1;
  }
  pthread_attr_destroy(&attr);
}

/* The return address each of the first OK_DEPTH depths last had when it passed
 * ll__pl_ip_is_code on this thread: the same address at the same depth skips the module lookup.
 * Stale in the same way as ll__pl_ip_is_code's own per-thread cache of the segment it last hit:
 * an address once found in code counts as code until replaced (a dlclose since is not seen).
 * 0: none. */
#define OK_DEPTH 32
static __thread uintptr_t t_ok_ip[OK_DEPTH] __attribute__((tls_model("initial-exec")));

static int fp_walk(uintptr_t *frame, uintptr_t *ips, int max) {
  int n = 0;
  ips[n++] = frame[1]; /* the hook's own frame is ours, always sound */
  if (t_stack_known == 0) find_stack();
  if (t_stack_known < 0) return n;
  uintptr_t fp = frame[0], prev = (uintptr_t)frame;
  while (n < max) {
    if (fp <= prev || (fp & 7) != 0 || fp < t_stack_lo || fp > t_stack_hi - 16) break;
    uintptr_t *f = (uintptr_t *)fp;
    uintptr_t ret = f[1];
    if (ret < 4096) break;
    if (n >= OK_DEPTH || t_ok_ip[n] != ret) {
      if (!ll__pl_ip_is_code(ret)) break;
      if (n < OK_DEPTH) t_ok_ip[n] = ret;
    }
    ips[n++] = ret;
    prev = fp;
    fp = f[0];
  }
  return n;
}

static int unwind(uintptr_t *frame, uintptr_t *ips, int max) {
  /* Our own frames come first (this function, the recorder, the hook): skip up to the hook's
   * return address, which the hook's frame gives exactly. */
  enum { SKIP_MAX = 8 };
  void *buf[LL__PL_MAX_FRAMES + SKIP_MAX];
  uintptr_t ret0 = frame[1];
  int got = unw_backtrace(buf, max + SKIP_MAX);
  for (int i = 0; i < got && i < SKIP_MAX; i++) {
    if ((uintptr_t)buf[i] != ret0) continue;
    int n = got - i < max ? got - i : max;
    for (int j = 0; j < n; j++) ips[j] = (uintptr_t)buf[i + j];
    return n;
  }
  ips[0] = ret0; /* libunwind could not get through our frames: the caller alone */
  return 1;
}

/* ll__pl_ip_is_own for malloc's caller, remembering the last caller found to be the program's
 * own code (as stale as ll__pl_ip_is_own's segment cache, and only for a positive answer). */
static __thread uintptr_t t_own_ip __attribute__((tls_model("initial-exec")));

static inline int is_own_caller(uintptr_t ip) {
  if (ip == t_own_ip) return 1;
  if (!ll__pl_ip_is_own(ip)) return 0;
  t_own_ip = ip;
  return 1;
}

int ll__pl_capture_stack(void *hook_fp, uintptr_t *ips) {
  uintptr_t *frame = hook_fp;
  switch (g_mode) {
  case LL__UNWIND_FP: return fp_walk(frame, ips, g_frames);
  case LL__UNWIND_LIBUNWIND: return unwind(frame, ips, g_frames);
  default: break;
  }
  if (g_frames == 1 || is_own_caller(frame[1])) return fp_walk(frame, ips, g_frames);
  return unwind(frame, ips, g_frames);
}
