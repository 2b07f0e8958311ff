/* preload_apply.c - the async recorder's helper process: finds the events in the rings in number order and applies them to the tracker. */
#include "preload_apply.h"

#include <stdint.h>
#include <unistd.h>

#include "capture_format.h"
#include "engine.h"
#include "preload_ring.h"
#include "preload_slots.h"
#include "preload_state.h"

/*
 * Why: the program's threads only queue events (preload_async.c); this process, forked at
 * start, applies them in their global order (docs/ARCHITECTURE.md, "Threads and the helper").
 * - It finds the event with the next number at the front of some ring (the ring that supplied
 *   the last number first: a thread that runs on makes consecutive numbers; then the one
 *   before it: threads on two cores take numbers turn about), applies it and moves on. It never writes to the rings: the producer zeroes the word after each event, so
 *   their lines stay in the producer's cache; it publishes how far it got (a slot's tail) only
 *   every eighth of a ring and whenever it has caught up.
 * - It sleeps whenever it has caught up and then takes the backlog in one batch: a helper that
 *   polls keeps pulling the rings' lines away from the program's cores (bench/README.md
 *   measured 2.5x against 1.63x). The nap adapts (next_nap) so that a wake finds a 32nd to an
 *   eighth of a ring: a fixed 20 us nap woke 44,000 times in a 10M-event churn, each wake a
 *   system call, a context switch, cold caches, and (on catching up) the rings' front lines and
 *   the stamp request pulled away from the producer again. After IDLE_NS without events it
 *   sleeps 1 ms at a time, and checks that the program still exists.
 * - A number taken and never written (a thread that died inside leaklab) would stop it forever:
 *   once later events wait behind it for HOLE_NS (HOLE_STOP_NS when stopping), it is skipped and
 *   counted (ctl->holes; the capture is marked partial).
 * - It never allocates, and it exits (ll__pl_helper_exit) once every number below the stop
 *   request's is applied.
 */

/* The rings' layout, copied from the program's at the fork. */
static ctl_t *g_ctl;
static char *g_slots;
static size_t g_slot_bytes;
static uint64_t g_words, g_mask;
static pid_t g_owner;
static void (*g_orphaned)(int how, int sig);
static uint64_t g_got;          /* words applied since the last nap */
static long g_nap = SLEEP_NS;   /* the next nap when caught up */

static inline slot_t *slot_at(int i) { return ll__pl_slot(g_slots, g_slot_bytes, i); }

static inline uint64_t rd(const slot_t *s, uint64_t at) { return ll__ring_get(s->w, g_mask, at); }

/* The stack of the event at `at` (its header word), into h_last; the words it took. */
static uint64_t read_stack(slot_t *s, uint64_t at, const uintptr_t **ips, int *n) {
  uint64_t len = ll__ring_read_stack(s->w, g_mask, at, &s->h_last);
  *ips = s->h_last.ips;
  *n = s->h_last.n;
  return len;
}

static void publish_tail(slot_t *s) {
  if (__atomic_load_n(&s->tail, __ATOMIC_RELAXED) != s->ctail) ll__pl_tail_set(s, s->ctail);
}

