/* leaklab.h - public API of the leaklab tracking engine: tracemalloc's API in C, plus the peak. */
#ifndef LEAKLAB_LEAKLAB_H
#define LEAKLAB_LEAKLAB_H
/*
 * Contract (stated once, holds for every function below):
 *
 * - Sizes are *requested* bytes, as tracemalloc, memray and massif's useful-heap count them.
 *   The allocator's usable size (malloc_usable_size) is kept beside them as `usable`.
 * - Every function returning int returns 0 (or a non-negative count) on success and a negative
 *   LL_E* code on failure; ll_strerror() names it. Output pointers are untouched on failure.
 * - Thread-safe: recording and querying may happen from any thread at any time. Fork-safe: the
 *   child of a fork inherits a consistent tracker.
 * - The tracker never allocates through malloc & co.: its own memory comes from mmap and is
 *   reported by ll_get_tracker_memory(), never counted in traced memory. Snapshots and statistics
 *   also live in private mmap arenas, so taking one never disturbs what is measured.
 * - The program always gets its memory: when recording fails (no memory for the tracker), the
 *   block is counted as untracked (ll_get_untracked()) and the program goes on unharmed.
 * - Frames are stored most recent call first: frames[0] is where the allocation was made.
 * - Strings in frames (filename, function) are owned by the snapshot/stats they come from, or,
 *   for ll_get_object_traceback(), by the tracker until ll_stop().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LL_API __attribute__((visibility("default")))
#else
#define LL_API
#endif

#define LL_VERSION_MAJOR 0
#define LL_VERSION_MINOR 1
#define LL_VERSION_PATCH 0
#define LL_VERSION_STRING "0.1.0"

/* Largest traceback depth, as tracemalloc.start() accepts. */
#define LL_MAX_NFRAME 65535

/* ---- errors: negative codes, one table (name, value, message) ---------------------------- */
#define LL_ERRNO_MAP(XX)                                                                         \
  XX(ENOENT, -2, "no such file or directory")                                                     \
  XX(EIO, -5, "input/output error")                                                               \
  XX(ENOMEM, -12, "out of memory")                                                                \
  XX(EACCES, -13, "permission denied")                                                            \
  XX(EINVAL, -22, "invalid argument")                                                             \
  XX(EBADMAGIC, -4001, "not a leaklab file (bad magic number)")                                   \
  XX(EVERSION, -4002, "unsupported leaklab file format version")                                  \
  XX(ETRUNC, -4003, "file is truncated")                                                          \
  XX(ECHECKSUM, -4004, "checksum mismatch: the file is corrupt")                                  \
  XX(ECORRUPT, -4005, "file is corrupt: inconsistent contents")                                   \
  XX(ENOVIEW, -4006, "the file holds no snapshot for that moment")                                \
  XX(ENOTRACING, -4007, "tracing is not started")                                                  \
  XX(ENOTREG, -4008, "not a regular file")

typedef enum {
#define LL__ERR_ENUM(name, value, msg) LL_##name = (value),
  LL_ERRNO_MAP(LL__ERR_ENUM)
#undef LL__ERR_ENUM
} ll_errno_t;

/* Message for an error code; for a negative errno not in the table, strerror's text. */
LL_API const char *ll_strerror(int err);
/* Symbolic name ("LL_ETRUNC"), or "LL_UNKNOWN". */
LL_API const char *ll_err_name(int err);

/* ---- tracing (tracemalloc.start / stop / is_tracing / ...) ------------------------------ */

/* Start tracing, keeping at most nframe frames per traceback (1..LL_MAX_NFRAME, else LL_EINVAL).
 * Already tracing: only the frame limit changes. */
LL_API int ll_start(int nframe);
/* Stop tracing and forget every trace (as tracemalloc.stop() does). */
LL_API void ll_stop(void);
LL_API int ll_is_tracing(void);
/* Frame limit given to ll_start (tracemalloc.get_traceback_limit), 1 when never started. */
LL_API int ll_get_traceback_limit(void);
/* Traced memory now and its high-water mark since start or the last ll_reset_peak. */
LL_API void ll_get_traced_memory(size_t *current, size_t *peak);
/* peak := current; the peak snapshot becomes the live set of now. */
LL_API void ll_reset_peak(void);
/* Bytes the tracker itself holds (mmap'd), never counted in traced memory. */
LL_API size_t ll_get_tracker_memory(void);
/* Forget every trace but keep tracing (tracemalloc.clear_traces). */
LL_API void ll_clear_traces(void);

