/* preload_async.c - asynchronous recording: the program's thread queues events, a helper process applies them to the tracker. */
#include "preload_async.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "preload_state.h"

/*
 * Why: applying an event to the tracker (live table, interning, per-site sums, peak) is most of
 * what recording costs the program (bench/README.md, "The floor"). Here the program's thread
 * only appends the event to a ring in shared memory; a helper process forked at start applies
 * it to the tracker, whose whole state was moved to shared memory (ll__tracker_share). When the
 * recording ends (exit, _exit, a fatal signal, an exec that keeps recording) or the program
 * starts a second thread, the helper drains the ring and exits; from then on the program owns
 * the tracker again, records in its own thread as the synchronous recorder does, and writes
 * the capture as usual. The figures are the same either way: same events, same order, same
 * engine.
 *
 * - One producer: events go to the ring only while the process has one thread. glibc clears
 *   __libc_single_threaded in pthread_create before the second thread exists, and the first
 *   event that sees it cleared stops the helper before anything is recorded in-thread, so the
 *   ring needs no lock and no atomic read-modify-write; its head is published every
 *   PUBLISH_WORDS words (the helper reads it only after sleeping, see below).
 * - The helper sleeps SLEEP_NS whenever it has caught up and then takes the backlog in one batch:
 *   a helper that polls the head keeps pulling the ring's lines away from the program's core
 *   (bench/README.md measured 2.5x against 1.63x). After IDLE_NS without events it sleeps
 *   longer, and checks that the program still exists.
 * - The helper is not the program's child (double fork with _Fork: no atfork handler runs, and
 *   the program's wait() never sees it). It has its own session (terminal signals do not reach
 *   it), blocks every signal, and closes every file descriptor, so a pipe the program shares
 *   closes when the program ends. It never allocates.
 * - If the helper dies, nothing applied since can be trusted: recording stops, the capture is
 *   written with the process facts only, marked so (LL_CAP_F_HELPER_LOST), and leaklab says so.
 */

#define RING_WORDS (1u << 18) /* 2 MiB of events: about 60,000 */
#define RING_MASK (RING_WORDS - 1)
#define PUBLISH_WORDS 64
#define SLEEP_NS 20000
#define IDLE_NS 50000000 /* 50 ms without events: sleep 1 ms at a time, check the program */

/* Event tags, in the low 3 bits of the first word (recorded pointers are at least 8-aligned). */
enum { EV_FREE = 1, EV_ALLOC1 = 2, EV_REALLOC = 3, EV_ALLOCN = 4 };

typedef struct ring {
  _Alignas(64) uint64_t head;   /* words written, published by the program */
  _Alignas(64) uint64_t tail;   /* words applied, published by the helper */
  _Alignas(64) int stop;        /* the program asks: drain, then exit */
  int acked;                    /* the helper: drained and gone; the tracker is the program's */
  int ready;                    /* the helper is running */
  int helper_pid;
  _Alignas(64) uint64_t w[RING_WORDS];
} ring_t;

int ll__pl_async_on;          /* events go to the ring (read by the hooks) */
static ring_t *g_ring;
static int g_lost;            /* the helper died before it drained */
static pid_t g_owner;         /* the process whose events the ring carries */
static pthread_mutex_t g_stop_lock = PTHREAD_MUTEX_INITIALIZER;

/* The program's side (only ever one thread writes these, see above). */
static uint64_t p_head, p_published, p_tail;
static uintptr_t p_last[LL__PL_MAX_FRAMES];
static int p_nlast;

static void nap(long ns) { nanosleep(&(struct timespec){0, ns}, NULL); }

/* A spin-wait hint to the CPU (the other hyperthread, or the hypervisor, gets the cycles). */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether pid exists and is not a zombie (from /proc: async-signal-safe, and unlike kill(pid, 0)
 * it is not fooled by a zombie nobody reaps). */
