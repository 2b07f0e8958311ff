/* preload_watch.c - the synchronous recorder's survivor: a helper process that shares the tracker and writes the capture when the program ends without writing it. */
#include "preload_watch.h"

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture_format.h"
#include "engine.h"
#include "preload_state.h"

/*
 * Why: with the synchronous recorder the tracker lives in the program, so a program killed
 * outright (SIGKILL, as the OOM killer sends; a signal it does not catch) took its recording
 * with it. Here the tracker's state is in shared memory (ll__tracker_share, as for the async
 * helper) and a process forked at start, which records nothing, outlives the program and writes
 * the capture from that state.
 *
 * - It is not the program's child (double fork with _Fork: no atfork handler runs, the program's
 *   wait() never sees it), and is detached as the async helper is (ll__pl_helper_detach).
 * - It waits on a pidfd of the program (readable once the program has ended), waking every
 *   100 ms to see whether it was told to stop; without pidfd_open (kernels before 5.3) it looks
 *   at /proc every 5 ms.
 * - A thread killed inside the tracker leaves it mid-change: the engine marks its changes
 *   (ll__tracker_busy), and the capture is then partial (process facts, no snapshot) rather
 *   than read from tables that may be half written.
 */

typedef struct wctl {
  int stop;  /* the program asks the watcher to exit */
  int ready; /* the watcher is running */
} wctl_t;

static wctl_t *g_ctl;
static pid_t g_owner;
static int g_on;
static void (*g_orphan)(int how, int sig, int partial);

static void nap_ms(long ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL); }

static void watch_main(void) __attribute__((noreturn));
static void watch_main(void) {
  ll__pl_helper_detach();
  int owner = (int)g_owner;
  int fd = (int)syscall(SYS_pidfd_open, owner, 0);
  __atomic_store_n(&g_ctl->ready, 1, __ATOMIC_RELEASE);
  for (;;) {
    if (__atomic_load_n(&g_ctl->stop, __ATOMIC_ACQUIRE)) ll__pl_helper_exit();
    if (fd >= 0) {
      struct pollfd p = {fd, POLLIN, 0};
      (void)poll(&p, 1, 100);
    } else {
      nap_ms(5);
    }
    if (__atomic_load_n(&g_ctl->stop, __ATOMIC_ACQUIRE)) ll__pl_helper_exit();
    if (ll__pl_pid_alive(owner)) continue;
    /* Gone without a word: how it ended (from its zombie), then the capture. */
    int how = LL_CAP_END_SIGNAL, sig = 0;
    if (ll__pl_zombie_end(owner, &how, &sig) != 0) {
      how = LL_CAP_END_SIGNAL;
      sig = 0;
    }
    ll__pl_helper = 1;
    if (g_orphan != NULL) g_orphan(how, sig, ll__tracker_busy());
    ll__pl_helper_exit();
  }
}

int ll__pl_watch_start(void (*orphan)(int how, int sig, int partial)) {
  g_orphan = orphan;
  void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return -1;
  g_ctl = m;
  g_owner = getpid();
  pid_t mid = _Fork();
  if (mid == 0) {
    if (_Fork() == 0) watch_main();
    ll__pl_helper_exit(); /* the middle process: its child is now nobody's but init's */
  }
  if (mid < 0) {
    munmap(m, 4096);
    g_ctl = NULL;
    return -1;
  }
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  /* Usually ready within a few microseconds; give up after 2 s (a watcher that starts after
   * all finds stop set at once). */
  for (int i = 0; !__atomic_load_n(&g_ctl->ready, __ATOMIC_ACQUIRE); i++) {
    if (i >= 2000) {
      __atomic_store_n(&g_ctl->stop, 1, __ATOMIC_RELEASE);
      return -1;
    }
    nap_ms(1);
  }
  g_on = 1;
  return 0;
}

int ll__pl_watch_active(void) { return g_on && getpid() == g_owner; }

void ll__pl_watch_stop(void) {
  if (!ll__pl_watch_active()) return;
  g_on = 0;
  __atomic_store_n(&g_ctl->stop, 1, __ATOMIC_RELEASE);
}
