/* reclock.c - the tracker lock's contended halves: a bounded spin with growing gaps, then a futex sleep; the wake of a sleeper. */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reclock.h"

/* How long a waiter spins before it sleeps, and how often it looks at the word meanwhile: after
 * 1, 2, 4, ... LL__LOCK_GAP_MAX pauses, 9 looks in 511 pauses, about 23 us on the bench machine
 * (46 ns a pause), many hold times. A holder that lost its CPU is not back within it (a time
 * slice is milliseconds): the waiter then sleeps rather than keep the CPU the holder needs (2
 * CPUs there, 8 threads in churn_mt8).
 * Why the gaps grow (exponential backoff): every look by a waiter on another core takes the
 * word's line from the holder's core, so its next give and take miss; looking after every pause
 * made the lock change cores at almost every event, and with it every line of the tracker's
 * state the event touches (the counters, the traceback, the table's slot): churn_mt8 fell into
 * runs where both cores did nothing else (2-4 s of CPU instead of 0.4-0.8). Looking rarely lets
 * the holder's core take it again for its next events, with the state still in its cache
 * (docs/ARCHITECTURE.md, "The synchronous recorder's lock"). */
#define LL__LOCK_GAP_MAX 256

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void ll__lock_wait(ll__lock_t *l) {
  for (int gap = 1; gap <= LL__LOCK_GAP_MAX; gap *= 2) {
    for (int i = 0; i < gap; i++) relax();
    /* Reading before trying keeps the line shared while the word is held. */
    if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 && ll__lock_try(l)) return;
  }
  /* Sleep until the word is given back, marking it 2 so that its giver wakes a sleeper. A
   * spinner may take the word with 1 meanwhile: the sleeper woken then marks it 2 again. */
  int saved = errno;
  while (atomic_exchange_explicit(&l->v, 2, memory_order_acquire) != 0)
    syscall(SYS_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
  errno = saved;
}

void ll__lock_wake(ll__lock_t *l) {
  int saved = errno;
  syscall(SYS_futex, &l->v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  errno = saved;
}
