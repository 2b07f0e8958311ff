/* preload_async.h - asynchronous recording: every thread queues events in its own ring, a helper process applies them to the tracker in their global order. */
#ifndef LEAKLAB_PRELOAD_ASYNC_H
#define LEAKLAB_PRELOAD_ASYNC_H
/*
 * Contract: while the helper runs, every thread of the process queues its events in a ring of
 * its own (no lock, no waiting for another thread); each event carries a number from one global
 * sequence, and the helper applies them in that order, which is an order the events really
 * happened in (see preload_async.c). The helper stops only when the recording ends (exit,
 * _exit, a fatal signal, an exec that keeps recording); from then on the caller records
 * in-thread. If the helper dies, recording stops (the state becomes LL__PL_DONE) and
 * ll__pl_async_lost says so. Calls preload_state and the engine (see preload_state.h for the
 * modules' order).
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>

#include "preload_ring.h"
#include "preload_slots.h"
#include "preload_stack.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Nonzero while events go to the helper process. */
extern int ll__pl_async_on;
static inline int ll__pl_async_active(void) { return __atomic_load_n(&ll__pl_async_on, __ATOMIC_RELAXED); }
/* After ll__tracker_share and ll_start, on the process's only thread: fork the helper; 0, or -1
 * (record synchronously). `ring_bytes`: the address space the rings may take. `orphan`: what
 * the helper calls (with ll__pl_helper set) when the program ended without stopping it, after
 * applying every event: write the capture, with how it ended (ll__pl_zombie_end's `how` and
 * `sig`). */
int ll__pl_async_start(size_t ring_bytes, void (*orphan)(int how, int sig));
/* The address space ll__pl_async_start reserves for its rings at most. */
size_t ll__pl_async_reserve(void);
/* Hand an event to the helper: 1 when queued (or dropped because recording is ending), 0 when
 * the helper has stopped and the caller records in-thread. */
int ll__pl_async_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n);
int ll__pl_async_free(void *p);

/* The same for the usual events, inline in the hooks: a free or an allocation by a thread in its
 * own ring while the ring has room and no stamp is due. Exactly the words, number and
 * bookkeeping ll__pl_async_free and ll__pl_async_alloc would write (the caller calls them for
 * every other case). They never touch errno (the hooks save it only off these paths). */
extern __thread slot_t *ll__pl_async_slot __attribute__((tls_model("initial-exec")));
extern ctl_t *ll__pl_async_ctl;
extern uint64_t ll__pl_async_mask;

/* The next number: taken only once the event has room, so every number is written (a plain
 * increment while the process has one thread, else one atomic add: preload_async.c says why that
 * order is exact). */
static inline uint64_t ll__pl_async_take_seq(void) {
  if (__libc_single_threaded) {
    uint64_t q = __atomic_load_n(&ll__pl_async_ctl->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&ll__pl_async_ctl->seq, q + 1, __ATOMIC_RELAXED);
    return q;
  }
  return __atomic_fetch_add(&ll__pl_async_ctl->seq, 1, __ATOMIC_RELAXED);
}

/* An event's first word (written last): the compact header when its number follows the ring's
 * previous one and p packs (preload_ring.h), else the numbered header, p then put at *at. */
static inline uint64_t ll__pl_async_first(slot_t *s, uint64_t num, uintptr_t p, int tag, uint64_t *at) {
  if (__builtin_expect(num == s->pnum + 1 && ll__ring_packs(p), 1)) return ll__ring_compact(p, tag);
  s->w[(*at)++ & ll__pl_async_mask] = p;
  return ll__ring_header(num, tag);
}

/* An event being written by a quick path: its ring, first word (written last), number, and where
 * its next word goes. */
typedef struct ll__pl_qev {
  slot_t *s;
  uint64_t first, num, at;
} ll__pl_qev_t;

