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
#include <sys/types.h>
#include <time.h>

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
  ll__ring_stack_t last;  /* the previous stack queued here */
  _Alignas(64) uint64_t tail; /* words applied and cleared, published by the helper */
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

#endif
