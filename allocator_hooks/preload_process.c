/* preload_process.c - the traced process's life: start, fork, dlclose, _exit, fatal signals, exit. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture_format.h"
#include "engine.h"
#include "preload_async.h"
#include "preload_capture.h"
#include "preload_chain.h"
#include "preload_exec.h"
#include "preload_hooks.h"
#include "preload_limits.h"
#include "preload_modules.h"
#include "preload_scan.h"
#include "preload_stack.h"
#include "preload_state.h"
#include "preload_timeline.h"
#include "preload_watch.h"
#include "proc_cmdline.h"

/*
 * Which processes record, and where:
 * - the traced process (pid == LEAKLAB_ROOT_PID) records into LEAKLAB_CAPTURE, and so does an
 *   image it execs (preload_exec.c hands the recording on);
 * - children (fork, vfork, posix_spawn, system, popen) do not record: a forked child stops
 *   recording at once (atfork), and the environment was stripped at start, so whatever it execs
 *   starts untraced. With LEAKLAB_FOLLOW_FORK=1 every child records into CAPTURE.<pid>.
 * The capture is written once: at exit (a destructor; ours runs after the program's own), at
 * _exit/_Exit, or from the handler of a fatal signal, which then re-raises it.
 * With a helper process (preload_async.c, LEAKLAB_RECORDER), every one of those ends and an
 * exec that keeps recording first have the helper drain and exit: from then on the tracker is
 * this process's, as without a helper.
 */

static int g_written;      /* the capture was written (or is being written) */
static int g_watched;      /* this image's tracker is shared with a watcher (preload_watch.c) */
static volatile int g_crash_done;

/* ---- dlclose: remember the module before it goes (its addresses are in the stacks) -------- */

LL__PL_EXPORT int dlclose(void *handle) {
  int (*real)(void *) = (int (*)(void *))ll__pl_next("dlclose");
  if (ll__pl_recording() && !ll__pl_guard) {
    int g = ll__pl_guard_enter();
    ll__pl_modules_refresh();
    ll__pl_guard_leave(g);
  }
  return real(handle);
}

/* ---- ending: exit, _exit, fatal signals ---------------------------------------------------- */

/* Stop recording everywhere and take the tracker's lock (waiting at most 1 s for a thread
 * inside to leave; threads that saw the old state wait on the lock, and their events come too
 * late for the capture); 1 when held, 0 when another thread kept it (it may have stopped inside
 * the tracker: only a partial capture is safe). */
static int quiesce(int self_inside) {
  __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
  if (self_inside) return 0; /* this very thread was in the tracker, maybe holding its lock */
  return ll__tracker_freeze(1000);
}

/* `regs` and `from`: where this thread entered leaklab (ll__pl_scan_regs, ll__pl_scan_from). */
static void finish(int how, int sig, const ucontext_t *regs, uintptr_t from) {
  if (getpid() != ll__pl_pid) return;
  if (__atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) != LL__PL_RECORDING && !ll__pl_async_lost())
    return;
  if (__atomic_exchange_n(&g_written, 1, __ATOMIC_SEQ_CST)) return;
  ll__pl_timeline_stop(); /* the program's end, before the helper drains and the exit scan */
  ll__pl_watch_stop(); /* this process writes its capture itself */
  /* With a helper, this thread was never inside the tracker (only queueing events), and once
   * the helper has drained, the tracker is whole; if the helper died, it cannot be trusted. */
  int was_async = ll__pl_async_active();
  int lost = ll__pl_async_stop(how == LL_CAP_END_SIGNAL) != 0;
  int inside = lost || (ll__pl_guard && !was_async);
  if (!inside) ll__pl_hooks_end();
  int consistent = quiesce(inside);
  int g = ll__pl_guard_enter();
  ll__pl_scan_from = from;
  ll__pl_scan_regs = regs;
  ll__pl_write_capture(how, sig, !consistent);
  ll__pl_scan_regs = NULL;
  ll__tracker_thaw(); /* threads still running go on (unrecorded) */
  ll__pl_guard_leave(g);
}

