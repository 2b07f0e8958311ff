/* preload_stack.c - call stacks at allocation time: a guarded frame-pointer walk, libunwind as the fallback. */
#include "preload_stack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

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
 *
 * libunwind 1.6 checks addresses it is unsure of by writing one byte from them into a pipe it
 * opens at start, on the lowest free descriptors (3 and 4), and reopens when a read fails: the
 * program would see them (its first free descriptor 5), and one that closes inherited
 * descriptors and opens its own files there gets them read from and written into. So the
 * local address space's memory reader is replaced by ours, which checks an address without any
 * descriptor (this thread's stack, else process_vm_readv, which fails on unreadable memory),
 * and the pipe, never used then, is closed at once; with --unwind fp libunwind is not started.
 */

int ll__pl_unwind = LL__UNWIND_AUTO; /* read inline by the hooks (ll__pl_capture_stack_inline) */
int ll__pl_stack_depth = 16; /* read inline by the hooks (ll__pl_stack_frames) */
int ll__pl_stack_one;

/* This thread's stack, found once (pthread_getattr_np may allocate: the guard is set). */
__thread uintptr_t ll__pl_stack_lo __attribute__((tls_model("initial-exec")));
__thread uintptr_t ll__pl_stack_hi __attribute__((tls_model("initial-exec")));
__thread int ll__pl_stack_known __attribute__((tls_model("initial-exec")));
#define t_stack_known ll__pl_stack_known


/* Readable pages found by readable() on this thread, most recent first (0: none): the same
 * few pages of .eh_frame are read over and over while libunwind parses call-frame information.
 * Stale in the way libunwind's own cache of checked pages is (an unmapped page is not seen). */
#define OK_PAGES 4
static __thread uintptr_t t_ok_page[OK_PAGES] __attribute__((tls_model("initial-exec")));
static int g_vm_readv = 1; /* process_vm_readv works here (a seccomp filter may forbid it) */

static int page_readable(uintptr_t page) {
  for (int i = 0; i < OK_PAGES; i++)
    if (t_ok_page[i] == page) return 1;
  char byte;
  struct iovec local = {&byte, 1}, remote = {(void *)page, 1};
  if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != 1) {
    if (errno == ENOSYS || errno == EPERM) g_vm_readv = 0;
    return 0;
  }
  for (int i = OK_PAGES - 1; i > 0; i--) t_ok_page[i] = t_ok_page[i - 1];
  t_ok_page[0] = page;
  return 1;
}

/* Whether the word at addr can be read: in this thread's stack, or on readable pages. */
static int readable(uintptr_t addr) {
  if (addr < 4096 || addr > UINTPTR_MAX - sizeof(unw_word_t)) return 0;
  if (t_stack_known == 0) ll__pl_stack_find();
  if (t_stack_known > 0 && addr >= ll__pl_stack_lo && addr + sizeof(unw_word_t) <= ll__pl_stack_hi) return 1;
  if (!g_vm_readv) return ll__pl_ip_is_code(addr); /* without it: only code we know is mapped */
  uintptr_t first = addr & ~(uintptr_t)4095, last = (addr + sizeof(unw_word_t) - 1) & ~(uintptr_t)4095;
  return page_readable(first) && (last == first || page_readable(last));
}

/* libunwind's memory reader for this process, as libunwind 1.6's own but for how it checks:
 * bit 0 of `arg` (the local address space's packed argument) asks for the check. */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
  (void)as;
  if (write) {
    *(unw_word_t *)addr = *val;
    return 0;
  }
  if (((uintptr_t)arg & 1) != 0 && !readable((uintptr_t)addr)) return -1;
  *val = *(const unw_word_t *)addr;
  return 0;
}