static int pid_alive(pid_t pid) {
  char path[64], buf[256];
  int n = snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (n <= 0) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t got = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (got <= 0) return 0;
  buf[got] = '\0';
  const char *rp = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  return rp != NULL && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* ---- the helper ---------------------------------------------------------------------------- */

static ll__tbcache_t h_cache;
static uintptr_t h_last[LL__PL_MAX_FRAMES];
static int h_nlast;

static inline uint64_t rd(uint64_t at) { return g_ring->w[at & RING_MASK]; }

/* The stack of an ALLOCN or REALLOC event at `at` (its header word): new frames, then the
 * previous stack's last `keep`. It becomes h_last (*ips points there); when the depth is the
 * same, the kept frames are already in place and only the new ones are written. Returns the
 * words it took. */
static uint64_t read_stack(uint64_t at, const uintptr_t **ips, int *n) {
  uint64_t hdr = rd(at);
  int total = (int)(hdr & 0xffff), keep = (int)(hdr >> 16), fresh = total - keep;
  if (total == h_nlast) {
    for (int i = 0; i < fresh; i++) h_last[i] = (uintptr_t)rd(at + 1 + (uint64_t)i);
  } else {
    uintptr_t tmp[LL__PL_MAX_FRAMES];
    for (int i = 0; i < fresh; i++) tmp[i] = (uintptr_t)rd(at + 1 + (uint64_t)i);
    for (int i = 0; i < keep; i++) tmp[fresh + i] = h_last[h_nlast - keep + i];
    memcpy(h_last, tmp, (size_t)total * sizeof *tmp);
    h_nlast = total;
  }
  *ips = h_last;
  *n = total;
  return 1 + (uint64_t)fresh;
}

/* Apply the events in [tail, head); returns the new tail. */
static uint64_t apply(uint64_t tail, uint64_t head) {
  uintptr_t ip;
  const uintptr_t *ips;
  int n;
  uint64_t published = tail;
  while (tail != head) {
    uint64_t a = rd(tail);
    void *p = (void *)(uintptr_t)(a & ~(uint64_t)7);
    switch (a & 7) {
    case EV_FREE:
      ll_track_free(p);
      tail += 1;
      break;
    case EV_ALLOC1:
      ip = (uintptr_t)rd(tail + 3);
      ll__track_alloc_ips_c(p, (size_t)rd(tail + 1), (size_t)rd(tail + 2), &ip, 1, &h_cache);
      tail += 4;
      break;
    case EV_ALLOCN: {
      size_t size = (size_t)rd(tail + 1), usable = (size_t)rd(tail + 2);
      tail += 3 + read_stack(tail + 3, &ips, &n);
      ll__track_alloc_ips_c(p, size, usable, ips, n, &h_cache);
      break;
    }
    default: { /* EV_REALLOC: old, new, size, usable, stack */
      ll_realloc_token_t tok;
      void *q = (void *)(uintptr_t)rd(tail + 1);
      size_t size = (size_t)rd(tail + 2), usable = (size_t)rd(tail + 3);
      uint64_t used = read_stack(tail + 4, &ips, &n);
      ll_track_realloc_begin(p, &tok);
      ll__track_realloc_end_ips_c(&tok, q, size, usable, ips, n, &h_cache);
      tail += 4 + used;
      break;
    }
    }
    if (tail - published >= RING_WORDS / 8) { /* a long batch: give the program room early */
      __atomic_store_n(&g_ring->tail, tail, __ATOMIC_RELEASE);
      published = tail;
    }
  }
  __atomic_store_n(&g_ring->tail, tail, __ATOMIC_RELEASE);
  return tail;
}

static void helper_exit(void) __attribute__((noreturn));
static void helper_exit(void) {
  syscall(SYS_exit_group, 0); /* no atexit handler, no stdio flush, none of our hooks */
  for (;;) pause();
}

static void helper_main(void) __attribute__((noreturn));
static void helper_main(void) {
  /* Never left: nothing this process does is recorded (it allocates nothing anyway). */
  (void)ll__pl_guard_enter();
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  setsid();
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0) /* kernels before 5.9 */
    for (int fd = 0; fd < 4096; fd++) close(fd);
  prctl(PR_SET_NAME, "leaklab-helper", 0, 0, 0);
  pid_t owner = g_owner;
  __atomic_store_n(&g_ring->helper_pid, (int)getpid(), __ATOMIC_RELAXED);
  __atomic_store_n(&g_ring->ready, 1, __ATOMIC_RELEASE);

  uint64_t tail = 0, idle_since = now_ns();
  for (;;) {
    uint64_t head = __atomic_load_n(&g_ring->head, __ATOMIC_ACQUIRE);
    if (head != tail) {
      tail = apply(tail, head);
      idle_since = 0;
      continue;
    }
    if (__atomic_load_n(&g_ring->stop, __ATOMIC_ACQUIRE)) {
      /* The program published its last head before setting stop. */
      head = __atomic_load_n(&g_ring->head, __ATOMIC_ACQUIRE);
      if (head != tail) continue;
      __atomic_store_n(&g_ring->acked, 1, __ATOMIC_RELEASE);
      helper_exit();
    }
    uint64_t t = now_ns();
    if (idle_since == 0) idle_since = t;
    if (t - idle_since < IDLE_NS) {
      nap(SLEEP_NS);
    } else {
      if (!pid_alive(owner)) helper_exit(); /* killed, or gone without telling us */
      nap(1000000);
    }
  }
}

