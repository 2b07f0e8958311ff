/* preload_process.c - the traced process's life: start, fork, exec, spawn, dlclose, _exit, crashes, exit. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

/*
 * Which processes record, and where:
 * - the traced process (pid == LEAKLAB_ROOT_PID) records into LEAKLAB_CAPTURE;
 * - an exec in it keeps tracing: the exec hooks give the new image the preload and the
 *   leaklab variables back, plus a summary of the images so far (LEAKLAB_CHAIN); the new image
 *   records into the same capture and lists the chain in it;
 * - children (fork, vfork, posix_spawn, system, popen) do not record. At start the preload
 *   removes itself and the leaklab variables from the environment, so whatever a child execs,
 *   by whatever path, starts untraced; a forked child stops recording at once (atfork), and its
 *   exec'd program gets the stripped environment. With LEAKLAB_FOLLOW_FORK=1 the environment
 *   is left alone and every child records into CAPTURE.<pid>.
 * The capture is written once: at exit (a destructor; ours runs after the program's own), at
 * _exit/_Exit, or from the handler of a fatal signal, which then re-raises it.
 * With a helper process (preload_async.c, LEAKLAB_RECORDER), every one of those ends, an exec
 * that keeps recording, and the program's second thread first have the helper drain and exit:
 * from then on the tracker is this process's, as without a helper.
 */

extern char **environ;

static int g_run_active;   /* LEAKLAB_CAPTURE was set: part of a leaklab run */
static int g_follow;
static long g_pid;         /* the process that records (updated in a followed child) */
static char g_self[4096];  /* our library's path */
static int g_written;      /* the capture was written (or is being written) */
static volatile int g_crash_done;

/* The leaklab variables as they were ("NAME=value"), to give back to an exec'd image. */
#define NSAVED 7
static const char *const saved_names[NSAVED] = {LL_ENV_CAPTURE, LL_ENV_ROOT_PID, LL_ENV_FRAMES,
                                                LL_ENV_UNWIND, LL_ENV_NATIVE, LL_ENV_FOLLOW_FORK,
                                                LL_ENV_RECORDER};
static char saved_env[NSAVED][4200];

const char *ll__pl_self_path(void) { return g_self; }

/* ---- environment editing (no malloc: vfork children run this on the parent's memory) ----- */

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_self_entry(const char *e, size_t n) {
  size_t sl = strlen(g_self), bl = strlen(LL_PRELOAD_NAME);
  if (n == sl && memcmp(e, g_self, n) == 0) return 1;
  /* Any path ending in our name: leaklab run may have named us through a symlink. */
  return n >= bl && memcmp(e + n - bl, LL_PRELOAD_NAME, bl) == 0 &&
         (n == bl || e[n - bl - 1] == '/');
}

/* LD_PRELOAD's value without our entries, into out (same separators); its length. */
static size_t preload_without_self(const char *v, char *out, size_t cap) {
  size_t at = 0;
  while (*v != '\0') {
    size_t n = strcspn(v, ": ");
    if (n > 0 && !is_self_entry(v, n) && at + n + 2 <= cap) {
      if (at > 0) out[at++] = ':';
      memcpy(out + at, v, n);
      at += n;
    }
    v += n;
    while (*v == ':' || *v == ' ') v++;
  }
  out[at] = '\0';
  return at;
}

enum { ENV_PASS, ENV_STRIP, ENV_CONTINUE };

static int recording_here(void) {
  return getpid() == g_pid && __atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) == LL__PL_RECORDING;
}

static int exec_mode(void) {
  if (!g_run_active) return ENV_PASS;
  if (recording_here()) {
    /* The chain's summary of this image reads the tracker, and the next image starts its own
     * helper: this one's has to finish first. */
    ll__pl_async_stop(0);
    if (recording_here()) return ENV_CONTINUE;
  }
  return g_follow ? ENV_PASS : ENV_STRIP;
}

