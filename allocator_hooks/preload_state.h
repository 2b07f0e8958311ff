/* preload_state.h - the preload's bottom module: process state, recursion guard, real allocator table, own path, the helper processes' /proc reads and detaching. */
#ifndef LEAKLAB_PRELOAD_STATE_H
#define LEAKLAB_PRELOAD_STATE_H
/*
 * Contract: nothing here is exported from libleaklab-preload.so (a version script keeps only the
 * interposed libc functions global; LL__PL_EXPORT marks them). Code that may allocate (dlsym,
 * pthread_getattr_np, stdio, the tracker) runs with the thread's recursion guard set, so its
 * allocations go straight to the real allocator and are never recorded. The program's calls
 * always reach the real allocator, whatever happens to recording.
 *
 * The preload's modules form a DAG: each file includes only the headers of modules below it, and
 * none calls a module above it. Bottom to top (-> what each one calls):
 *
 *   state     process state, guard, real allocator table, own path     -> (libc only)
 *   boot      static pool for allocations made while dlsym runs        -> (nothing)
 *   modules   loaded modules: own-code lookup, MODULES section         -> state
 *   timeline  memory over time's clock: origin, stop time               -> (libc only)
 *   stack     call stacks (frame pointers, libunwind)                   -> state, modules
 *   ring      the async ring's event encoding (pure inline functions)  -> (nothing)
 *   slots     the async rings' shared memory: slots, control block     -> state, ring, engine
 *   apply     the helper process: applies the rings' events in order   -> state, ring, slots,
 *                                                                         engine
 *   async     the threads' side: queue events, start/stop the helper   -> state, ring, slots,
 *                                                                         apply, engine
 *   watch     the sync recorder's survivor: a helper that waits          -> state, engine
 *   limits    RLIMIT_AS the program sets (interposed): helper stopped  -> state, async, watch,
 *                                                                         engine
 *   hooks     malloc, free, ... (interposed)                           -> state, boot, stack,
 *                                                                         async, engine
 *   chain     the exec chain, PROCESS section                          -> engine
 *   leaks     the leak rule (LEAKS snapshot)                           -> state, modules, engine
 *   scan      the exit scan: roots, REACH section, lost/reachable      -> stack, engine
 *   jemalloc  jemalloc's own figures, JEMALLOC section                 -> state
 *   capture   writes the capture file                                  -> state, modules, timeline,
 *                                                                         stack, async, limits, chain,
 *                                                                         leaks, jemalloc, scan,
 *                                                                         engine
 *   exec      exec/spawn (interposed): the environment children get    -> state, timeline, async,
 *                                                                         watch, chain, scan,
 *                                                                         capture, engine
 *   process   start, fork, dlclose, _exit, fatal signals, exit         -> all of the above
 *
 * Where a lower module has to change what a higher one decided (the helper dying stops the
 * recording), it does so through the state here, never by calling up.
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Everything the preload's headers declare is internal to the library: hidden, so the compiler
 * reaches it directly (no GOT load, no PLT) wherever it is defined. Each header says so too. */
#pragma GCC visibility push(hidden)

/* The interposed functions: the only symbols the library exports (with the version script). */
#define LL__PL_EXPORT __attribute__((visibility("default")))

/* Deepest stack the preload captures (--frames is clamped to it). */
#define LL__PL_MAX_FRAMES 256

/* ---- the recursion guard ---------------------------------------------------------------------- */
/* Nonzero while leaklab's own code runs on this thread: its allocations are not recorded. */
extern __thread int ll__pl_guard __attribute__((tls_model("initial-exec")));

/* The one idiom (heaptrack's RecursionGuard): enter returns the guard as it was, leave puts it
 * back, so nested sections (an init inside a hook, a probe inside init) restore what they found:
 *     int g = ll__pl_guard_enter(); ... ll__pl_guard_leave(g); */
static inline int ll__pl_guard_enter(void) {
  int saved = ll__pl_guard;
  ll__pl_guard = 1;
  return saved;
}
static inline void ll__pl_guard_leave(int saved) { ll__pl_guard = saved; }
/* The guard's value while a hook records the program's own call (stack walk, tracker, ring),
 * where nothing of leaklab allocates through malloc: an allocation seen then can only come from
 * a signal handler that interrupted the recording, and is queued for the hook to record when it
 * is done (preload_hooks.c) rather than dropped. */
#define LL__PL_GUARD_HOT 2

/* ---- whole-process state ---------------------------------------------------------------------- */
enum {
  LL__PL_OFF = 0,       /* not initialised yet, or never to record (no capture asked) */
  LL__PL_RECORDING = 1, /* recording into the capture */
  LL__PL_DONE = 2       /* capture written, a child that is not followed, crashing, helper lost */
};
extern volatile int ll__pl_state;

static inline int ll__pl_recording(void) {
  return __atomic_load_n(&ll__pl_state, __ATOMIC_RELAXED) == LL__PL_RECORDING;
}

