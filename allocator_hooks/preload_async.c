/* preload_async.c - asynchronous recording, the program's side: every thread queues its events in a ring of its own; starting and stopping the helper that applies them. */
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

#include "capture_format.h"
#include "engine.h"
#include "preload_apply.h"
#include "preload_ring.h"
#include "preload_slots.h"
#include "preload_state.h"

/*
 * Why: applying an event to the tracker (live table, interning, per-site sums, peak) is most of
 * what recording costs the program (bench/README.md, "The floor"). Here the program's threads
 * only append events to rings in shared memory; a helper process forked at start
 * (preload_apply.c) applies them to the tracker, whose whole state was moved to shared memory
 * (ll__tracker_share). When the recording ends (exit, _exit, a fatal signal, an exec that keeps
 * recording) the helper applies what was queued and exits; from then on the program owns the
 * tracker again and writes the capture as usual.
 *
 * Exactness (docs/ARCHITECTURE.md, "Threads and the helper"): every event takes a number from
 * one global sequence, at the point the synchronous recorder would take the tracker's lock: an
 * allocation after the real allocator returned, a free before the real free, a realloc twice
 * (its old block out before the real call, the new one in after it). The helper applies the
 * events in that order, one number after the other. The order is one the events really had:
 * if an event could only happen after another (a block freed by thread B after thread A
 * allocated it and handed it over; an address handed out again after its free), the first one
 * took its number before the second could start, and numbers come from one counter, whose
 * values follow that order. So every figure, the peak included, is the one of that
 * interleaving, the same the synchronous recorder's lock would have produced for it.
 *
 * - A ring per thread (a slot, handed to a thread at its first event and taken back once the
 *   thread is gone): one producer per ring, no lock; a thread never waits for another one,
 *   only for the helper when its own ring is full (asleep on a futex until the helper gives
 *   room back, an eighth of the ring at a time: one wake-up, not one per 20 us nap; churn_mt8
 *   made 20,000 context switches a run napping, 4,000 asleep). More threads at once than
 *   slots share the last slot under a lock. While the process has one thread the number is a
 *   plain increment (glibc clears __libc_single_threaded before a second thread exists);
 *   after, one atomic add.
 * - An event's first word is (number << 3 | tag), or the compact (1 << 63 | ptr | tag), written
 *   last, after the word that follows the event was zeroed (a zero word is an empty place), so
 *   no head pointer is published per event. The encoding is preload_ring.h's.
 * - The usual events (a free, an allocation at any depth, by a thread in its own ring, with
 *   room known and no stamp due; one thread or several) are written by the hooks inline
 *   (preload_async.h's quick paths: the same words, number and bookkeeping as open_ev and end
 *   here, no call, errno untouched); every other one comes here.
 * - Time: the helper applies events late, so memory over time never reads its clock: threads
 *   queue STAMP events (the program's CLOCK_MONOTONIC) now and then, and the helper hands them
 *   to the engine (ll__series_event_time). When: docs/ARCHITECTURE.md, "Time".
 * - The helper is not the program's child (double fork with _Fork: no atfork handler runs, and
 *   the program's wait() never sees it). It has its own session (terminal signals do not reach
 *   it), blocks every signal, and closes every file descriptor, so a pipe the program shares
 *   closes when the program ends. It never allocates.
 * - If the helper dies, nothing applied since can be trusted: recording stops, the capture is
 *   written with the process facts only, marked so (LL_CAP_F_HELPER_LOST), and leaklab says so.
 */

int ll__pl_async_on;          /* events go to the rings (read by the hooks) */
ctl_t *ll__pl_async_ctl; /* read inline by the hooks (preload_async.h) */
static char *g_slots;         /* nslots slots of g_slot_bytes */
static size_t g_slot_bytes, g_map_len;
static uint64_t g_words; /* ring size in words, a power of two */
uint64_t ll__pl_async_mask; /* g_words - 1 */
static uint64_t g_room; /* words a producer may be ahead of the helper: g_words - 1 (end()'s zero word) */
static int g_lost;            /* the helper died before it drained */
static pid_t g_owner;         /* the process whose events the rings carry */
static pthread_mutex_t g_stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_shared_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*g_orphaned)(int how, int sig); /* the helper writes the capture of a program that
                                                 ended without writing it */

/* This thread's slot (NULL until its first event) and its id. */
__thread slot_t *ll__pl_async_slot __attribute__((tls_model("initial-exec")));
static __thread int t_tid __attribute__((tls_model("initial-exec")));

static inline slot_t *slot_at(int i) { return ll__pl_slot(g_slots, g_slot_bytes, i); }

/* ---- the program's side -------------------------------------------------------------------- */