static size_t env_count(char *const envp[]) {
  size_t n = 0;
  while (envp != NULL && envp[n] != NULL) n++;
  return n;
}

static const char *env_get(char *const envp[], const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') return envp[i] + n + 1;
  return NULL;
}

/* Room a rewritten environment needs: the vector (entries + ours) and the strings we make. */
#define ENV_EXTRA (NSAVED + 4)
#define CHAIN_MAX 16384

/* Rewrite envp into vec (cap >= count + ENV_EXTRA) using strbuf for the new strings. STRIP:
 * no leaklab variables, no preload entry for us. CONTINUE: ours first in LD_PRELOAD, the
 * leaklab variables as at start, and the chain with this image added. */
static char **env_rewrite(int mode, char *const envp[], char **vec, char *strbuf, size_t strcap) {
  size_t k = 0, at = 0;
  const char *pre = env_get(envp, "LD_PRELOAD");
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (!starts_with(envp[i], "LEAKLAB_") && !starts_with(envp[i], "LD_PRELOAD=")) vec[k++] = envp[i];

  char *ld = strbuf;
  memcpy(ld, "LD_PRELOAD=", 11);
  at = 11;
  if (mode == ENV_CONTINUE) {
    size_t sl = strlen(g_self);
    memcpy(ld + at, g_self, sl);
    at += sl;
    if (pre != NULL && pre[0] != '\0') ld[at++] = ':';
  }
  if (pre != NULL) at += preload_without_self(pre, ld + at, strcap / 2 - at);
  ld[at] = '\0';
  if (at > 11) vec[k++] = ld;
  at++;

  if (mode == ENV_CONTINUE) {
    for (int i = 0; i < NSAVED; i++)
      if (saved_env[i][0] != '\0') vec[k++] = saved_env[i];
    char *chain = strbuf + at;
    size_t name = strlen(LL_ENV_CHAIN) + 1;
    memcpy(chain, LL_ENV_CHAIN "=", name);
    if (ll__pl_chain_encode_next(chain + name, strcap - at - name, g_pid, NULL) > 0)
      vec[k++] = chain;
  }
  vec[k] = NULL;
  return vec;
}

/* Declares vec and strbuf sized for envp, then rewrites it: NEWENV is the env to pass. The
 * strings buffer holds LD_PRELOAD (twice its old length plus our path) and the chain. */
#define WITH_ENV(envp, NEWENV)                                                                  \
  int mode_ = exec_mode();                                                                      \
  size_t n_ = mode_ == ENV_PASS ? 1 : env_count(envp) + ENV_EXTRA;                              \
  const char *pre_ = mode_ == ENV_PASS ? NULL : env_get(envp, "LD_PRELOAD");                    \
  size_t cap_ = mode_ == ENV_PASS ? 1 : 2 * (strlen(pre_ ? pre_ : "") + sizeof g_self + 32) + CHAIN_MAX; \
  char *vec_[n_];                                                                               \
  char strbuf_[cap_];                                                                           \
  char *const *NEWENV = mode_ == ENV_PASS ? (envp) : env_rewrite(mode_, envp, vec_, strbuf_, cap_)

/* ---- exec and spawn ------------------------------------------------------------------------ */

static void *next_fn(const char *name) {
  int g = ll__pl_guard;
  ll__pl_guard = 1;
  void *f = dlsym(RTLD_NEXT, name);
  ll__pl_guard = g;
  return f;
}

LL__PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  int (*real)(const char *, char *const[], char *const[]) =
      (int (*)(const char *, char *const[], char *const[]))next_fn("execve");
  WITH_ENV(envp, env);
  return real(path, argv, env);
}

LL__PL_EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

LL__PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  int (*real)(const char *, char *const[], char *const[]) =
      (int (*)(const char *, char *const[], char *const[]))next_fn("execvpe");
  WITH_ENV(envp, env);
  return real(file, argv, env);
}

LL__PL_EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