/* Apply the event at `at` in s (its first word is `h`): the words it took. */
__attribute__((noinline)) static uint64_t apply_one(slot_t *s, uint64_t at, uint64_t h) {
  uint64_t len;
  uintptr_t ip;
  const uintptr_t *ips;
  int n;
  int tag = ll__ring_tag(h);
  if (__builtin_expect(tag == LL__EV_STAMP, 0)) { /* never compact */
    ll__series_event_time(ll__ring_stamp_time(s->w, g_mask, at));
    return LL__RING_STAMP_WORDS;
  }
  /* b: the body after the pointer. */
  uint64_t b = at + 1 + !ll__ring_is_compact(h);
  void *p = (void *)(ll__ring_is_compact(h) ? ll__ring_ptr(h) : (uintptr_t)rd(s, at + 1));
  switch (tag) {
  case LL__EV_FREE:
    ll_track_free(p);
    return b - at;
  case LL__EV_ALLOC1:
    ip = (uintptr_t)rd(s, b + 2);
    ll__track_alloc_ips_c(p, (size_t)rd(s, b), (size_t)rd(s, b + 1), &ip, 1, &s->cache);
    return b + 3 - at;
  case LL__EV_ALLOCN:
    len = b + 2 - at + read_stack(s, b + 2, &ips, &n);
    ll__track_alloc_ips_c(p, (size_t)rd(s, b), (size_t)rd(s, b + 1), ips, n, &s->cache);
    return len;
  case LL__EV_RBEGIN:
    ll_track_realloc_begin(p, &s->tok);
    return b - at;
  case LL__EV_REND: /* new, size, usable, stack */
    len = b + 2 - at + read_stack(s, b + 2, &ips, &n);
    ll__track_realloc_end_ips_c(&s->tok, p, (size_t)rd(s, b), (size_t)rd(s, b + 1), ips, n, &s->cache);
    return len;
  default: { /* LL__EV_REALLOC: old, new, size, usable, stack */
    ll_realloc_token_t tok;
    len = b + 3 - at + read_stack(s, b + 3, &ips, &n);
    ll_track_realloc_begin(p, &tok);
    ll__track_realloc_end_ips_c(&tok, (void *)(uintptr_t)rd(s, b), (size_t)rd(s, b + 1),
                                (size_t)rd(s, b + 2), ips, n, &s->cache);
    return len;
  }
  }
}

/* The number of the event whose first word, at the front of s, is h. */
static inline uint64_t front_number(const slot_t *s, uint64_t h) { return ll__ring_number(h, s->hnum); }

/* Apply the event at the front of s (its first word is h, its number num). */
static inline void apply_front(slot_t *s, uint64_t h, uint64_t num) {
  s->ctail += apply_one(s, s->ctail, h);
  s->hnum = num;
}

/* Apply the events at the front of s while each one is the next in number order (`*next`, or
 * a number below it: a hole skipped earlier that came after all), up to `*next` == `stop_seq`
 * and DRAIN_MAX events (the caller looks at a stop request in between: until it has seen one,
 * events numbered past the request's may be applied too, a longer prefix of the same order).
 * The words applied are never cleared: the producer zeroes the word after each event before
 * publishing it (end()), so the front word is always a header or 0. A single-threaded program's
 * frees and line-level allocations (compact) are decoded here; the rest by apply_one. Nonzero:
 * some applied. */
#define DRAIN_MAX 1024
/* With a live table bigger than the caches (ll__track_far: svd_dict's 1M blocks), every event's
 * bucket is a miss: the buckets of the compact events up to AHEAD further on in the same ring
 * are prefetched (engine_rate --slots 1000000: ~25% fewer ns per event at 16 ahead). A word of
 * 0, or an event of another kind, ends the look ahead until the applying reaches it. */
#define AHEAD 16

/* The words of the compact free or allocation whose header at `at` is h, 0 for any other. */
static inline uint64_t compact_len(const uint64_t *w, uint64_t mask, uint64_t at, uint64_t h) {
  if (!ll__ring_is_compact(h)) return 0;
  switch (ll__ring_tag(h)) {
  case LL__EV_FREE: return 1;
  case LL__EV_ALLOC1: return 4;
  case LL__EV_ALLOCN: /* the pointer, size, usable, then the stack */
    return 3 + ll__ring_stack_words(__atomic_load_n(&w[(at + 3) & mask], __ATOMIC_RELAXED));
  default: return 0;
  }
}

/* Prefetch up to AHEAD events past `at` from *pa on (the first not yet prefetched; *pn of them
 * between at and *pa). */
static inline void look_ahead(const uint64_t *w, uint64_t mask, uint64_t *pa, int *pn) {
  while (*pn < AHEAD) {
    uint64_t g = __atomic_load_n(&w[*pa & mask], __ATOMIC_ACQUIRE), len;
    if (g == 0 || (len = compact_len(w, mask, *pa, g)) == 0) return;
    ll__track_prefetch((const void *)ll__ring_ptr(g));
    *pa += len;
    ++*pn;
  }
}