size_t ll__pl_async_reserve(void) {
  return 4096 + (size_t)NSLOTS * (sizeof(slot_t) + RING_WORDS_MAX * sizeof(uint64_t));
}

int ll__pl_async_start(size_t ring_bytes, void (*orphan)(int how, int sig)) {
  g_orphaned = orphan;
  /* Smaller rings when the address space is tight (RLIMIT_AS), down to 64 KiB each. */
  uint64_t words = RING_WORDS_MAX;
  while (words > 8192 && 4096 + (size_t)NSLOTS * (sizeof(slot_t) + words * 8) > ring_bytes) words /= 2;
  g_words = words;
  ll__pl_async_mask = words - 1;
  g_room = words - 1;
  g_slot_bytes = sizeof(slot_t) + words * sizeof(uint64_t);
  size_t len = 4096 + (size_t)NSLOTS * g_slot_bytes;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return -1;
  ll__pl_async_ctl = (ctl_t *)m;
  g_map_len = len;
  g_slots = m + 4096;
  ll__pl_async_ctl->seq = 1;
  ll__pl_async_ctl->nused = 1;
  slot_at(SHARED_SLOT)->owner = -1;
  t_tid = (int)syscall(SYS_gettid);
  slot_at(0)->owner = t_tid;
  ll__pl_async_slot = slot_at(0);
  g_owner = getpid();
  pid_t mid = _Fork();
  if (mid == 0) {
    if (_Fork() == 0) {
      ll__pl_rings_t r = {ll__pl_async_ctl, g_slots, g_slot_bytes, g_words, g_owner};
      ll__pl_apply_run(&r, g_orphaned);
    }
    ll__pl_helper_exit(); /* the middle process: its child is now nobody's but init's */
  }
  if (mid < 0) goto fail;
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  /* Usually ready within a few microseconds; give up after 2 s (no helper). */
  for (uint64_t t0 = now_ns(); !__atomic_load_n(&ll__pl_async_ctl->ready, __ATOMIC_ACQUIRE);) {
    if (now_ns() - t0 > 2000000000u) goto fail;
    nap(SLEEP_NS);
  }
  __atomic_store_n(&ll__pl_async_on, 1, __ATOMIC_RELEASE);
  return 0;
fail:
  /* A helper that starts after all finds stop set at once; the rings stay mapped for it. */
  __atomic_store_n(&ll__pl_async_ctl->stop, 1, __ATOMIC_RELEASE);
  return -1;
}

int ll__pl_async_lost(void) { return g_lost; }
uint64_t ll__pl_async_holes(void) {
  return ll__pl_async_ctl != NULL ? __atomic_load_n(&ll__pl_async_ctl->holes, __ATOMIC_ACQUIRE) : 0;
}

static void helper_lost(void) {
  if (__atomic_exchange_n(&g_lost, 1, __ATOMIC_SEQ_CST)) return;
  __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
  ll__pl_say("leaklab: the recording helper process died; recording stops here, and the capture will "
      "hold the process facts only\n");
}

/* Whether the helper died without having stopped (then said, by helper_lost); looked at only
 * once 10 ms have passed since *checked. */
static int helper_died(uint64_t t, uint64_t *checked) {
  if (t - *checked <= 10000000) return 0;
  *checked = t;
  if (ll__pl_pid_alive(ll__pl_async_ctl->helper_pid) || __atomic_load_n(&ll__pl_async_ctl->acked, __ATOMIC_ACQUIRE))
    return 0;
  helper_lost();
  return 1;
}

/* A slot for this thread: a free one, else one whose thread is gone (its events were all
 * written: a thread leaves leaklab's code before it can end), else the shared one (NULL). */
__attribute__((noinline)) static slot_t *claim_slot(void) {
  if (t_tid == 0) t_tid = (int)syscall(SYS_gettid);
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < SHARED_SLOT; i++) {
      slot_t *s = slot_at(i);
      int o = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
      if (pass == 0 ? o != 0 : o <= 0 || o == t_tid || syscall(SYS_tgkill, (int)g_owner, o, 0) == 0 || errno != ESRCH)
        continue;
      if (!__atomic_compare_exchange_n(&s->owner, &o, t_tid, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) continue;
      int n = __atomic_load_n(&ll__pl_async_ctl->nused, __ATOMIC_RELAXED);
      while (n <= i && !__atomic_compare_exchange_n(&ll__pl_async_ctl->nused, &n, i + 1, 0, __ATOMIC_SEQ_CST,
                                                    __ATOMIC_RELAXED)) {
      }
      return ll__pl_async_slot = s;
    }
  }
  int n = __atomic_load_n(&ll__pl_async_ctl->nused, __ATOMIC_RELAXED);
  while (n < NSLOTS && !__atomic_compare_exchange_n(&ll__pl_async_ctl->nused, &n, NSLOTS, 0, __ATOMIC_SEQ_CST,
                                                    __ATOMIC_RELAXED)) {
  }
  return NULL; /* ll__pl_async_slot stays NULL: this thread tries again next time */
}

