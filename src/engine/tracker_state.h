/* tracker_state.h - the tracker's variables (T) and its lock, shared by tracker.c (API, queries) and tracker_record.c (the recording paths). */
#ifndef LEAKLAB_TRACKER_STATE_H
#define LEAKLAB_TRACKER_STATE_H
/*
 * Contract: internal to the tracker's two files. Everything in ll__T is guarded by ll__tlock,
 * except `tracing`, which is also read without it so that untraced calls cost one relaxed load
 * (they re-check under the lock). ll__T is page-aligned and page-sized so that
 * ll__tracker_share can hand exactly its pages to a helper process.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>

#include "engine.h"
#include "intern.h"
#include "livetable.h"
#include "reclock.h"
#include "series.h"

typedef struct __attribute__((aligned(4096))) ll__tstate {
  /* The counters and flags every event reads or writes come first, in two cache lines: with
   * several threads the lock's holder moves between cores and each line it touches is a miss
   * for the next holder (docs/ARCHITECTURE.md, "The synchronous recorder's lock"). */
  atomic_int tracing;
  int limit; /* traceback limit */
  /* Nonzero while a recording path changes the state (ll__rec_busy): what a process that shares
   * the state (ll__tracker_share) reads after the recording process was killed. */
  volatile int busy;
  /* Bumped when traceback ids or live records are forgotten (start, stop, clear), so a realloc
   * token taken before cannot restore a stale record. */
  uint32_t epoch;
  uint64_t current, peak;
  /* Peak generation: bumped whenever the peak moves (and at start, reset_peak, clear). A
   * traceback whose pk_gen differs has not changed since the peak: its cur values are the peak
   * values. See tb_touch in tracker_record.c. */
  uint64_t gen;
  uint64_t total_allocs, total_bytes;
  uintptr_t last_alloc; /* the most recent allocation, for temporaries */
  /* Memory over time per traceback (series.h): sampled every series->stride allocations, and
   * whenever current leaves [series_lo, series_lo + series_w] (it moved by a step since the
   * last point: one unsigned compare tells both ways); a traceback whose bytes pass series_thr
   * (peak / LL__SERIES_SHARE) becomes a column. */
  uint64_t series_thr, series_next, peak_clock, series_lo, series_w;
  uint64_t tbgen; /* bumped when traceback ids are forgotten: per-thread caches expire */
  uint64_t untracked_allocs, untracked_bytes;
  ll__livetab_t live;
  ll__intern_t in;
  uint64_t hist_counts[LL__HIST_BUCKETS], hist_bytes[LL__HIST_BUCKETS];
  ll__series_t *series;
  /* When the peak rose (ll__series_time), dated at the allocation peak_t_clock: at most
   * LL__SERIES_PEAK_DATE allocations before peak_clock; 0 when not yet. */
  uint64_t peak_t, peak_t_clock;
  char *program; /* mmap'd copy, survives stop */
  size_t program_bytes;
} ll__tstate_t;
_Static_assert(offsetof(ll__tstate_t, untracked_bytes) < 128, "an event's fields in two lines");

extern ll__tstate_t ll__T;
extern ll__lock_t ll__tlock;

static inline int ll__tracing_fast(void) {
  return atomic_load_explicit(&ll__T.tracing, memory_order_relaxed);
}

/* The recording paths' lock (reclock.h: it spins briefly before it sleeps, as an event holds
 * it for tens of nanoseconds). While the process has one thread nobody can race with it, and
 * the lock is skipped, as glibc's malloc skips its arena locks then: glibc clears
 * __libc_single_threaded in pthread_create before the second thread exists (so it is false
 * whenever one may exist), and the one thread cannot create another while it is in here. A
 * signal handler on it cannot enter either (the preload's guard). Returns whether it locked;
 * the caller passes that to ll__rec_unlock. */
/* Marks the state as being changed (1) or whole again (0). A thread killed outright (SIGKILL)
 * stops between two of its instructions, and every store it made before is seen by whoever
 * reads the shared state after its death: only the compiler may not move the state's changes
 * across the mark, so a compiler barrier is all it takes (two plain stores per event). */
static inline void ll__rec_busy(int on) {
  atomic_signal_fence(memory_order_seq_cst);
  ll__T.busy = on;
  atomic_signal_fence(memory_order_seq_cst);
}

static inline int ll__rec_lock(void) {
  int locked = 0;
  if (!__libc_single_threaded) {
    ll__lock_take(&ll__tlock);
    locked = 1;
  }
  ll__rec_busy(1);
  return locked;
}
static inline void ll__rec_unlock(int locked) {
  ll__rec_busy(0);
  if (locked) ll__lock_give(&ll__tlock);
}

/* A point of memory over time (series.h), due or forced (LL__SERIES_STEPPED, LL__SERIES_FINAL);
 * the next one is due a stride later, or once current moves a step away. Lock held. */
void ll__tracker_series_sample(int force);
/* No point due: neither a stride of allocations nor a step of bytes away (no series). */
void ll__tracker_series_none(void);

#endif