typedef struct ll_counters {
  uint64_t total_allocations;     /* blocks recorded since start */
  uint64_t total_bytes;           /* requested bytes recorded since start */
  uint64_t untracked_allocations; /* blocks the tracker could not record (out of memory) */
  uint64_t untracked_bytes;
  uint64_t live_blocks;           /* blocks live now */
} ll_counters_t;
LL_API void ll_get_counters(ll_counters_t *out);

/* ---- recording: what the hooks call -------------------------------------------------------- */

/* One source location, as compile-time hooks know it (__FILE__, __LINE__, __func__).
 * The strings must stay valid while tracing (string literals do); they are interned by content. */
typedef struct ll_site {
  const char *file;
  const char *func;
  unsigned line;
} ll_site_t;

/* Record a block of `size` requested bytes (and `usable` bytes as the allocator gave) made at
 * sites[0], called from sites[1], ... (nsite >= 1; kept up to the traceback limit). No-op when
 * not tracing or ptr is NULL. A pointer already live is replaced (its old block counted freed). */
LL_API void ll_track_alloc(void *ptr, size_t size, size_t usable, const ll_site_t *sites,
                           int nsite);
/* Forget a block; call it *before* the real free so a concurrent allocation reusing the address
 * cannot be confused with it. Unknown pointers and NULL are ignored. */
LL_API void ll_track_free(void *ptr);

/* realloc protocol, race-free: ll_track_realloc_begin(old, &tok) before the real realloc takes
 * old's record out; ll_track_realloc_end(&tok, new_ptr, size, usable, sites, nsite) after it
 * records new_ptr, or, when new_ptr is NULL and size != 0 (realloc failed, old still valid), puts
 * the old record back. realloc(p, 0) that frees p: pass new_ptr NULL and size 0. */
typedef struct ll_realloc_token {
  void *old_ptr;
  uint64_t size;
  uint64_t usable;
  uint32_t traceback;
  int had_record;
} ll_realloc_token_t;
LL_API void ll_track_realloc_begin(void *old_ptr, ll_realloc_token_t *tok);
LL_API void ll_track_realloc_end(ll_realloc_token_t *tok, void *new_ptr, size_t size,
                                 size_t usable, const ll_site_t *sites, int nsite);

/* ---- frames, tracebacks, snapshots --------------------------------------------------------- */

typedef struct ll_frame {
  const char *filename; /* never NULL; "<unknown>" when not known */
  const char *function; /* never NULL; "" when not known */
  uint32_t lineno;      /* 0 when not known (and for filename grouping) */
  uint64_t ip;          /* native instruction pointer (preload), 0 from compile-time hooks */
} ll_frame_t;

typedef struct ll_traceback {
  uint32_t nframe;          /* frames kept (<= the traceback limit) */
  uint32_t total_nframe;    /* frames before truncation to the limit */
  const ll_frame_t *frames; /* frames[0]: the most recent call, where the block was made */
} ll_traceback_t;

/* All live blocks sharing one traceback, aggregated. */
typedef struct ll_trace {
  const ll_traceback_t *traceback;
  uint64_t size;   /* requested bytes */
  uint64_t usable; /* usable bytes (allocator's size classes) */
  uint64_t count;  /* blocks */
} ll_trace_t;

/* Which moment a snapshot shows. */
typedef enum ll_at {
  LL_AT_CURRENT = 0,   /* when it was taken (ll_take_snapshot) */
  LL_AT_PEAK = 1,      /* the live set at the high-water mark */
  LL_AT_END = 2,       /* the live set when the program ended */
  LL_AT_LEAKS = 3,     /* blocks never freed (live at end, minus what the runtime frees itself) */
  LL_AT_TEMPORARY = 4, /* blocks freed before any other allocation was made */
  LL_AT_ALLOCATIONS = 5, /* every allocation made while recording, freed or not (a realloc is
                            one allocation of its new size, as heaptrack counts) */
  LL_AT_LOST = 6,      /* live at end and unreachable: memcheck's definitely + indirectly lost */
  LL_AT_REACHABLE = 7, /* live at end and reachable from a root by start pointers (still reachable) */
  LL_AT__COUNT = 8
} ll_at_t;
/* "current", "peak", "end", "leaks", "temporary", "allocations", "lost", "reachable" */
LL_API const char *ll_at_name(ll_at_t at);

/* A snapshot: read-only once made. Fields are public for reading. */
typedef struct ll_snapshot {
  ll_at_t at;
  uint32_t traceback_limit;
  const char *program;         /* command line or program name, "" when not known */
  uint64_t current_bytes;      /* traced memory when taken */
  uint64_t peak_bytes;         /* high-water mark when taken */
  uint64_t total_allocations;  /* as ll_counters_t when taken */
  uint64_t total_bytes;
  uint64_t untracked_allocations;
  uint64_t untracked_bytes;
  size_t ntraces;
  const ll_trace_t *traces;    /* unordered */
  void *ll__arena;             /* private */
} ll_snapshot_t;

