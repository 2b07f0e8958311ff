/* capture_format.h - the capture's extra sections (module map, timeline, histogram, process facts, jemalloc's figures, memory over time per line, budget): layout, decoded forms, decoders; the preload<->CLI environment. */
#ifndef LEAKLAB_CAPTURE_FORMAT_H
#define LEAKLAB_CAPTURE_FORMAT_H
/*
 * A capture is a snapshot file (snapfile.h) whose snapshots hold native frames (ip set,
 * filename "<unknown>") plus these extra sections, all little-endian, fixed width:
 *
 *   0x100 MODULES    u32 count, u32 0, then count x (u64 bias (load address added to the file's
 *                    vaddrs), u64 lo, u64 hi (mapped address range, hi exclusive), u32 flags
 *                    (LL_CAP_MOD_*), u16 path length, u16 build-id length, path bytes, build-id
 *                    bytes, zero padding to 8). The union over the run: a module dlclose'd
 *                    before the end stays listed.
 *   0x101 TIMELINE   u64 interval_ns (final sampling interval; 0: the points are LINES'),
 *                    u32 count, u32 0, then count x (u64 t_ns since the image started, u64
 *                    current bytes, u64 high: the current bytes, or the peak when it was
 *                    reached since the previous point - so the peak is carried exactly; the
 *                    last point is the end). The preload writes LINES' points here (their
 *                    totals, on the program's clock, the peak moment one of them); older
 *                    captures hold a sampler's points (4096 at most, interval_ns apart).
 *   0x102 HISTOGRAM  u32 nbuckets (65), u32 0, counts[nbuckets] u64, bytes[nbuckets] u64:
 *                    bucket 0 holds size 0, bucket i sizes in [2^(i-1), 2^i).
 *   0x103 PROCESS    u32 version (1), u32 pid, u32 ppid, u32 how (LL_CAP_END_*), i32 signal,
 *                    u32 flags (LL_CAP_F_*), u32 frames, u32 unwind (0 auto, 1 fp, 2 libunwind),
 *                    u32 nstage, u32 0, then nstage x (u32 pid, u32 program length, u64 peak,
 *                    u64 end, u64 total_allocations, u64 total_bytes, program bytes, padding to
 *                    8). Stages are the images of the process chain, oldest first (each one
 *                    exec'd the next); the last is the image that wrote the capture, and only
 *                    its snapshots are in the file.
 *   0x104 JEMALLOC   u32 version (1), u32 0, then u64 allocated, active, resident, mapped:
 *                    jemalloc's mallctl "stats.*" figures, read once after writing "epoch",
 *                    at the end of a normal exit, when the allocator the preload passes calls
 *                    on to is jemalloc (its `malloc` and `mallctl` come from the same module).
 *                    Absent otherwise: glibc, a crash (mallctl is not async-signal-safe), a
 *                    jemalloc built without statistics. Only the end: the peak is known to be
 *                    the peak only after later frees, and reading mallctl at every new peak
 *                    from inside malloc would cost a lock and an epoch refresh per allocation
 *                    for a heap that grows, so figures "at the peak" would be a guess.
 *   0x107 BUDGET     u32 version (1), u32 flags (LL_CAP_BUDGET_*: which limits are set), u64
 *                    limit_memory, u64 limit_leaks (bytes; 0 when not set): the limits
 *                    `leaklab check` held the run to, added by check after the program ended
 *                    (ll__snapfile_append) so that reports (the HTML chart) can draw them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "le_bytes.h" /* the engine's little-endian helpers: the one copy */

#define LL_CAP_SEC_MODULES 0x100u
#define LL_CAP_SEC_TIMELINE 0x101u
#define LL_CAP_SEC_HISTOGRAM 0x102u
#define LL_CAP_SEC_PROCESS 0x103u
#define LL_CAP_SEC_JEMALLOC 0x104u
#define LL_CAP_SEC_LINES 0x105u
#define LL_CAP_SEC_BUDGET 0x107u

#define LL_CAP_BUDGET_MEMORY 1u /* limit_memory is set */
#define LL_CAP_BUDGET_LEAKS 2u  /* limit_leaks is set */

#define LL_CAP_MOD_MAIN 1u   /* the main executable */
#define LL_CAP_MOD_SYSTEM 2u /* a system library (/lib*, /usr/lib*), ld.so, the vdso */
#define LL_CAP_MOD_LEAKLAB 4u /* libleaklab-preload itself */
/* leaklab's rule for the program's own code (what reports attribute to and leaks are made of):
 * the main executable, or any module that is neither a system library nor leaklab. */