/* Whether fds a and b are the two ends of one pipe. */
static int pipe_pair(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && S_ISFIFO(sa.st_mode) && S_ISFIFO(sb.st_mode) &&
         sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

/* Start libunwind (its per-thread caches: no lock shared between threads while unwinding) with
 * our memory reader, then close the pipe it opened: on the two lowest free descriptors, which
 * a pipe of ours made and closed just before finds (the constructor runs before the program
 * has a second thread). */
static void start_libunwind(void) {
  int probe[2];
  int known = pipe2(probe, O_CLOEXEC) == 0;
  if (known) {
    close(probe[0]);
    close(probe[1]);
  }
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  unw_get_accessors(unw_local_addr_space)->access_mem = access_mem;
  if (known && pipe_pair(probe[0], probe[1]) && (fcntl(probe[0], F_GETFL) & O_NONBLOCK)) {
    close(probe[0]);
    close(probe[1]);
  }
}

void ll__pl_stack_config(int mode, int frames) {
  ll__pl_unwind = mode;
  if (frames < 1) frames = 1;
  if (frames > LL__PL_MAX_FRAMES) frames = LL__PL_MAX_FRAMES;
  ll__pl_stack_depth = frames;
  ll__pl_stack_one = frames == 1 && mode != LL__UNWIND_LIBUNWIND;
  if (mode != LL__UNWIND_FP) start_libunwind();
}

int ll__pl_unwind_mode(void) { return ll__pl_unwind; }

/* ---- every thread's stack, for the exit scan: noted when a thread's stack is first found ---- */
#define NTHR 1024
typedef struct thr {
  int tid; /* 0: free, -1: being written */
  uintptr_t lo, hi, self;
} thr_t;
static thr_t g_thr[NTHR];

static void note_thread(uintptr_t lo, uintptr_t hi) {
  int tid = (int)syscall(SYS_gettid);
  pid_t pid = getpid();
  for (int k = 0; k < NTHR; k++) {
    thr_t *t = &g_thr[(unsigned)(tid + k) % NTHR];
    int cur = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
    /* A slot of a thread that has ended is taken over. */
    if (cur != 0 && cur != tid && (cur < 0 || syscall(SYS_tgkill, pid, cur, 0) == 0)) continue;
    if (!__atomic_compare_exchange_n(&t->tid, &cur, -1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    t->lo = lo, t->hi = hi, t->self = (uintptr_t)pthread_self();
    __atomic_store_n(&t->tid, tid, __ATOMIC_RELEASE);
    return;
  }
}

int ll__pl_stack_of_thread(int tid, uintptr_t *lo, uintptr_t *hi, uintptr_t *self) {
  for (int k = 0; k < NTHR; k++) {
    const thr_t *t = &g_thr[(unsigned)(tid + k) % NTHR];
    if (__atomic_load_n(&t->tid, __ATOMIC_ACQUIRE) != tid) continue;
    *lo = t->lo, *hi = t->hi, *self = t->self;
    return 0;
  }
  return -1;
}

void ll__pl_stack_find(void) {
  pthread_attr_t attr;
  void *addr;
  size_t size;
  t_stack_known = -1;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    ll__pl_stack_lo = (uintptr_t)addr;
    ll__pl_stack_hi = (uintptr_t)addr + size;
    t_stack_known = 1;
    note_thread(ll__pl_stack_lo, ll__pl_stack_hi);
  }
  pthread_attr_destroy(&attr);
}

int ll__pl_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  if (t_stack_known == 0) ll__pl_stack_find();
  if (t_stack_known < 0) return -1;
  *lo = ll__pl_stack_lo, *hi = ll__pl_stack_hi;
  return 0;
}

/* Each depth's last return address that passed ll__pl_ip_is_code (preload_stack.h). */
__thread uintptr_t ll__pl_ok_ip[LL__PL_OK_DEPTH] __attribute__((tls_model("initial-exec")));

int ll__pl_fp_walk_on(uintptr_t fp, uintptr_t prev, uintptr_t *ips, int n, int max) {
  uintptr_t lo = ll__pl_stack_lo, top = ll__pl_stack_hi - 16;
  while (n < max) {
    if (fp <= prev || (fp & 7) != 0 || fp < lo || fp > top) break;
    uintptr_t *f = (uintptr_t *)fp;
    uintptr_t ret = f[1];
    if (ret < 4096) break;
    if (n >= LL__PL_OK_DEPTH || ll__pl_ok_ip[n] != ret) {
      if (!ll__pl_ip_is_code(ret)) break;
      if (n < LL__PL_OK_DEPTH) ll__pl_ok_ip[n] = ret;
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
__thread uintptr_t ll__pl_own_ip __attribute__((tls_model("initial-exec")));

static inline int is_own_caller(uintptr_t ip) {
  if (ip == ll__pl_own_ip) return 1;
  if (!ll__pl_ip_is_own(ip)) return 0;
  ll__pl_own_ip = ip;
  return 1;
}

int ll__pl_capture_stack_fp(void *hook_fp, uintptr_t *ips, int max) {
  return ll__pl_fp_walk(hook_fp, ips, max < ll__pl_stack_depth ? max : ll__pl_stack_depth);
}

int ll__pl_capture_stack(void *hook_fp, uintptr_t *ips) {
  uintptr_t *frame = hook_fp;
  int max = ll__pl_stack_depth, n, saved = errno; /* finding the stack, libunwind: system calls */
  if (__builtin_expect(t_stack_known == 0, 0)) ll__pl_stack_find(); /* the exit scan's registry too */
  if (ll__pl_unwind == LL__UNWIND_LIBUNWIND || (ll__pl_unwind == LL__UNWIND_AUTO && max != 1 && !is_own_caller(frame[1])))
    n = unwind(frame, ips, max);
  else
    n = ll__pl_fp_walk(frame, ips, max);
  errno = saved;
  return n;
}