/* Open an event in this thread's own ring when the next `words` (ll__pl_async_alloc's and
 * _free's bound: the numbered form) fit below its bound: take its number (a plain increment
 * while the process has one thread, else one atomic add: preload_async.c says why that order
 * is exact), then the compact header when the number follows the ring's previous one, else the
 * numbered header and `p` as a word. 0: the general path (no ring yet, the shared ring, no room
 * known, a stamp due). */
static inline __attribute__((always_inline)) int ll__pl_async_open(ll__pl_qev_t *e, uintptr_t p, int tag,
                                                                   uint64_t words) {
  slot_t *s = ll__pl_async_slot;
  if (__builtin_expect(s == NULL || !ll__ring_packs(p), 0)) return 0;
  if (__builtin_expect(s->head + words > __atomic_load_n(&s->lim, __ATOMIC_RELAXED), 0)) return 0;
  e->s = s;
  e->num = ll__pl_async_take_seq();
  e->at = s->head + 1;
  e->first = ll__pl_async_first(s, e->num, p, tag, &e->at);
  return 1;
}

/* Publish the event written at s's head up to `at` (its number `num`): the word after it zeroed,
 * then its first word, last (the helper may read the event from then on). Every event, the quick
 * ones and preload_async.c's (end(), which says why), goes out here; the line a few events on is
 * claimed for writing meanwhile (ll__ring_claim_ahead). */
static inline void ll__pl_async_publish(slot_t *s, uint64_t first, uint64_t at, uint64_t num) {
  s->w[at & ll__pl_async_mask] = 0;
  __atomic_store_n(&s->w[s->head & ll__pl_async_mask], first, __ATOMIC_RELEASE);
  ll__ring_claim_ahead(s->w, ll__pl_async_mask, at);
  s->head = at;
  s->pnum = num;
}

/* 1 when written; 0: the caller takes the general path (ll__pl_async_free, _alloc). */
static inline __attribute__((always_inline)) int ll__pl_async_free_quick(void *p) {
  ll__pl_qev_t e;
  if (!ll__pl_async_open(&e, (uintptr_t)p, LL__EV_FREE, 2)) return 0;
  ll__pl_async_publish(e.s, e.first, e.at, e.num);
  return 1;
}

static inline __attribute__((always_inline)) int ll__pl_async_alloc1_quick(void *p, size_t size, size_t usable,
                                                                           uintptr_t ip) {
  ll__pl_qev_t e;
  if (!ll__pl_async_open(&e, (uintptr_t)p, LL__EV_ALLOC1, 6)) return 0;
  uint64_t m = ll__pl_async_mask;
  e.s->w[e.at++ & m] = size;
  e.s->w[e.at++ & m] = usable;
  e.s->w[e.at++ & m] = ip;
  ll__pl_async_publish(e.s, e.first, e.at, e.num);
  return 1;
}

/* An allocation with its stack (ips[0..n), innermost first): ALLOC1 when n is 1, else ALLOCN, the
 * stack encoded against the ring's previous one (preload_ring.h). */
static inline __attribute__((always_inline)) int ll__pl_async_alloc_quick(void *p, size_t size, size_t usable,
                                                                          const uintptr_t *ips, int n) {
  if (n == 1) return ll__pl_async_alloc1_quick(p, size, usable, ips[0]);
  ll__pl_qev_t e;
  if (!ll__pl_async_open(&e, (uintptr_t)p, LL__EV_ALLOCN, 5 + (uint64_t)n)) return 0;
  uint64_t m = ll__pl_async_mask;
  e.s->w[e.at++ & m] = size;
  e.s->w[e.at++ & m] = usable;
  ll__ring_put_stack(e.s->w, m, &e.at, ips, n, &e.s->last);
  ll__pl_async_publish(e.s, e.first, e.at, e.num);
  return 1;
}