LL__PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  int (*real)(int, char *const[], char *const[]) =
      (int (*)(int, char *const[], char *const[]))next_fn("fexecve");
  WITH_ENV(envp, env);
  return real(fd, argv, env);
}

/* The execl family: gather the arguments, then as execve / execvpe. */
#define GATHER_ARGS(arg0, ap, ARGV)                                                             \
  size_t argc_ = 1;                                                                             \
  va_start(ap, arg0);                                                                           \
  while (va_arg(ap, char *) != NULL) argc_++;                                                   \
  va_end(ap);                                                                                   \
  char *ARGV[argc_ + 1];                                                                        \
  va_start(ap, arg0);                                                                           \
  ARGV[0] = (char *)arg0;                                                                       \
  for (size_t i_ = 1; i_ <= argc_; i_++) ARGV[i_] = va_arg(ap, char *);

LL__PL_EXPORT int execl(const char *path, const char *arg, ...) {
  va_list ap;
  GATHER_ARGS(arg, ap, argv);
  va_end(ap);
  return execve(path, argv, environ);
}

LL__PL_EXPORT int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  GATHER_ARGS(arg, ap, argv);
  va_end(ap);
  return execvpe(file, argv, environ);
}

LL__PL_EXPORT int execle(const char *path, const char *arg, ...) {
  va_list ap;
  GATHER_ARGS(arg, ap, argv);
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  return execve(path, argv, envp);
}

/* posix_spawn makes a child: never a continuation of this image. */
static int spawn_mode(void) { return g_run_active && !g_follow ? ENV_STRIP : ENV_PASS; }

LL__PL_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
              const posix_spawnattr_t *, char *const[], char *const[]) =
      (int (*)(pid_t *, const char *, const posix_spawn_file_actions_t *,
               const posix_spawnattr_t *, char *const[], char *const[]))next_fn("posix_spawn");
  int mode = spawn_mode();
  if (mode == ENV_PASS) return real(pid, path, fa, attr, argv, envp);
  const char *pre = env_get(envp, "LD_PRELOAD");
  size_t cap = 2 * (strlen(pre ? pre : "") + 32) + 64;
  char *vec[env_count(envp) + ENV_EXTRA];
  char buf[cap];
  return real(pid, path, fa, attr, argv, env_rewrite(mode, envp, vec, buf, cap));
}

LL__PL_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
              const posix_spawnattr_t *, char *const[], char *const[]) =
      (int (*)(pid_t *, const char *, const posix_spawn_file_actions_t *,
               const posix_spawnattr_t *, char *const[], char *const[]))next_fn("posix_spawnp");
  int mode = spawn_mode();
  if (mode == ENV_PASS) return real(pid, file, fa, attr, argv, envp);
  const char *pre = env_get(envp, "LD_PRELOAD");
  size_t cap = 2 * (strlen(pre ? pre : "") + 32) + 64;
  char *vec[env_count(envp) + ENV_EXTRA];
  char buf[cap];
  return real(pid, file, fa, attr, argv, env_rewrite(mode, envp, vec, buf, cap));
}

/* ---- dlclose: remember the module before it goes (its addresses are in the stacks) -------- */