static inline int ll_cap_module_is_own(uint32_t flags) {
  return (flags & LL_CAP_MOD_MAIN) || !(flags & (LL_CAP_MOD_SYSTEM | LL_CAP_MOD_LEAKLAB));
}

enum {
  LL_CAP_END_EXIT = 0,   /* normal exit (exit() or return from main) */
  LL_CAP_END__EXIT = 1,  /* _exit / _Exit called directly */
  LL_CAP_END_SIGNAL = 2  /* a fatal signal; `signal` says which */
};
#define LL_CAP_F_PARTIAL 1u /* the tracker could not be read at the crash: no snapshots */
#define LL_CAP_F_NATIVE 2u  /* recorded with --native: reports show library frames by default */
#define LL_CAP_F_CHILD 4u   /* a followed child process (--follow-fork) */
#define LL_CAP_F_HELPER_LOST 8u /* with PARTIAL: the recording helper process died before it drained */
/* Written by the recording helper process after the program ended without writing it (a signal
 * it did not catch: SIGKILL, SIGPIPE, SIGINT ...; or a raw exit_group, as Go's runtime makes):
 * how and signal say how it ended (LL_CAP_END_SIGNAL and the signal, or LL_CAP_END_EXIT), as
 * the helper read them from the program's zombie (LL_CAP_END_SIGNAL, signal 0: it was reaped
 * before the helper looked), pid the program's; snapshots whole, no exit scan, memory over
 * time and modules as of the program's start. With LL_CAP_F_PARTIAL too (the sync recorder's
 * watcher found a thread of the program changing the tracker at its death): no snapshot. */
#define LL_CAP_F_KILLED 16u
/* The recording ended at an exec of an image the preload cannot enter (statically linked,
 * setuid...): written then, how LL_CAP_END_EXIT; the program went on unrecorded. */
#define LL_CAP_F_EXEC_UNFOLLOWED 32u

#define LL_CAP_HIST_BUCKETS 65

/* The environment `leaklab run` gives the program (the preload reads it at load time). */
#define LL_ENV_CAPTURE "LEAKLAB_CAPTURE"         /* absolute capture path: recording is on */
#define LL_ENV_ROOT_PID "LEAKLAB_ROOT_PID"       /* pid of the traced process */
#define LL_ENV_FRAMES "LEAKLAB_FRAMES"           /* stack depth, 1..256 (default 16) */
#define LL_ENV_UNWIND "LEAKLAB_UNWIND"           /* auto (default), fp, libunwind */
#define LL_ENV_NATIVE "LEAKLAB_NATIVE"           /* 1: reports show library frames */
#define LL_ENV_FOLLOW_FORK "LEAKLAB_FOLLOW_FORK" /* 1: children get CAPTURE.<pid> */
#define LL_ENV_CHAIN "LEAKLAB_CHAIN"             /* earlier images of an exec chain */
#define LL_ENV_RECORDER "LEAKLAB_RECORDER"       /* auto (default), async, sync */
#define LL_PRELOAD_NAME "libleaklab-preload.so"

/* Warnings the preload says once per run (ll__pl_say_once): the first process to say one
 * creates CAPTURE LL_SAY_SUFFIX ID beside the root capture; `leaklab run` removes them all. */
#define LL_SAY_SUFFIX ".said."
enum {
  LL_SAY_RECORDER_ENV,  /* LEAKLAB_RECORDER is none of auto, async, sync */
  LL_SAY_ASYNC_FOLLOW,  /* --recorder async with --follow-fork */
  LL_SAY_ASYNC_THREADS, /* --recorder async in a process with threads already */
  LL_SAY_SHADOWED,      /* another malloc before ours in LD_PRELOAD */
  LL_SAY_ASYNC_NO_SHM,  /* --recorder async without shared memory */
  LL_SAY_TRACKER,       /* the tracker could not start */
  LL_SAY_ASYNC_NO_HELPER, /* --recorder async: the helper could not start */
  LL_SAY_GO_SYNC,       /* a Go program recorded through the helper despite --recorder sync */
  LL_SAY_GO_LOST,       /* a Go program that nothing outlives (--follow-fork) */
  LL_SAY_EXEC_STATIC,   /* an exec of an image the preload cannot enter */
  LL_SAY_GO_FORK,       /* a Go program's C code forked under --follow-fork: not followed */
  LL_SAY_WRITE_FAILED,  /* a marker only: a process could not write its capture (it said why) */
  LL_SAY__COUNT
};