/* ---- the program's side -------------------------------------------------------------------- */

int ll__pl_async_start(void) {
  g_ring = mmap(NULL, sizeof *g_ring, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_ring == MAP_FAILED) {
    g_ring = NULL;
    return -1;
  }
  g_owner = getpid();
  pid_t mid = _Fork();
  if (mid == 0) {
    if (_Fork() == 0) helper_main();
    helper_exit(); /* the middle process: its child is now nobody's but init's */
  }
  if (mid < 0) goto fail;
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  /* Usually ready within a few microseconds; give up after 2 s (no helper). */
  for (uint64_t t0 = now_ns(); !__atomic_load_n(&g_ring->ready, __ATOMIC_ACQUIRE);) {
    if (now_ns() - t0 > 2000000000u) goto fail;
    nap(SLEEP_NS);
  }
  p_head = p_published = p_tail = 0;
  p_nlast = 0;
  __atomic_store_n(&ll__pl_async_on, 1, __ATOMIC_RELEASE);
  return 0;
fail:
  /* A helper that starts after all finds stop set at once; the ring stays mapped for it. */
  __atomic_store_n(&g_ring->stop, 1, __ATOMIC_RELEASE);
  return -1;
}

int ll__pl_async_lost(void) { return g_lost; }

static void helper_lost(void) {
  if (__atomic_exchange_n(&g_lost, 1, __ATOMIC_SEQ_CST)) return;
  __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
  ll__pl_say("leaklab: the recording helper process died; recording stops here, and the capture will "
      "hold the process facts only\n");
}

static void publish(void) {
  __atomic_store_n(&g_ring->head, p_head, __ATOMIC_RELEASE);
  p_published = p_head;
}

/* Wait for the helper to free `need` words; 0, or -1 when it died (it is checked every 10 ms). */
static int wait_room(uint64_t need) {
  publish();
  uint64_t checked = now_ns();
  for (unsigned spins = 0;; spins++) {
    p_tail = __atomic_load_n(&g_ring->tail, __ATOMIC_ACQUIRE);
    if (p_head + need - p_tail <= RING_WORDS) return 0;
    if (spins < 64) {
      cpu_relax();
      continue;
    }
    nap(SLEEP_NS);
    uint64_t t = now_ns();
    if (t - checked > 10000000) {
      checked = t;
      if (!pid_alive(g_ring->helper_pid)) return -1;
    }
  }
}