LL__PL_EXPORT int dlclose(void *handle) {
  int (*real)(void *) = (int (*)(void *))next_fn("dlclose");
  if (__atomic_load_n(&ll__pl_state, __ATOMIC_RELAXED) == LL__PL_RECORDING && !ll__pl_guard) {
    ll__pl_guard = 1;
    ll__pl_modules_refresh();
    ll__pl_guard = 0;
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

static void finish(int how, int sig) {
  if (getpid() != g_pid) return;
  if (__atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) != LL__PL_RECORDING && !ll__pl_async_lost())
    return;
  if (__atomic_exchange_n(&g_written, 1, __ATOMIC_SEQ_CST)) return;
  /* With a helper, this thread was never inside the tracker (only queueing events), and once
   * the helper has drained, the tracker is whole; if the helper died, it cannot be trusted. */
  int was_async = ll__pl_async_active();
  int lost = ll__pl_async_stop(how == LL_CAP_END_SIGNAL) != 0;
  int inside = lost || (ll__pl_guard && !was_async);
  int consistent = quiesce(inside);
  ll__pl_guard = 1;
  ll__pl_write_capture(how, sig, !consistent);
  ll__tracker_thaw(); /* threads still running go on (unrecorded) */
}

__attribute__((destructor)) static void at_exit_end(void) {
  /* Threads still running keep allocating: their allocations after this are not recorded. */
  finish(LL_CAP_END_EXIT, 0);
}

static void real_exit(const char *name, int status) __attribute__((noreturn));
static void real_exit(const char *name, int status) {
  void (*real)(int) = (void (*)(int))next_fn(name);
  if (real != NULL) real(status);
  syscall(SYS_exit_group, status);
  for (;;) pause();
}

LL__PL_EXPORT void _exit(int status) {
  finish(LL_CAP_END__EXIT, 0);
  real_exit("_exit", status);
}

LL__PL_EXPORT void _Exit(int status) {
  finish(LL_CAP_END__EXIT, 0);
  real_exit("_Exit", status);
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGTERM};

static void on_fatal(int sig, siginfo_t *info, void *uc) {
  (void)info, (void)uc;
  int saved = errno;
  if (getpid() == g_pid && __atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) == LL__PL_RECORDING &&
      !__atomic_load_n(&g_written, __ATOMIC_SEQ_CST)) {
    finish(LL_CAP_END_SIGNAL, sig);
    g_crash_done = 1;
  } else if (getpid() == g_pid && __atomic_load_n(&g_written, __ATOMIC_SEQ_CST)) {
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
  if (!g_follow) {
    __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
    return;
  }
  /* A followed child: its own capture; its peak starts from what it inherited. */
  char path[4200];
  g_pid = getpid();
  snprintf(path, sizeof path, "%.4000s.%ld", saved_env[0] + strlen(LL_ENV_CAPTURE) + 1, g_pid);
  ll__pl_capture_set_path(path);
  ll__pl_capture_set_flags(LL_CAP_F_CHILD | (saved_env[4][0] != '\0' ? LL_CAP_F_NATIVE : 0));
  ll__pl_chain_load(NULL, g_pid);
  ll__pl_timeline_reset();
  ll_reset_peak();
}

/* ---- start ----------------------------------------------------------------------------------- */

static void read_cmdline(char *buf, size_t cap) {
  FILE *f = fopen("/proc/self/cmdline", "r");
  size_t n = 0;
  buf[0] = '\0';
  if (f == NULL) return;
  n = fread(buf, 1, cap - 1, f);
  fclose(f);
  while (n > 0 && buf[n - 1] == '\0') n--;
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  buf[n] = '\0';
}

static void save_env(void) {
  for (int i = 0; i < NSAVED; i++) {
    const char *v = getenv(saved_names[i]);
    saved_env[i][0] = '\0';
    if (v != NULL) snprintf(saved_env[i], sizeof saved_env[i], "%s=%s", saved_names[i], v);
  }
}

/* Remove ourselves from this process's environment (children then start untraced). */
static void strip_environ(void) {
  const char *pre = getenv("LD_PRELOAD");
  if (pre != NULL) {
    char rest[8192];
    if (strlen(pre) < sizeof rest && preload_without_self(pre, rest, sizeof rest) > 0)
      setenv("LD_PRELOAD", rest, 1);
    else
      unsetenv("LD_PRELOAD");
  }
  for (int i = 0; i < NSAVED; i++) unsetenv(saved_names[i]);
  unsetenv(LL_ENV_CHAIN);
}

static void say(const char *msg) {
  ssize_t w = write(2, msg, strlen(msg));
  (void)w;
}

/* Address space for the tracker's tables when a helper applies the events: reserved, not
 * committed (pages exist once written), so this only bounds the largest recording. */
#define TRACKER_RESERVE ((size_t)64 << 30)

/* LEAKLAB_RECORDER as it was at start (the environment itself may be stripped by then). */
static const char *recorder_env(void) {
  const char *e = saved_env[NSAVED - 1];
  return e[0] != '\0' ? e + strlen(LL_ENV_RECORDER) + 1 : NULL;
}

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
  if (v != NULL && strcmp(v, "sync") == 0) return 0;
  if (v != NULL && v[0] != '\0' && !forced && strcmp(v, "auto") != 0)
    say("leaklab: " LL_ENV_RECORDER " takes auto, async or sync; using auto\n");
  if (g_follow || !__libc_single_threaded) {
    if (forced)
      say(g_follow ? "leaklab: --recorder async does not combine with --follow-fork; recording in the program's threads\n"
                   : "leaklab: --recorder async: the program already has several threads; recording in them\n");
    return 0;
  }
  if (forced) return 1;
  cpu_set_t cpus;
  return sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) >= 2;
}