__attribute__((destructor)) static void at_exit_end(void) {
  /* Threads still running keep allocating: their allocations after this are not recorded. */
  ucontext_t uc;
  LL__PL_TAKE_REGS(uc);
  finish(LL_CAP_END_EXIT, 0, &uc, (uintptr_t)__builtin_frame_address(0));
}

static void real_exit(const char *name, int status) __attribute__((noreturn));
static void real_exit(const char *name, int status) {
  void (*real)(int) = (void (*)(int))ll__pl_next(name);
  if (real != NULL) real(status);
  syscall(SYS_exit_group, status);
  for (;;) pause();
}

LL__PL_EXPORT void _exit(int status) {
  ucontext_t uc;
  LL__PL_TAKE_REGS(uc);
  finish(LL_CAP_END__EXIT, 0, &uc, (uintptr_t)__builtin_frame_address(0));
  real_exit("_exit", status);
}

LL__PL_EXPORT void _Exit(int status) {
  ucontext_t uc;
  LL__PL_TAKE_REGS(uc);
  finish(LL_CAP_END__EXIT, 0, &uc, (uintptr_t)__builtin_frame_address(0));
  real_exit("_Exit", status);
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGTERM};

static void on_fatal(int sig, siginfo_t *info, void *uc) {
  (void)info;
  int saved = errno;
  if (getpid() == ll__pl_pid && __atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) == LL__PL_RECORDING &&
      !__atomic_load_n(&g_written, __ATOMIC_SEQ_CST)) {
    finish(LL_CAP_END_SIGNAL, sig, uc, (uintptr_t)__builtin_frame_address(0)); /* the program's registers */
    g_crash_done = 1;
  } else if (getpid() == ll__pl_pid && __atomic_load_n(&g_written, __ATOMIC_SEQ_CST)) {
    /* Another thread is writing the capture: let it finish (bounded) before dying. */
    for (int i = 0; i < 5000 && !g_crash_done; i++) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  /* Die of the same signal, as without us: default action, then the signal again (pending until
   * this handler returns; a faulting instruction also faults again). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, NULL);
  raise(sig);
  errno = saved;
}

static void install_signal_handlers(void) {
  for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
    struct sigaction old, sa;
    /* A disposition the program inherited (ignored SIGTERM under nohup...) stays as it is. */
    if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(fatal_signals[i], &sa, NULL);
  }
}

/* ---- fork ------------------------------------------------------------------------------------ */

static void atfork_child(void) {
  ll__pl_async_forget(); /* the ring and its helper are the parent's */
  if (__atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) != LL__PL_RECORDING) return;
  if (ll__pl_follow && g_watched) { /* the tracker is shared with the parent's watcher */
    ll__pl_say_once(LL_SAY_GO_FORK, "leaklab: --follow-fork: a process forked by a Go program's C "
                    "code is not followed (only the programs it execs are)\n");
  }
  if (!ll__pl_follow || g_watched) {
    __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
    return;
  }
  /* A followed child: its own capture; its peak starts from what it inherited. */
  char path[4200];
  ll__pl_pid = getpid();
  snprintf(path, sizeof path, "%.4000s.%ld", ll__pl_env_saved(LL_ENV_CAPTURE), ll__pl_pid);
  ll__pl_capture_set_path(path);
  ll__pl_capture_set_flags(LL_CAP_F_CHILD | (ll__pl_env_saved(LL_ENV_NATIVE) != NULL ? LL_CAP_F_NATIVE : 0));
  ll__pl_chain_load(NULL, ll__pl_pid);
  ll__pl_timeline_reset();
  ll_reset_peak();
}

/* ---- start ----------------------------------------------------------------------------------- */

/* In the helper process, once the program ended without writing its capture (a signal it did
 * not catch: SIGKILL from the OOM killer, SIGPIPE, SIGINT ...; or Go's raw exit_group): the
 * tracker is whole (the helper applied every event), so the capture is written from here,
 * marked LL_CAP_F_KILLED, with how the program ended. */
static void write_after_death(int how, int sig) {
  ll__pl_write_capture(how, how == LL_CAP_END_SIGNAL ? sig : 0, 0);
}

