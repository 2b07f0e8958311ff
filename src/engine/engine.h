/* engine.h - internals of the tracking engine shared across files (preload, reports). */
#ifndef LEAKLAB_ENGINE_H
#define LEAKLAB_ENGINE_H
/*
 * Contract: same rules as leaklab.h (thread-safe, no malloc, program never harmed). These are
 * for leaklab's own parts (the preload library, the capture writer), not for users.
 */
#include <stdint.h>

#include <leaklab/leaklab.h>

/* Native recording (the preload): ips are return addresses, ips[0] the innermost (the caller of
 * malloc). Interned as they are; snapshots show them as frames with `ip` set, filename
 * "<unknown>", function "", lineno 0, for report-time symbolisation.
 *
 * A thread's last native stack and its traceback id, owned by the caller (the preload keeps one
 * per thread, zero-initialised): when the next stack is the same, frame for frame, interning is
 * skipped. Stacks deeper than LL__TBCACHE_MAX frames are not cached. */
#define LL__TBCACHE_MAX 64
typedef struct ll__tbcache {
  uint64_t gen; /* the tracker's traceback generation when filled (0: empty) */
  uint32_t id, n, total, pad_;
  uintptr_t ips[LL__TBCACHE_MAX];
} ll__tbcache_t;
/* ll_track_alloc and ll_track_realloc_end for native stacks, with the caller's cache (NULL:
 * none). */
void ll__track_alloc_ips_c(void *ptr, size_t size, size_t usable, const uintptr_t *ips, int nip,
                           ll__tbcache_t *cache);
void ll__track_realloc_end_ips_c(ll_realloc_token_t *tok, void *new_ptr, size_t size,
                                 size_t usable, const uintptr_t *ips, int nip,
                                 ll__tbcache_t *cache);

/* Start loading the live-table bucket of ptr (an event to be applied soon): worth its call only
 * while ll__track_far(), the live table larger than LL__FAR_BYTES (about a core's L2). */
#define LL__FAR_BYTES (1u << 20)
void ll__track_prefetch(const void *ptr);
int ll__track_far(void);

/* Count allocations the caller could not record (the preload's queue for signal handlers was
 * full) as untracked: `count` blocks of `bytes` in all. No-op when not tracing. */
void ll__track_untracked(uint64_t count, uint64_t bytes);

/* The preload's exit and crash path: stop every thread from entering the tracker by holding its
 * lock (waiting at most wait_ms for a thread inside to leave); this thread's queries (snapshots,
 * counters) then run without taking the lock. 1 when held, 0 when another thread kept the lock
 * (it may have stopped inside the tracker: only a partial capture is safe). ll__tracker_thaw
 * gives the lock back (no-op when this thread does not hold it). */
int ll__tracker_freeze(int wait_ms);
void ll__tracker_thaw(void);

/* Asynchronous recording (the preload): put the tracker's whole state (its variables and every
 * table it will map, carved from `reserve` bytes of address space) in memory shared with
 * processes forked afterwards. A helper process forked then can apply the events, and once it
 * has stopped, this process owns the state again and reads it as usual. Only before ll_start,
 * while single-threaded. 0; LL_EINVAL when tracing or tables already exist; LL_ENOMEM when the
 * memory could not be mapped (nothing changed unless the tables' region was reserved; the
 * tracker works as before either way). */
int ll__tracker_share(size_t reserve);
/* Whether the shared state was being changed when the process that records into it stopped
 * (read by the process it was shared with, after the recording one was killed outright): its
 * last event may be half applied, so only a partial capture is safe. */
int ll__tracker_busy(void);
/* After the helper is gone for good: give back the address space reserved for tables never
 * made (a program that caps its address space with RLIMIT_AS needs it); tables made later are
 * private. */
void ll__tracker_seal_share(void);

/* Temporary allocations (freed before any other allocation was made; memray's definition with
 * N = 1), aggregated per traceback since start: as a snapshot with at = LL_AT_TEMPORARY, whose
 * count/size are the number and bytes of such allocations. */
int ll__take_temporary_snapshot(ll_snapshot_t **out);

/* Every allocation recorded since start (or ll_clear_traces), freed or not, aggregated per
 * traceback: as a snapshot with at = LL_AT_ALLOCATIONS, whose count/size/usable are the number
 * and bytes of those allocations. A realloc that succeeds is one allocation of its new size and
 * a free of the old block, as heaptrack counts (realloc(p, 0) that frees is none); calloc's
 * size is n * size. Without ll_clear_traces in between, the counts add up to the snapshot's
 * total_allocations and total_bytes. */
int ll__take_allocations_snapshot(ll_snapshot_t **out);

/* Size histogram of every allocation since start: bucket 0 holds size 0, bucket i (1..64) sizes
 * in [2^(i-1), 2^i). */
#define LL__HIST_BUCKETS 65
void ll__get_size_histogram(uint64_t counts[LL__HIST_BUCKETS], uint64_t bytes[LL__HIST_BUCKETS]);

/* Memory over time per traceback (series.h has the rules: points on the allocation clock, a
 * column per traceback that held more than 1/200 of the peak so far, the peak moment always a
 * point). A copy taken with a final point at the moment of the call, in one arena. */
typedef struct ll__series_point {
  uint64_t t_ns;  /* CLOCK_MONOTONIC */
  uint64_t clock; /* allocations made so far */
  uint64_t total; /* live bytes */
} ll__series_point_t;
typedef struct ll__series_col {
  uint32_t nframe, total_nframe;
  const uint64_t *ips; /* return addresses, innermost first (0: a symbolic frame) */
} ll__series_col_t;
typedef struct ll__series_copy {
  uint64_t stride;    /* allocations between points at the end */
  uint32_t npts, ncols;
  uint32_t peak_pt;   /* index of the peak's point; UINT32_MAX when the peak is 0 */
  const ll__series_point_t *pts;
  const uint64_t *val; /* npts x ncols live bytes, row by row */
  const ll__series_col_t *cols;
  struct ll__arena *arena;
} ll__series_copy_t;
/* 0, LL_ENOTRACING, LL_ENOVIEW (no series: it could not be mapped), or LL_ENOMEM. */
int ll__take_series(ll__series_copy_t *out);
void ll__series_copy_free(ll__series_copy_t *c);
/* When the events applied from now on were made (CLOCK_MONOTONIC ns): a recorder that applies
 * them after the fact (the preload's helper process) passes the program's stamps, so memory
 * over time keeps the program's times. 0 (the default): the series reads the clock when it
 * takes a point. Per process; a time earlier than one given before is taken as that one. */
void ll__series_event_time(uint64_t t_ns);

/* Test hook: make every request for tracker memory fail (1), as if mmap had, or succeed again
 * (0). Taken under the tracker's lock. */
void ll__tracker_test_fail_memory(int fail);

#endif