void ll__pl_init(void) {
  Dl_info info;
  char program[1024], path[4200];
  ll__pl_guard = 1;
  ll__pl_resolve();
  if (dladdr((void *)ll__pl_init, &info) != 0 && info.dli_fname != NULL)
    snprintf(g_self, sizeof g_self, "%s", info.dli_fname);

  const char *cap = getenv(LL_ENV_CAPTURE);
  if (cap == NULL || cap[0] == '\0') goto out; /* loaded outside `leaklab run`: stay inert */
  g_run_active = 1;
  save_env();
  const char *v = getenv(LL_ENV_FOLLOW_FORK);
  g_follow = v != NULL && strcmp(v, "1") == 0;

  if (ll__pl_is_shadowed()) {
    say("leaklab: another library's malloc comes before libleaklab-preload.so in LD_PRELOAD; "
        "nothing is recorded (put libleaklab-preload.so first)\n");
    strip_environ();
    goto out;
  }

  long pid = (long)getpid();
  v = getenv(LL_ENV_ROOT_PID);
  long root = v != NULL ? strtol(v, NULL, 10) : 0;
  if (root <= 0) root = pid; /* LD_PRELOAD set by hand: this process is the one traced */
  uint32_t flags = 0;
  if (pid == root) {
    snprintf(path, sizeof path, "%.4100s", cap);
  } else if (g_follow) {
    snprintf(path, sizeof path, "%.4000s.%ld", cap, pid);
    flags |= LL_CAP_F_CHILD;
  } else {
    strip_environ(); /* a child that inherited the environment some other way */
    goto out;
  }
  g_pid = pid;
  ll__pl_capture_set_path(path);

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
  ll__pl_modules_refresh();

  read_cmdline(program, sizeof program);
  ll__pl_capture_set_program(program);
  ll__pl_chain_load(getenv(LL_ENV_CHAIN), pid);
  if (!g_follow) strip_environ();

  int async = choose_recorder();
  if (async && ll__tracker_share(TRACKER_RESERVE) != 0) {
    async = 0;
    if (async_forced()) say("leaklab: --recorder async: no shared memory for the tracker; recording in the program's threads\n");
  }
  ll_set_program(program);
  int rc = ll_start(ll__pl_stack_frames());
  if (rc != 0) {
    say("leaklab: the tracker could not start; nothing is recorded\n");
    goto out;
  }
  if (async && ll__pl_async_start() != 0 && async_forced())
    say("leaklab: --recorder async: the helper process could not start; recording in the program's threads\n");
  pthread_atfork(NULL, NULL, atfork_child);
  install_signal_handlers();
  ll__pl_timeline_reset();
  __atomic_store_n(&ll__pl_state, LL__PL_RECORDING, __ATOMIC_SEQ_CST);
out:
  ll__pl_guard = 0;
}

__attribute__((constructor)) static void at_load(void) { ll__pl_init(); }
