/* reclock.c - the tracker lock's contended halves: a bounded spin, then a futex sleep; the wake of a sleeper. */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reclock.h"

/* How many times a waiter looks at the word before it sleeps: 100 pauses are about 5 us on the
 * bench machine (46 ns each), many hold times. A holder that lost its CPU is not back within
 * it: the waiter then sleeps rather than keep the CPU the holder needs (2 CPUs there, 8
 * threads in churn_mt8). */
#define LL__LOCK_SPINS 100

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void ll__lock_wait(ll__lock_t *l) {
  for (int i = 0; i < LL__LOCK_SPINS; i++) {
    relax(); /* reading the word between tries keeps its line shared until it is free */
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