/* The live set now. */
LL_API int ll_take_snapshot(ll_snapshot_t **out);
/* The live set at the high-water mark (since start or the last ll_reset_peak), exact: its traces
 * sum to the peak returned by ll_get_traced_memory. */
LL_API int ll_take_peak_snapshot(ll_snapshot_t **out);
LL_API void ll_snapshot_free(ll_snapshot_t *snap);
/* Set the program name stored in snapshots made from now on (copied). */
LL_API void ll_set_program(const char *program);

/* Frames of a live block (most recent first); returns the number written (<= max), 0 when the
 * pointer is not traced. */
LL_API int ll_get_object_traceback(const void *ptr, ll_frame_t *frames, int max);

/* ---- filters (tracemalloc.Filter) ---------------------------------------------------------- */
typedef struct ll_filter {
  int inclusive;                /* 1: keep matches; 0: drop matches */
  const char *filename_pattern; /* fnmatch(3) glob, flags 0 ('*' also matches '/') */
  unsigned lineno;              /* 0: any line */
  int all_frames;               /* 1: match any frame; 0: only frames[0] */
} ll_filter_t;

/* Traces kept: those matching at least one inclusive filter (when there is any) and not
 * excluded by any exclusive filter - tracemalloc's filter_traces. nfilter 0 copies. */
LL_API int ll_snapshot_filter(const ll_snapshot_t *snap, const ll_filter_t *filters,
                              size_t nfilter, ll_snapshot_t **out);

/* ---- statistics (Snapshot.statistics / compare_to) ----------------------------------------- */
typedef enum ll_group { LL_GROUP_LINENO = 0, LL_GROUP_FILENAME = 1, LL_GROUP_TRACEBACK = 2 } ll_group_t;
LL_API const char *ll_group_name(ll_group_t g); /* "lineno", "filename", "traceback" */

typedef struct ll_stat {
  const ll_traceback_t *traceback; /* the key: 1 frame for lineno; 1 frame with lineno 0 for
                                      filename; the whole traceback for traceback */
  uint64_t size;
  uint64_t usable;
  uint64_t count;
  int64_t size_diff;  /* compare only: size - old size */
  int64_t count_diff; /* compare only */
} ll_stat_t;

typedef struct ll_stats {
  ll_group_t group;
  int cumulative;
  int is_diff;     /* made by ll_snapshot_compare */
  size_t len;
  ll_stat_t *items; /* sorted as tracemalloc sorts */
  void *ll__arena;  /* private */
} ll_stats_t;

/* Sorted by (size, count) descending, ties by key. cumulative adds each trace to the key of every
 * frame of its traceback, once per frame as CPython does (a file or a recursive line appearing
 * twice counts twice); cumulative with LL_GROUP_TRACEBACK is LL_EINVAL, as in tracemalloc. */
LL_API int ll_snapshot_statistics(const ll_snapshot_t *snap, ll_group_t group, int cumulative,
                                  ll_stats_t **out);
/* compare_to: keys of both; keys only in old show size 0, count 0 and negative diffs. Sorted by
 * (|size_diff|, size, |count_diff|, count) descending. */
LL_API int ll_snapshot_compare(const ll_snapshot_t *snap, const ll_snapshot_t *old,
                               ll_group_t group, int cumulative, ll_stats_t **out);
LL_API void ll_stats_free(ll_stats_t *stats);

/* ---- snapshot files ---------------------------------------------------------------------- */
/* Write snapshots (at most one per moment `at`) to one versioned, checksummed file. The write is
 * atomic (temporary file then rename). */
LL_API int ll_snapshot_dump(const ll_snapshot_t *const *snaps, size_t nsnap, const char *path);
/* Read the snapshot for moment `at` from a file. Truncated, corrupt or foreign files give
 * LL_ETRUNC / LL_ECHECKSUM / LL_ECORRUPT / LL_EBADMAGIC / LL_EVERSION, never a crash; a FIFO or
 * device LL_ENOTREG, never a wait. */
LL_API int ll_snapshot_load(const char *path, ll_at_t at, ll_snapshot_t **out);
/* Which moments a file holds: bit (1 << at) set for each. */
LL_API int ll_snapshot_file_views(const char *path, unsigned *mask);

#ifdef __cplusplus
}
#endif
#endif /* LEAKLAB_LEAKLAB_H */