__attribute__((noinline)) static int drain(slot_t *s, uint64_t *next, uint64_t stop_seq) {
  const uint64_t *w = s->w, mask = g_mask;
  uint64_t at = s->ctail, num = *next, last = s->hnum;
  uint64_t pa = at; /* look_ahead's cursor */
  int pn = 0, far = ll__track_far();
  for (int k = 0; k < DRAIN_MAX && num < stop_seq; k++) {
    if (far) {
      if (pn > 0) pn--;
      else pa = at; /* the look ahead stopped here */
      look_ahead(w, mask, &pa, &pn);
    }
    uint64_t h = __atomic_load_n(&w[at & mask], __ATOMIC_ACQUIRE);
    uint64_t q = ll__ring_number(h, last);
    if (h == 0 || q > num) break;
    int tag = ll__ring_tag(h);
    if (ll__ring_is_compact(h) && tag == LL__EV_FREE) {
      ll_track_free((void *)ll__ring_ptr(h));
      at += 1;
    } else if (ll__ring_is_compact(h) && tag == LL__EV_ALLOC1) {
      uintptr_t ip = (uintptr_t)w[(at + 3) & mask];
      ll__track_alloc_ips_c((void *)ll__ring_ptr(h), (size_t)w[(at + 1) & mask], (size_t)w[(at + 2) & mask],
                            &ip, 1, &s->cache);
      at += 4;
    } else {
      at += apply_one(s, at, h);
    }
    last = q;
    num += q == num;
  }
  int some = at != s->ctail;
  g_got += at - s->ctail;
  s->ctail = at;
  s->hnum = last;
  *next = num;
  /* Give the producer its room back now and then (and whenever we catch up: helper_main). */
  if (at - __atomic_load_n(&s->tail, __ATOMIC_RELAXED) >= g_words / 8) ll__pl_tail_set(s, at);
  return some;
}

/* How long to sleep once caught up: twice as long as last time when this wake found less than a
 * 32nd of a ring, half when it found more than an eighth (the ring then still has room for the
 * program to go on at the same pace through a nap that overshoots several times over). */
static long next_nap(void) {
  if (g_got < g_words / 32 && g_nap < NAP_MAX_NS) g_nap *= 2;
  else if (g_got > g_words / 8 && g_nap > SLEEP_NS) g_nap /= 2;
  g_got = 0;
  return g_nap;
}

/* The front word of every ring: which slot holds number `want`, or a number below it (one that
 * was skipped as a hole and came after all: applied late rather than lost); -1: none. *later:
 * some ring holds an event with a later number (so `want` is on its way, or a hole). */
static int find(uint64_t want, int from, int *later) {
  int n = __atomic_load_n(&g_ctl->nused, __ATOMIC_ACQUIRE);
  *later = 0;
  for (int k = 1, i = from; k <= n; k++) {
    if (++i >= n) i = 0;
    slot_t *s = slot_at(i);
    uint64_t h = __atomic_load_n(&s->w[s->ctail & g_mask], __ATOMIC_ACQUIRE);
    if (h != 0 && front_number(s, h) <= want) return i;
    if (h != 0) *later = 1;
  }
  return -1;
}

/* The program died without asking us to stop (a signal it did not catch): apply every event it
 * wrote, in number order (numbers it took and never wrote are skipped: nobody will write them
 * now), then have the capture written from here. */
static void orphaned(void) __attribute__((noreturn));
static void orphaned(void) {
  /* First, while the program is still a zombie: how it ended. */
  int how = LL_CAP_END_SIGNAL, sig = 0;
  if (ll__pl_zombie_end((int)g_owner, &how, &sig) != 0) {
    how = LL_CAP_END_SIGNAL;
    sig = 0;
  }
  for (;;) {
    int n = __atomic_load_n(&g_ctl->nused, __ATOMIC_ACQUIRE), best = -1;
    uint64_t best_h = 0, best_q = 0;
    for (int i = 0; i < n; i++) {
      slot_t *s = slot_at(i);
      uint64_t h = __atomic_load_n(&s->w[s->ctail & g_mask], __ATOMIC_ACQUIRE);
      if (h == 0) continue;
      uint64_t q = front_number(s, h);
      if (best < 0 || q < best_q) best = i, best_h = h, best_q = q;
    }
    if (best < 0) break;
    apply_front(slot_at(best), best_h, best_q);
  }
  ll__pl_helper = 1;
  if (g_orphaned != NULL) g_orphaned(how, sig);
  ll__pl_helper_exit();
}