/* Who records, set at start (and in a followed child): */
extern int ll__pl_run_active; /* LEAKLAB_CAPTURE was set: this process is part of a leaklab run */
extern int ll__pl_follow;     /* --follow-fork: children record too, into CAPTURE.<pid> */
extern long ll__pl_pid;       /* the process that records (0: none) */
extern int ll__pl_helper;     /* this is the helper process, writing the capture of a program
                                 that died (preload_async.c): its memory is not the program's */

/* ---- the real allocator ----------------------------------------------------------------------- */
typedef struct ll__pl_real {
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void *(*memalign)(size_t, size_t);
  size_t (*malloc_usable_size)(void *);
} ll__pl_real_t;
extern ll__pl_real_t ll__pl_real;

/* The usable size of a block the real allocator has just handed out (p != NULL, not yet given to
 * the program). glibc's malloc_usable_size is a call per allocation (~5% of the program's time in
 * churn, much of it waiting for the next chunk's header, which it reads to see the block in use),
 * so when the real allocator is glibc's the figure is read from the block's own header inline:
 * glibc's arithmetic (malloc.c, musable/memsize without memory tagging: the chunk's size, low
 * three bits masked, less 16 B when the chunk is mmapped, else less 8 B), without the in-use test,
 * which a block just handed out passes. Exact: ll__pl_usable_check turns it on only when every
 * real allocation function is libc.so's and the header read gives malloc_usable_size's answer on
 * heap chunks and mmapped ones, aligned and calloc'ed; else the call. The hooks use it for every
 * allocation, under either recorder. */
extern int ll__pl_glibc_chunks;
void ll__pl_usable_check(void);
static inline size_t ll__pl_usable(void *p) {
  if (__builtin_expect(ll__pl_glibc_chunks, 1)) {
    size_t h = ((const size_t *)p)[-1];
    return (h & ~(size_t)7) - ((h & 2) != 0 ? 16 : 8);
  }
  return ll__pl_real.malloc_usable_size(p);
}

/* Whether every real function is known (malloc is set last). */
static inline int ll__pl_resolved(void) {
  return __builtin_expect(__atomic_load_n(&ll__pl_real.malloc, __ATOMIC_ACQUIRE) != NULL, 1);
}
/* Resolve every real function once (dlsym(RTLD_NEXT)); safe to call again. Aborts, saying why,
 * when the real allocator cannot be found. */
void ll__pl_resolve(void);
/* Nonzero while this thread runs ll__pl_resolve: the hooks serve allocations from the boot pool. */
int ll__pl_resolving(void);

/* The next definition of `name` after ours (dlsym(RTLD_NEXT), under the guard), or NULL. */
void *ll__pl_next(const char *name);

/* ---- small things every module needs ---------------------------------------------------------- */
/* Longest path of ours kept (ll__pl_self_path's buffer). */
#define LL__PL_SELF_MAX 4096
/* Our library's own path (to strip it from LD_PRELOAD for children, to mark our module), found
 * on the first call (the constructor makes it). */
const char *ll__pl_self_path(void);
/* One message to stderr with write(2): no stdio, no allocation, async-signal-safe. */
void ll__pl_say(const char *msg);
/* The same once per `leaklab run`, however many processes (--follow-fork) or images (an exec
 * chain) would say it: the first to say message `id` (LL_SAY_*, capture_format.h) creates
 * CAPTURE.said.ID (O_EXCL) beside the run's capture, named once by ll__pl_say_once_base; the
 * others find it there and stay quiet. `leaklab run` removes the markers after the run. Without
 * a base, it says every time. errno is kept. */
void ll__pl_say_once_base(const char *capture);
void ll__pl_say_once(unsigned id, const char *msg);
/* Only the marker (a fact `leaklab run` reads before it removes them, LL_SAY_WRITE_FAILED). */
void ll__pl_mark(unsigned id);

/* ---- the helper processes (preload_async.c's, preload_watch.c's) ---------------------------- */
/* Whether pid exists and is not a zombie (from /proc: async-signal-safe, and unlike kill(pid, 0)
 * it is not fooled by a zombie nobody reaps). */
int ll__pl_pid_alive(int pid);
/* How pid ended, while it is a zombie (nobody reaped it yet: `leaklab run` waits for the helper
 * first): /proc/PID/stat's exit_code (field 52, the status as waitpid gives it; Linux 3.5).
 * 0 with *how LL_CAP_END_EXIT and *sig the exit status, or *how LL_CAP_END_SIGNAL and *sig the
 * signal; -1 when it cannot be known (reaped already, or not a zombie). */
int ll__pl_zombie_end(int pid, int *how, int *sig);
/* In a freshly forked helper: nothing it does is recorded, it takes no signal, has its own
 * session (terminal signals do not reach it), holds no descriptor of the program's (a pipe the
 * program shares closes when the program ends), and is named leaklab-helper (`leaklab run`
 * finds it by that name). */
void ll__pl_helper_detach(void);
/* End a helper: no atexit handler, no stdio flush, none of our hooks. */
void ll__pl_helper_exit(void) __attribute__((noreturn));

#pragma GCC visibility pop

/* A clock in ns (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID...): one definition for every module. */
static inline uint64_t ll__pl_clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