/* Wait for the helper to free `need` words of s; 0, or -1 when it is gone (checked every 10 ms):
 * stopped normally (the event is dropped) or died. */
static int wait_room(slot_t *s, uint64_t need) {
  uint64_t checked = now_ns();
  for (unsigned spins = 0;; spins++) {
    s->seen_tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
    if (s->head + need - s->seen_tail <= g_room) return 0;
    if (__atomic_load_n(&ll__pl_async_ctl->acked, __ATOMIC_ACQUIRE)) return -1;
    if (spins < 64) {
      cpu_relax();
      continue;
    }
    /* Until the helper gives room back (an eighth of the ring at a time): one wake-up, not one
     * per nap. At most 10 ms, to see whether it is still there. */
    ll__pl_room_sleep(s, s->seen_tail, &ll__pl_async_ctl->acked, 10000000);
    if (helper_died(now_ns(), &checked)) {
      __atomic_store_n(&ll__pl_async_on, 0, __ATOMIC_RELEASE);
      return -1;
    }
  }
}

static int begin_slow(slot_t *s, uint64_t words);

/* This thread's ring with room for `words` (a stamp queued before them when one is due),
 * locked when it is the shared one; NULL: drop the event (the helper is gone). */
static inline slot_t *begin(uint64_t words, int *locked) {
  slot_t *s = ll__pl_async_slot;
  *locked = 0;
  if (__builtin_expect(s == NULL, 0) && (s = claim_slot()) == NULL) {
    pthread_mutex_lock(&g_shared_lock);
    *locked = 1;
    s = slot_at(SHARED_SLOT);
  }
  if (__builtin_expect(s->head + words <= __atomic_load_n(&s->lim, __ATOMIC_RELAXED), 1) || begin_slow(s, words) == 0)
    return s;
  if (*locked) pthread_mutex_unlock(&g_shared_lock);
  *locked = 0;
  return NULL;
}

static inline void put(slot_t *s, uint64_t *at, uint64_t x) {
  s->w[(*at)++ & ll__pl_async_mask] = x;
}

/* An event being written: its first word (written last, by end()), its number, where its next
 * word goes. */
typedef struct ev {
  uint64_t first, num, at;
} ev_t;

/* Start an event at s's head once begin() found it room: its number, and `p` in the compact
 * header when the number follows the ring's previous one (preload_ring.h), else as a word. */
static inline ev_t open_ev(slot_t *s, int tag, uintptr_t p) {
  ev_t e = {0, ll__pl_async_take_seq(), s->head + 1};
  e.first = ll__pl_async_first(s, e.num, p, tag, &e.at);
  return e;
}

/* The event's first word, last: the helper may read it (and the words before) from now on. The
 * word after the event is zeroed first: the next event's header goes there, and until then the
 * helper must find "nothing yet" there, not a word of the ring's previous lap (so the helper
 * never writes to the rings: they stay in the producer's cache). pnum moves only once the event
 * is whole: a thread that dies halfway leaves no number a compact header would count on. */
static inline void end(slot_t *s, const ev_t *e, int locked) {
  ll__pl_async_publish(s, e->first, e->at, e->num);
  if (locked) pthread_mutex_unlock(&g_shared_lock);
}

/* The stack's header and the frames that differ from the previous stack queued in this ring
 * (the common tail, towards main, is usually most of it). */
static inline void put_stack(slot_t *s, uint64_t *at, const uintptr_t *ips, int n) {
  ll__ring_put_stack(s->w, ll__pl_async_mask, at, ips, n, &s->last);
}

/* begin() past its bound: wait for room, queue the time when a stamp is due (the helper asks
 * again if its request is overwritten here), set the bound again. 0, or -1: the helper is gone. */
__attribute__((noinline)) static int begin_slow(slot_t *s, uint64_t words) {
  uint64_t need = words + LL__RING_STAMP_WORDS;
  if (s->head + need - s->seen_tail > g_room && wait_room(s, need) != 0) return -1;
  if (s->head + words > s->stamp_due || __atomic_load_n(&s->lim, __ATOMIC_RELAXED) == 0) {
    ev_t e = {ll__ring_header(ll__pl_async_take_seq(), LL__EV_STAMP), 0, s->head + 1};
    e.num = ll__ring_number(e.first, 0);
    ll__ring_put_stamp(s->w, ll__pl_async_mask, &e.at, now_ns());
    s->stamp_due = e.at + STAMP_EVERY;
    end(s, &e, 0);
  }
  uint64_t room = s->seen_tail + g_room;
  __atomic_store_n(&s->lim, room < s->stamp_due ? room : s->stamp_due, __ATOMIC_RELAXED);
  return 0;
}