/* The same in the synchronous recorder's watcher, which read the tracker the program recorded
 * into: partial when a thread was changing it when the program died. */
static void write_after_kill(int how, int sig, int partial) {
  ll__pl_write_capture(how, how == LL_CAP_END_SIGNAL ? sig : 0, partial);
}


/* Address space for the tracker's tables when a helper applies the events: reserved, not
 * committed (pages exist once written), so this only bounds the largest recording. */
#define TRACKER_RESERVE ((size_t)64 << 30)

/* LEAKLAB_RECORDER as it was at start (the environment itself may be stripped by then). */
static const char *recorder_env(void) { return ll__pl_env_saved(LL_ENV_RECORDER); }

static int async_forced(void) {
  const char *v = recorder_env();
  return v != NULL && strcmp(v, "async") == 0;
}

/* LEAKLAB_RECORDER: sync records in the program's threads; async in a helper process; auto (the
 * default) in a helper when this process may use two CPUs. Either way a helper is used only
 * while the process has one thread, and never with --follow-fork (a followed child would share
 * its parent's tracker). */
static int choose_recorder(void) {
  const char *v = recorder_env();
  int forced = async_forced();
  /* A Go program (cgo) ends with a raw exit_group: no exit, destructor or _exit of ours runs, so
   * only a process that outlives it can write the capture - the helper, which finds it gone.
   * It is used whatever --recorder says (same figures either way), when it can be. */
  if (ll__pl_main_is_go() && !ll__pl_follow && __libc_single_threaded) {
    if (v != NULL && strcmp(v, "sync") == 0)
      ll__pl_say_once(LL_SAY_GO_SYNC, "leaklab: --recorder sync: a Go program ends with a raw "
                      "exit_group system call, which only the helper process outlives; "
                      "recording through the helper\n");
    return 1;
  }
  if (v != NULL && strcmp(v, "sync") == 0) return 0;
  if (v != NULL && v[0] != '\0' && !forced && strcmp(v, "auto") != 0)
    ll__pl_say_once(LL_SAY_RECORDER_ENV,
                    "leaklab: " LL_ENV_RECORDER " takes auto, async or sync; using auto\n");
  if (ll__pl_follow || !__libc_single_threaded) {
    if (forced)
      ll__pl_say_once(ll__pl_follow ? LL_SAY_ASYNC_FOLLOW : LL_SAY_ASYNC_THREADS,
                      ll__pl_follow ? "leaklab: --recorder async does not combine with --follow-fork; recording in the program's threads\n"
                   : "leaklab: --recorder async: the program already has several threads; recording in them\n");
    return 0;
  }
  if (forced) return 1;
  cpu_set_t cpus;
  return sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) >= 2;
}