int ll__pl_async_stop(int bounded) {
  if (!__atomic_load_n(&ll__pl_async_on, __ATOMIC_ACQUIRE)) return g_lost ? -1 : 0;
  if (getpid() != g_owner) return 0; /* a forked child: the ring is its parent's */
  int locked = 0;
  if (bounded) { /* a fatal signal: the lock may be this very thread's */
    for (int i = 0; i < 1000 && !locked; i++)
      if (pthread_mutex_trylock(&g_stop_lock) == 0) locked = 1; else nap(1000000);
    if (!locked) return -1;
  } else {
    pthread_mutex_lock(&g_stop_lock);
    locked = 1;
  }
  if (__atomic_load_n(&ll__pl_async_on, __ATOMIC_ACQUIRE)) {
    publish();
    __atomic_store_n(&g_ring->stop, 1, __ATOMIC_RELEASE);
    uint64_t start = now_ns(), checked = start;
    while (!__atomic_load_n(&g_ring->acked, __ATOMIC_ACQUIRE)) {
      nap(SLEEP_NS);
      uint64_t t = now_ns();
      if (t - checked > 10000000) {
        checked = t;
        if (!pid_alive(g_ring->helper_pid) && !__atomic_load_n(&g_ring->acked, __ATOMIC_ACQUIRE)) {
          helper_lost();
          break;
        }
      }
      if (bounded && t - start > 2000000000u) { /* crashing: do not hang the program's death */
        helper_lost();
        break;
      }
    }
    __atomic_store_n(&ll__pl_async_on, 0, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_stop_lock);
  return g_lost ? -1 : 0;
}

void ll__pl_async_forget(void) { __atomic_store_n(&ll__pl_async_on, 0, __ATOMIC_RELEASE); }

/* Room for an event of `words` words, or the helper is gone (recording has stopped). */
static inline int room(uint64_t words) {
  if (__builtin_expect(p_head + words - p_tail <= RING_WORDS, 1)) return 1;
  if (wait_room(words) == 0) return 1;
  helper_lost();
  __atomic_store_n(&ll__pl_async_on, 0, __ATOMIC_RELEASE);
  return 0;
}

static inline void put(uint64_t x) { g_ring->w[p_head++ & RING_MASK] = x; }

static inline void done_event(void) {
  if (p_head - p_published >= PUBLISH_WORDS) publish();
}

/* The stack's header and the frames that differ from the previous event's (the common tail,
 * towards main, is usually most of it). Room for 1 + n words must be there. */
static inline void put_stack(const uintptr_t *ips, int n) {
  int keep = 0;
  while (keep < n && keep < p_nlast && ips[n - 1 - keep] == p_last[p_nlast - 1 - keep]) keep++;
  put((uint64_t)n | ((uint64_t)keep << 16));
  for (int i = 0; i < n - keep; i++) put(ips[i]);
  if (n == p_nlast) { /* the kept frames are in place already */
    for (int i = 0; i < n - keep; i++) p_last[i] = ips[i];
  } else {
    memcpy(p_last, ips, (size_t)n * sizeof *ips);
    p_nlast = n;
  }
}

int ll__pl_async_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n) {
  if (__builtin_expect(!__libc_single_threaded || ((uintptr_t)p & 7) != 0, 0)) {
    ll__pl_async_stop(0);
    return 0;
  }
  if (n == 1) {
    if (!room(4)) return 1;
    put((uintptr_t)p | EV_ALLOC1);
    put(size);
    put(usable);
    put(ips[0]);
  } else {
    if (!room(4 + (uint64_t)n)) return 1;
    put((uintptr_t)p | EV_ALLOCN);
    put(size);
    put(usable);
    put_stack(ips, n);
  }
  done_event();
  return 1;
}

int ll__pl_async_free(void *p) {
  if (__builtin_expect(!__libc_single_threaded || ((uintptr_t)p & 7) != 0, 0)) {
    ll__pl_async_stop(0);
    return 0;
  }
  if (!room(1)) return 1;
  put((uintptr_t)p | EV_FREE);
  done_event();
  return 1;
}

/* No alignment check: the real realloc has just accepted `old` (a pointer it does not know
 * makes glibc abort), so it came from the allocator. */
void ll__pl_async_realloc(void *old, void *q, size_t size, size_t usable, const uintptr_t *ips, int n) {
  if (!room(5 + (uint64_t)n)) return;
  put((uintptr_t)old | EV_REALLOC);
  put((uintptr_t)q);
  put(size);
  put(usable);
  put_stack(ips, n);
  done_event();
}