/* An allocation whose stack the frame-pointer walk gives (ll__pl_walks_fp(frame): this thread's
 * stack is known), walked
 * straight into the ring and compared with the ring's previous stack as it goes: the words and
 * bookkeeping ll__pl_async_alloc_quick writes for that stack, without the copy into a buffer and
 * out again, and without the stack comparison when nothing changed (ll__ring_seal_stack). Only
 * when the deepest walk fits below the bound and does not wrap around the ring's end (room is
 * known before the number is taken, and the walk cannot fail); 0: nothing written. */
static inline __attribute__((always_inline)) int ll__pl_async_alloc_walk_quick(void *p, size_t size, size_t usable,
                                                                               uintptr_t *frame) {
  slot_t *s = ll__pl_async_slot;
  int max = ll__pl_stack_depth;
  if (__builtin_expect(s == NULL || !ll__ring_packs((uintptr_t)p), 0)) return 0;
  uint64_t h = s->head, m = ll__pl_async_mask, words = 5 + (uint64_t)max;
  /* Room below the bound for the numbered form, and that and the zero word after it before the
   * ring's end. */
  if (__builtin_expect(h + words > __atomic_load_n(&s->lim, __ATOMIC_RELAXED) || (h & m) + words > m, 0))
    return 0;
  uint64_t num = ll__pl_async_take_seq(), at = h + 1;
  uint64_t first = ll__pl_async_first(s, num, (uintptr_t)p, LL__EV_ALLOCN, &at);
  uint64_t *b = &s->w[h & m], *q = b + (at - h); /* b[x - h] is the word at x <= h + words: no wrap */
  q[0] = size;
  q[1] = usable;
  uintptr_t *ips = (uintptr_t *)&q[3], diff;
  int n = ll__pl_fp_walk_vs(frame, ips, max, s->last.ips, &diff);
  if (__builtin_expect(n == 1, 0)) { /* ALLOC1, as ll__pl_async_alloc_quick: the caller where the stack went */
    q[2] = ips[0];
    q += 3;
    first = (first & ~(uint64_t)7) | LL__EV_ALLOC1;
  } else {
    q += 2 + ll__ring_seal_stack(&q[2], ips, n, diff == 0 && n == s->last.n, &s->last);
  }
  /* ll__pl_async_publish, with what is known here (neither the event nor the word after it
   * wraps) */
  *q = 0;
  __atomic_store_n(b, first, __ATOMIC_RELEASE);
  at = h + (uint64_t)(q - b);
  ll__ring_claim_ahead(s->w, m, at);
  s->head = at;
  s->pnum = num;
  return 1;
}

/* realloc while the process has one thread: one event after the real realloc (nobody can reuse
 * the old address in between). */
void ll__pl_async_realloc(void *old, void *q, size_t size, size_t usable, const uintptr_t *ips, int n);
/* realloc with several threads: begin before the real realloc (the old block leaves the tracker
 * before another thread can be handed its address), end after it. begin returns 1 when queued
 * (then end must follow), 0 when the caller records in-thread. */
int ll__pl_async_realloc_begin(void *old);
void ll__pl_async_realloc_end(void *q, size_t size, size_t usable, const uintptr_t *ips, int n);
/* Have the helper apply everything queued so far and exit; the tracker is this process's again
 * (events other threads queue meanwhile are dropped: the recording is ending). bounded: from a
 * fatal signal (give up after 2 s). 0, or -1 when the helper died first (the tracker cannot be
 * trusted; recording has stopped and the state is LL__PL_DONE). No-op when not async or in a
 * forked child. */
int ll__pl_async_stop(int bounded);
/* Once stopped, while the process has one thread: give the rings' address space back (no
 * thread can be about to queue). */
void ll__pl_async_release(void);
/* A forked child: its parent's rings are not its own. */
void ll__pl_async_forget(void);
int ll__pl_async_lost(void); /* the helper died before it drained */
/* Events the helper skipped because a thread took a number and never wrote its event (it died
 * inside leaklab, or the program ended while it was there): 0 in a whole recording. */
uint64_t ll__pl_async_holes(void);

#pragma GCC visibility pop

#endif