void ll__pl_apply_run(const ll__pl_rings_t *r, void (*orphan)(int how, int sig)) {
  g_ctl = r->ctl;
  g_slots = r->slots;
  g_slot_bytes = r->slot_bytes;
  g_words = r->words;
  g_mask = r->words - 1;
  g_owner = r->owner;
  g_orphaned = orphan;
  ll__pl_helper_detach();
  pid_t owner = g_owner;
  __atomic_store_n(&g_ctl->helper_pid, (int)getpid(), __ATOMIC_RELAXED);
  __atomic_store_n(&g_ctl->ready, 1, __ATOMIC_RELEASE);

  uint64_t next = 1, idle_since = now_ns(), stuck_since = 0;
  int cur = 0, alt = 0; /* alt: the ring before cur (two threads running at once alternate) */
  for (;;) {
    int stopping = __atomic_load_n(&g_ctl->stop, __ATOMIC_ACQUIRE);
    uint64_t stop_seq = stopping ? __atomic_load_n(&g_ctl->stop_seq, __ATOMIC_ACQUIRE) : UINT64_MAX;
    if (next >= stop_seq) {
      __atomic_store_n(&g_ctl->acked, 1, __ATOMIC_SEQ_CST);
      for (int k = 0, n = __atomic_load_n(&g_ctl->nused, __ATOMIC_ACQUIRE); k < n; k++)
        if (__atomic_load_n(&slot_at(k)->waiting, __ATOMIC_SEQ_CST)) ll__pl_room_wake(slot_at(k)); /* see acked */
      ll__pl_helper_exit();
    }
    if (drain(slot_at(cur), &next, stop_seq) != 0) { /* the same thread again: the usual case */
      idle_since = stuck_since = 0;
      continue;
    }
    /* Threads on two cores take numbers turn about: the other one's ring is the likely next. */
    if (alt != cur && drain(slot_at(alt), &next, stop_seq) != 0) {
      int t = cur;
      cur = alt, alt = t;
      idle_since = stuck_since = 0;
      continue;
    }
    int later, i = find(next, cur, &later);
    if (i >= 0) {
      alt = cur;
      cur = i;
      idle_since = stuck_since = 0;
      continue;
    }
    /* Caught up, or `next` is still being written: let the producers have their rings back. */
    int n = __atomic_load_n(&g_ctl->nused, __ATOMIC_ACQUIRE);
    for (int k = 0; k < n; k++) publish_tail(slot_at(k));
    uint64_t t = now_ns();
    if (later || stopping) { /* stopping: numbers below stop_seq are all taken */
      if (stuck_since == 0) stuck_since = t;
      if (t - stuck_since > (stopping ? HOLE_STOP_NS : HOLE_NS)) { /* never coming: skip it */
        __atomic_store_n(&g_ctl->holes, g_ctl->holes + 1, __ATOMIC_RELEASE);
        next++;
        stuck_since = 0;
        continue;
      }
      cpu_relax();
      if (t - stuck_since > SLEEP_NS) nap(SLEEP_NS);
      continue;
    }
    stuck_since = 0;
    if (idle_since == 0) idle_since = t;
    /* Caught up: whatever a thread queues next may come after a pause, so it is stamped. */
    for (int k = 0; k < n; k++) {
      slot_t *q = slot_at(k);
      if (__atomic_load_n(&q->lim, __ATOMIC_RELAXED) != 0) __atomic_store_n(&q->lim, 0, __ATOMIC_RELAXED);
    }
    if (t - idle_since < IDLE_NS) {
      nap(next_nap());
    } else {
      if (!ll__pl_pid_alive(owner)) orphaned(); /* killed, or gone without telling us */
      nap(1000000);
    }
  }
}