/* Decide whether this process records, and set everything up when it does. */
static void start(void) {
  char program[1024], path[4200];
  ll__pl_resolve();
  ll__pl_self_path(); /* found now, before anything reads it */

  const char *cap = getenv(LL_ENV_CAPTURE);
  if (cap == NULL || cap[0] == '\0') return; /* loaded outside `leaklab run`: stay inert */
  ll__pl_say_once_base(cap); /* the run's capture, the same in every process and image */
  ll__pl_run_active = 1;
  ll__pl_env_save();
  const char *v = getenv(LL_ENV_FOLLOW_FORK);
  ll__pl_follow = v != NULL && strcmp(v, "1") == 0;

  if (ll__pl_is_shadowed()) {
    ll__pl_say_once(LL_SAY_SHADOWED, "leaklab: another library's malloc comes before "
                    "libleaklab-preload.so in LD_PRELOAD; nothing is recorded (put "
                    "libleaklab-preload.so first)\n");
    ll__pl_env_strip();
    return;
  }

  long pid = (long)getpid();
  v = getenv(LL_ENV_ROOT_PID);
  long root = v != NULL ? strtol(v, NULL, 10) : 0;
  if (root <= 0) root = pid; /* LD_PRELOAD set by hand: this process is the one traced */
  uint32_t flags = 0;
  if (pid == root) {
    snprintf(path, sizeof path, "%.4100s", cap);
  } else if (ll__pl_follow) {
    snprintf(path, sizeof path, "%.4000s.%ld", cap, pid);
    flags |= LL_CAP_F_CHILD;
  } else {
    ll__pl_env_strip(); /* a child that inherited the environment some other way */
    return;
  }
  ll__pl_pid = pid;
  ll__pl_capture_set_path(path);
  ll__pl_usable_check(); /* usable sizes from glibc's chunk headers when they agree */

  v = getenv(LL_ENV_FRAMES);
  int frames = v != NULL ? atoi(v) : 16;
  v = getenv(LL_ENV_UNWIND);
  int mode = LL__UNWIND_AUTO;
  if (v != NULL && strcmp(v, "fp") == 0) mode = LL__UNWIND_FP;
  if (v != NULL && strcmp(v, "libunwind") == 0) mode = LL__UNWIND_LIBUNWIND;
  v = getenv(LL_ENV_NATIVE);
  if (v != NULL && strcmp(v, "1") == 0) flags |= LL_CAP_F_NATIVE;
  ll__pl_capture_set_flags(flags);
  ll__pl_stack_config(mode, frames);
  /* The main thread's stack now: finding it reads /proc/self/maps (milliseconds, allocating),
   * and a signal handler's allocations while a hook does that could not be recorded. */
  uintptr_t stack_lo, stack_hi;
  (void)ll__pl_stack_bounds(&stack_lo, &stack_hi);
  ll__pl_modules_refresh();

  ll__read_cmdline(program, sizeof program);
  ll__pl_chain_set_program(program);
  ll__pl_chain_load(getenv(LL_ENV_CHAIN), pid);
  if (!ll__pl_follow) ll__pl_env_strip();

  int async = choose_recorder();
  if (async && ll__tracker_share(TRACKER_RESERVE) != 0) {
    async = 0;
    if (async_forced())
      ll__pl_say_once(LL_SAY_ASYNC_NO_SHM, "leaklab: --recorder async: no shared memory for the "
                      "tracker; recording in the program's threads\n");
  }
  /* Recording in the program's threads: into a tracker shared with a watcher that outlives a
   * kill (preload_watch.c). Not for --follow-fork (a followed child would share it), except
   * for Go, whose children are exec'd (from a raw clone: no atfork handler runs). */
  int watch = !async && __libc_single_threaded && (!ll__pl_follow || ll__pl_main_is_go()) &&
              ll__tracker_share(TRACKER_RESERVE) == 0;
  ll_set_program(program);
  int rc = ll_start(ll__pl_stack_frames());
  if (rc != 0) {
    ll__pl_say_once(LL_SAY_TRACKER, "leaklab: the tracker could not start; nothing is recorded\n");
    return;
  }
  ll__pl_hooks_prestart(1); /* before the helper starts: the tracker is still this thread's */
  if (async && ll__pl_async_start(ll__pl_async_reserve(), write_after_death) != 0 && async_forced())
    ll__pl_say_once(LL_SAY_ASYNC_NO_HELPER, "leaklab: --recorder async: the helper process could "
                    "not start; recording in the program's threads\n");
  if (watch) g_watched = ll__pl_watch_start(write_after_kill) == 0;
  if (!ll__pl_async_active() && !g_watched && ll__pl_main_is_go())
    ll__pl_say_once(LL_SAY_GO_LOST, "leaklab: a Go program ends with a raw exit_group system "
                    "call, which nothing recording in its own threads outlives: its capture "
                    "will be lost (record it without --follow-fork, so the helper process "
                    "records it)\n");
  pthread_atfork(NULL, NULL, atfork_child);
  install_signal_handlers();
  ll__pl_timeline_reset();
  __atomic_store_n(&ll__pl_state, LL__PL_RECORDING, __ATOMIC_SEQ_CST);
  ll__pl_limits_start();
}

__attribute__((constructor)) static void at_load(void) {
  int saved = errno; /* the program's main sees the errno it would see without us */
  int g = ll__pl_guard_enter();
  start();
  ll__pl_hooks_prestart(0); /* whatever start decided, nothing more is noted */
  ll__pl_guard_leave(g);
  errno = saved;
}
