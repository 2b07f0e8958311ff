/* reclock.h - the tracker's lock: one word that a waiter spins on briefly before it sleeps on a futex (the recording paths hold it for tens of nanoseconds). */
#ifndef LEAKLAB_RECLOCK_H
#define LEAKLAB_RECLOCK_H
/*
 * Contract: a mutual-exclusion lock, zero-initialised unlocked (LL__LOCK_INIT), not recursive,
 * no owner: ll__lock_take returns with it held, ll__lock_try takes it when free (1) or not (0),
 * ll__lock_give releases it (by the holder). Taking has acquire and giving release ordering,
 * so everything a holder did happens before what the next holder does (ThreadSanitizer sees
 * that through the atomics). Never sets errno. ll__lock_forked: in a fork child, held by the
 * forking thread (the child's only thread), it becomes free without a wake.
 *
 * Why not pthread_mutex_t: glibc's default mutex sleeps in the kernel at the first failed
 * attempt, and every release after that pays a futex wake; a tracker event holds the lock for
 * tens of nanoseconds, far less than a sleep and a wake-up, so a waiter that spins a little
 * (bounded: on 2 CPUs a long spin steals the holder's) almost always gets it without either.
 * The waiter looks at the word at growing gaps (reclock.c): not fair, on purpose, as the
 * holder's core taking it again finds the tracker's lines in its cache
 * (docs/ARCHITECTURE.md, "The synchronous recorder's lock").
 */
#include <stdatomic.h>

/* 0 free, 1 held, 2 held and a waiter may sleep (its giver must wake one). */
typedef struct ll__lock {
  atomic_int v;
} ll__lock_t;
#define LL__LOCK_INIT {0}

/* The contended halves (reclock.c). */
void ll__lock_wait(ll__lock_t *l);
void ll__lock_wake(ll__lock_t *l);

static inline int ll__lock_try(ll__lock_t *l) {
  int z = 0;
  return atomic_compare_exchange_strong_explicit(&l->v, &z, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}

static inline void ll__lock_take(ll__lock_t *l) {
  if (__builtin_expect(!ll__lock_try(l), 0)) ll__lock_wait(l);
}

static inline void ll__lock_give(ll__lock_t *l) {
  if (__builtin_expect(atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2, 0))
    ll__lock_wake(l);
}

static inline void ll__lock_forked(ll__lock_t *l) {
  atomic_store_explicit(&l->v, 0, memory_order_relaxed);
}

#endif