/* ---- decoded forms: the decoders' output (capture_format.c; a path is copied into the arena,
 * a build id points into the section's bytes) and the writer's input (capture_write.h) ------- */
typedef struct ll_cap_module {
  uint64_t bias, lo, hi;
  uint32_t flags;
  const char *path; /* NUL-terminated copy */
  const unsigned char *build_id;
  size_t build_id_len;
} ll_cap_module_t;

typedef struct ll_cap_stage {
  uint32_t pid;
  uint64_t peak, end, total_allocations, total_bytes;
  const char *program;
} ll_cap_stage_t;

typedef struct ll_cap_process {
  uint32_t pid, ppid, how, flags, frames, unwind;
  int32_t signal;
  size_t nstage;
  ll_cap_stage_t *stages;
} ll_cap_process_t;

typedef struct ll_cap_point {
  uint64_t t_ns, current, high;
} ll_cap_point_t;

/* The TIMELINE section decoded (0x101). */
typedef struct ll_cap_timeline {
  uint64_t interval_ns;
  ll_cap_point_t *points;
  size_t npoint;
} ll_cap_timeline_t;

/* jemalloc's own view at the end of the run (section 0x104). */
typedef struct ll_cap_jemalloc {
  uint64_t allocated, active, resident, mapped;
} ll_cap_jemalloc_t;
#define LL_CAP_JEMALLOC_LEN 40

/* Every allocation of the run by size (section 0x102): bucket 0 holds size 0, bucket i sizes in
 * [2^(i-1), 2^i). */
typedef struct ll_cap_histogram {
  uint64_t counts[LL_CAP_HIST_BUCKETS], bytes[LL_CAP_HIST_BUCKETS];
} ll_cap_histogram_t;

/* The limits `check` applied (section 0x107). */
typedef struct ll_cap_budget {
  uint32_t flags; /* LL_CAP_BUDGET_* */
  uint64_t limit_memory, limit_leaks;
} ll_cap_budget_t;
#define LL_CAP_BUDGET_LEN 24

struct ll__arena;
/* Decoders: 0, or LL_ECORRUPT for bytes that do not parse (every length is checked). Output
 * arrays and strings are allocated from `arena`. */
int ll_cap_decode_modules(const void *data, size_t len, struct ll__arena *arena,
                          ll_cap_module_t **mods, size_t *n);
int ll_cap_decode_process(const void *data, size_t len, struct ll__arena *arena,
                          ll_cap_process_t *out);
int ll_cap_decode_timeline(const void *data, size_t len, struct ll__arena *arena,
                           ll_cap_timeline_t *out);
int ll_cap_decode_jemalloc(const void *data, size_t len, ll_cap_jemalloc_t *out);
int ll_cap_decode_histogram(const void *data, size_t len, ll_cap_histogram_t *out);
int ll_cap_decode_budget(const void *data, size_t len, ll_cap_budget_t *out);

/* ---- 0x105 LINES: memory over time per traceback (the engine's series, see series.h) --------
 *   u32 version (1), u32 npts, u32 ncols, u32 peak_pt (UINT32_MAX: none), u64 stride (allocations
 *   between points at the end), then ncols x (u32 nframe, u32 total_nframe, nframe x u64 return
 *   address, innermost first), then npts x (u64 t_ns since the image started (the TIMELINE's
 *   origin), u64 clock (allocations made so far), u64 total live bytes), then npts x ncols u64
 *   live bytes of each column, row by row. A column is a traceback that held more than 1/200 of
 *   the peak so far at some point; what the columns do not hold ("other") is total minus their
 *   sum. The peak moment is point peak_pt, exactly. */
typedef struct ll_cap_lines_col {
  uint32_t nframe, total_nframe;
  const uint64_t *ips;
} ll_cap_lines_col_t;
typedef struct ll_cap_lines {
  uint32_t npts, ncols, peak_pt;
  uint64_t stride;
  const ll_cap_lines_col_t *cols;
  const uint64_t *t_ns, *clock, *total; /* npts each */
  const uint64_t *val;                  /* npts x ncols */
} ll_cap_lines_t;
#define LL_CAP_LINES_MAX_FRAMES 256
/* 0, LL_ECORRUPT or LL_ENOMEM; arrays allocated from arena. */
int ll_cap_decode_lines(const void *data, size_t len, struct ll__arena *arena, ll_cap_lines_t *out);

/* Path of a system library (or the loader, the vdso): not the program's own code. */
int ll_cap_path_is_system(const char *path);

#endif
