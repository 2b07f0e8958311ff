/* preload_slots.h - the async recorder's shared memory: a ring slot per thread, the control block, their sizes and clocks. */
#ifndef LL_PRELOAD_SLOTS_H
#define LL_PRELOAD_SLOTS_H

/*
 * Contract: the layout the program's threads and the helper process share (preload_async.c
 * maps it before the helper, preload_apply.c, forks, so both see the same addresses). A slot's
 * producer fields are written only by the thread that owns it, its helper fields only by the
 * helper; `tail` is the one the helper publishes to the producer. Words of w[] are encoded by
 * preload_ring.h.
 * The small clock and wait helpers are here so both sides use one definition.
 */

#include <stddef.h>
#include <stdint.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "preload_ring.h"
#include "preload_state.h"

#define NSLOTS 64
#define SHARED_SLOT (NSLOTS - 1) /* threads beyond the others' count, under g_shared_lock */
#define RING_WORDS_MAX (1u << 17) /* 1 MiB per ring: about 30,000 events */
#define SLEEP_NS 20000 /* the shortest nap: waiting for room, for the helper, for a number */
#define NAP_MAX_NS (32 * SLEEP_NS) /* the helper's longest nap while events keep coming */
#define IDLE_NS 50000000 /* 50 ms without events: sleep 1 ms at a time, check the program */
#define HOLE_NS 2000000000u
#define HOLE_STOP_NS 100000000u

#define STAMP_EVERY 2048 /* words of a ring between two stamps at most (some 400 events) */

_Static_assert(LL__RING_MAX_FRAMES >= LL__PL_MAX_FRAMES, "a ring's stacks hold the deepest walk");

typedef struct slot {
  /* The producer's side (the owning thread; handed on with the slot, like the helper's side). */
  _Alignas(64) int owner; /* tid; 0: free; -1: the shared slot */
  uint64_t head;          /* words written */
  uint64_t seen_tail;     /* the helper's tail as last read */
  uint64_t stamp_due;     /* a stamp goes before the first event reaching past this position */
  uint64_t lim; /* head + w <= lim: w words fit, no stamp due; the helper's 0 asks for one */
  uint64_t pnum;          /* the number of the last event written here (compact headers) */
  int waiting;            /* the producer sleeps until the helper gives room back (ll__pl_tail_set) */
  ll__ring_stack_t last;  /* the previous stack queued here */
  _Alignas(64) uint64_t tail; /* words applied and cleared, published by the helper */
  uint32_t tail_gen;      /* bumped with each publication of tail: the sleeping producer's futex */
  /* The helper's side. */
  _Alignas(64) uint64_t ctail;
  uint64_t hnum; /* the number of the last event applied from here (compact headers) */
  ll_realloc_token_t tok;
  ll__tbcache_t cache;
  ll__ring_stack_t h_last;
  _Alignas(4096) uint64_t w[];
} slot_t;

typedef struct ctl {
  _Alignas(64) uint64_t seq; /* the next number (the first is 1) */
  _Alignas(64) int stop;     /* the program asks: apply every number below stop_seq, then exit */
  int acked;                 /* the helper: done and gone; the tracker is the program's */
  int ready;                 /* the helper is running */
  int helper_pid;
  int nused;                 /* slots [0, nused) may hold events */
  uint64_t stop_seq, holes;
} ctl_t;

/* The shared mapping as both sides see it: the control block, nslots slots of slot_bytes each
 * (a ring of `words` words, a power of two, in each), and the process whose events they carry. */
typedef struct ll__pl_rings {
  ctl_t *ctl;
  char *slots;
  size_t slot_bytes;
  uint64_t words;
  pid_t owner;
} ll__pl_rings_t;

static inline slot_t *ll__pl_slot(char *slots, size_t slot_bytes, int i) {
  return (slot_t *)(slots + (size_t)i * slot_bytes);
}

static inline void nap(long ns) { nanosleep(&(struct timespec){0, ns}, NULL); }

/* A spin-wait hint to the CPU (the other hyperthread, or the hypervisor, gets the cycles). */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static inline uint64_t now_ns(void) { return ll__pl_clock_ns(CLOCK_MONOTONIC); }

/* Wake s's producer if it sleeps (also when the helper stops, after setting `acked`). */
static inline void ll__pl_room_wake(slot_t *s) {
  syscall(SYS_futex, &s->tail_gen, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* The helper gives s's producer room back up to `tail`, and wakes it when it sleeps for room.
 * With waiting's store and tail's load in ll__pl_room_sleep (all sequentially consistent),
 * either the producer sees the new tail or this sees it waiting: no lost wake-up. Called once
 * per eighth of a ring at most, and when the helper has caught up. */
static inline void ll__pl_tail_set(slot_t *s, uint64_t tail) {
  __atomic_store_n(&s->tail, tail, __ATOMIC_SEQ_CST);
  __atomic_store_n(&s->tail_gen, s->tail_gen + 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST)) ll__pl_room_wake(s);
}

/* The producer: sleep until the helper publishes a tail past `seen`, sets *acked (it stops), or
 * `ns` pass (to check that it is alive); returns at once when one of them has happened. Shared
 * futex: the helper is another process. */
static inline void ll__pl_room_sleep(slot_t *s, uint64_t seen, const int *acked, long ns) {
  uint32_t gen = __atomic_load_n(&s->tail_gen, __ATOMIC_SEQ_CST);
  __atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&s->tail, __ATOMIC_SEQ_CST) == seen && !__atomic_load_n(acked, __ATOMIC_SEQ_CST))
    syscall(SYS_futex, &s->tail_gen, FUTEX_WAIT, gen, &(struct timespec){ns / 1000000000, ns % 1000000000},
            NULL, 0);
  __atomic_store_n(&s->waiting, 0, __ATOMIC_RELAXED);
}

#endif
