/* preload.h - internals shared by the preload library's files (hooks, boot pool, stacks, capture, processes). */
#ifndef LEAKLAB_PRELOAD_H
#define LEAKLAB_PRELOAD_H
/*
 * Contract: nothing here is exported from libleaklab-preload.so (a version script keeps only the
 * interposed libc functions global). Code that may allocate (dlsym, pthread_getattr_np, stdio,
 * the tracker) runs with the thread's recursion guard set, so allocations it makes go straight
 * to the real allocator and are never recorded. The program's calls always reach the real
 * allocator, whatever happens to recording.
 */
#include <stddef.h>
#include <stdint.h>

#include "capture_format.h"

/* The interposed functions: the only symbols the library exports (with the version script). */
#define LL__PL_EXPORT __attribute__((visibility("default")))

/* Deepest stack the preload captures (--frames is clamped to it). */
#define LL__PL_MAX_FRAMES 256

/* Per-thread recursion guard: nonzero while leaklab's own code runs on this thread. */
extern __thread int ll__pl_guard __attribute__((tls_model("initial-exec")));

/* Whole-process state. */
enum {
  LL__PL_OFF = 0,       /* not initialised yet, or never to record (no capture asked) */
  LL__PL_RECORDING = 1, /* recording into the capture */
  LL__PL_DONE = 2       /* capture written, a child that is not followed, or crashing */
};
extern volatile int ll__pl_state;

/* ---- the real allocator (preload_hooks.c) ------------------------------------------------- */
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
/* Resolve every real function once (dlsym(RTLD_NEXT)); safe to call again. */
void ll__pl_resolve(void);

/* ---- boot pool (preload_boot.c): memory for allocations made while dlsym runs -------------- */
void *ll__pl_boot_alloc(size_t size, size_t align);
int ll__pl_is_boot(const void *p);
/* Requested size of a boot block (for realloc and malloc_usable_size). */
size_t ll__pl_boot_size(const void *p);

/* ---- stacks (preload_stack.c) -------------------------------------------------------------- */
enum { LL__UNWIND_AUTO = 0, LL__UNWIND_FP = 1, LL__UNWIND_LIBUNWIND = 2 };
/* Configure once at start: mode and depth (1..LL__PL_MAX_FRAMES). */
void ll__pl_stack_config(int mode, int frames);
int ll__pl_stack_frames(void);
int ll__pl_unwind_mode(void);
/* Return addresses of the program's call into a hook whose frame is hook_fp
 * (__builtin_frame_address(0) of the interposed function); ips[0] is the caller of malloc.
 * Returns the number written (<= the configured depth). */
int ll__pl_capture_stack(void *hook_fp, uintptr_t *ips);
/* Nonzero when a stack is always just the hook's return address and the calling thread needs
 * nothing more (--frames 1 with the frame-pointer or auto walk, this thread's stack bounds
 * found): the hooks then read it themselves. Same result as ll__pl_capture_stack. */
extern int ll__pl_stack_one;
extern __thread int ll__pl_stack_known __attribute__((tls_model("initial-exec")));
static inline int ll__pl_stack_is_one(void) { return ll__pl_stack_one && ll__pl_stack_known != 0; }

/* ---- modules (preload_modules.c): the map saved in the capture, and own-code lookup ------- */
/* Record every loaded module (union over the run: modules later dlclose'd stay listed). */
void ll__pl_modules_refresh(void);
/* 1 when ip lies in the program's own code (not a system library, not leaklab), 0 otherwise;
 * an address in no known module triggers one refresh (new dlopen'd code) before answering. */
int ll__pl_ip_is_own(uintptr_t ip);
/* 1 when ip lies in the code of a module known now (no refresh: the stack walk's sanity check). */
int ll__pl_ip_is_code(uintptr_t ip);
/* The module map section's encoded bytes (valid until the next call); 0 or LL_ENOMEM.
 * _encode uses what is known (crash path: never takes the loader's lock); _snapshot refreshes
 * first (normal end). */
int ll__pl_modules_encode(const void **data, size_t *len);
int ll__pl_modules_snapshot(const void **data, size_t *len);
/* Absolute path of the running executable (from /proc/self/exe), "" when unknown. */
const char *ll__pl_exe_path(void);

/* ---- capture (preload_capture.c) ----------------------------------------------------------- */
/* Sample memory over time when the sampling interval has passed (cheap when it has not). */
void ll__pl_timeline_tick(void);
void ll__pl_timeline_reset(void);
/* Process facts kept in the capture. */
void ll__pl_capture_set_path(const char *path);
const char *ll__pl_capture_path(void);
void ll__pl_capture_set_flags(uint32_t flags); /* LL_CAP_F_NATIVE, LL_CAP_F_CHILD */
/* The command line (stages and snapshots show it). */
void ll__pl_capture_set_program(const char *program);
const char *ll__pl_capture_program(void);
/* Earlier images of this process (exec chain), parsed from the environment at start. */
void ll__pl_chain_load(const char *env_value, long pid);
/* Encode the chain plus this image as an environment value for the next image (no malloc:
 * into buf); returns the length, or -1 when it does not fit. */
int ll__pl_chain_encode_next(char *buf, size_t len, long pid, const char *next_program);
/* Write the capture: how = LL__END_*, sig the signal for LL__END_SIGNAL. partial: the tracker
 * could not be read consistently (crash inside it): only the process facts and the timeline.
 * Returns 0 or a negative LL_E* code. */
int ll__pl_write_capture(int how, int sig, int partial);

/* ---- asynchronous recording (preload_async.c) ----------------------------------------------- */
/* Nonzero while events go to the helper process (only ever while the process has one thread). */
extern int ll__pl_async_on;
static inline int ll__pl_async_active(void) { return __atomic_load_n(&ll__pl_async_on, __ATOMIC_RELAXED); }
/* After ll__tracker_share and ll_start: fork the helper; 0, or -1 (record synchronously). */
int ll__pl_async_start(void);
/* Hand an event to the helper: 1 when done (or dropped because recording just stopped), 0 when
 * the helper was stopped instead (a second thread exists, or a pointer the allocator cannot
 * have made) and the caller records in-thread. */
int ll__pl_async_alloc(void *p, size_t size, size_t usable, const uintptr_t *ips, int n);
int ll__pl_async_free(void *p);
/* After the real realloc, only while the process has one thread (checked before the call). */
void ll__pl_async_realloc(void *old, void *q, size_t size, size_t usable, const uintptr_t *ips, int n);
/* Have the helper apply everything queued and exit; the tracker is this process's again. bounded:
 * from a fatal signal (give up after 2 s). 0, or -1 when the helper died first (the tracker
 * cannot be trusted; recording has stopped and the state is LL__PL_DONE). No-op when not async
 * or in a forked child. */
int ll__pl_async_stop(int bounded);
/* A forked child: its parent's ring is not its own. */
void ll__pl_async_forget(void);
int ll__pl_async_lost(void); /* the helper died before it drained */

/* ---- processes (preload_process.c) --------------------------------------------------------- */
void ll__pl_init(void);
/* 1 when another library's malloc comes first in the lookup order (LD_PRELOAD order): our hooks
 * would never be called. */
int ll__pl_is_shadowed(void);
/* Our library's own path (to strip it from LD_PRELOAD for children). */
const char *ll__pl_self_path(void);

#endif