int ll__pl_async_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n) {
  int locked;
  slot_t *s = begin(5 + (uint64_t)n, &locked);
  if (s == NULL) return ll__pl_async_active() ? 1 : 0;
  ev_t e = open_ev(s, n == 1 ? LL__EV_ALLOC1 : LL__EV_ALLOCN, (uintptr_t)p);
  put(s, &e.at, size);
  put(s, &e.at, usable);
  if (n == 1) {
    put(s, &e.at, ips[0]);
  } else {
    put_stack(s, &e.at, ips, n);
  }
  end(s, &e, locked);
  return 1;
}

int ll__pl_async_free(void *p) {
  int locked;
  slot_t *s = begin(2, &locked);
  if (s == NULL) return ll__pl_async_active() ? 1 : 0;
  ev_t e = open_ev(s, LL__EV_FREE, (uintptr_t)p);
  end(s, &e, locked);
  return 1;
}

void ll__pl_async_realloc(void *old, void *q, size_t size, size_t usable, const uintptr_t *ips, int n) {
  int locked;
  slot_t *s = begin(6 + (uint64_t)n, &locked);
  if (s == NULL) return;
  ev_t e = open_ev(s, LL__EV_REALLOC, (uintptr_t)old);
  put(s, &e.at, (uintptr_t)q);
  put(s, &e.at, size);
  put(s, &e.at, usable);
  put_stack(s, &e.at, ips, n);
  end(s, &e, locked);
}

/* The shared slot stays locked from begin to end: the helper keeps one realloc token per ring. */
static __thread int t_realloc_locked __attribute__((tls_model("initial-exec")));

int ll__pl_async_realloc_begin(void *old) {
  int locked;
  slot_t *s = begin(2, &locked);
  if (s == NULL) return ll__pl_async_active() ? 1 : 0;
  ev_t e = open_ev(s, LL__EV_RBEGIN, (uintptr_t)old);
  end(s, &e, 0);
  t_realloc_locked = locked;
  return 1;
}

void ll__pl_async_realloc_end(void *q, size_t size, size_t usable, const uintptr_t *ips, int n) {
  int locked = t_realloc_locked;
  slot_t *s = locked ? slot_at(SHARED_SLOT) : ll__pl_async_slot;
  t_realloc_locked = 0;
  if (s->head + 5 + (uint64_t)n - s->seen_tail > g_room && wait_room(s, 5 + (uint64_t)n) != 0) {
    if (locked) pthread_mutex_unlock(&g_shared_lock);
    return;
  }
  ev_t e = open_ev(s, LL__EV_REND, (uintptr_t)q);
  put(s, &e.at, size);
  put(s, &e.at, usable);
  put_stack(s, &e.at, ips, n);
  end(s, &e, locked);
}

int ll__pl_async_stop(int bounded) {
  if (!__atomic_load_n(&ll__pl_async_on, __ATOMIC_ACQUIRE)) return g_lost ? -1 : 0;
  if (getpid() != g_owner) return 0; /* a forked child: the rings are its parent's */
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
    /* Every number below this one is applied; later ones are dropped (but for those the
     * helper applied, in order, before it saw the request: drain()). */
    uint64_t stop_seq = __atomic_fetch_add(&ll__pl_async_ctl->seq, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ll__pl_async_ctl->stop_seq, stop_seq, __ATOMIC_RELEASE);
    __atomic_store_n(&ll__pl_async_ctl->stop, 1, __ATOMIC_RELEASE);
    uint64_t start = now_ns(), checked = start;
    while (!__atomic_load_n(&ll__pl_async_ctl->acked, __ATOMIC_ACQUIRE)) {
      nap(SLEEP_NS);
      uint64_t t = now_ns();
      if (helper_died(t, &checked)) break;
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

void ll__pl_async_release(void) {
  if (ll__pl_async_active() || ll__pl_async_ctl == NULL || !__libc_single_threaded || getpid() != g_owner)
    return;
  uint64_t holes = ll__pl_async_holes();
  if (holes != 0) return; /* said at the capture: keep the count */
  munmap(ll__pl_async_ctl, g_map_len);
  ll__pl_async_ctl = NULL;
}

void ll__pl_async_forget(void) { __atomic_store_n(&ll__pl_async_on, 0, __ATOMIC_RELEASE); }
