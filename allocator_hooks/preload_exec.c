/* preload_exec.c - exec and spawn: the environment a new image or a child starts with. */
#include "preload_exec.h"

#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_format.h"
#include "engine.h"
#include "preload_async.h"
#include "preload_capture.h"
#include "preload_chain.h"
#include "preload_scan.h"
#include "preload_state.h"
#include "preload_timeline.h"
#include "preload_watch.h"

/*
 * Which processes record (preload_process.c decides at start):
 * - an exec in the recording image keeps tracing: the exec hooks give the new image the preload
 *   and the leaklab variables back, plus a summary of the images so far (LEAKLAB_CHAIN); the new
 *   image records into the same capture and lists the chain in it;
 * - children (fork, vfork, posix_spawn, system, popen) do not record. At start the preload
 *   removes itself and the leaklab variables from the environment, so whatever a child execs,
 *   by whatever path, starts untraced; the exec hooks strip them again from any environment a
 *   program passes explicitly. With LEAKLAB_FOLLOW_FORK=1 the environment is left alone.
 * - an exec of an image the dynamic loader will not put the preload into (statically linked,
 *   static-pie, another ELF class, setuid or setgid to someone else; a script whose interpreter
 *   is one of those) cannot continue the recording: the capture is written before the exec,
 *   flagged LL_CAP_F_EXEC_UNFOLLOWED, and the new image gets no leaklab variable.
 */

extern char **environ;

/* The leaklab variables as they were ("NAME=value"), to give back to an exec'd image. */
#define NSAVED 7
static const char *const saved_names[NSAVED] = {LL_ENV_CAPTURE, LL_ENV_ROOT_PID, LL_ENV_FRAMES,
                                                LL_ENV_UNWIND, LL_ENV_NATIVE, LL_ENV_FOLLOW_FORK,
                                                LL_ENV_RECORDER};
static char saved_env[NSAVED][4200];

/* ---- environment editing (no malloc: vfork children run this on the parent's memory) ----- */

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_self_entry(const char *e, size_t n) {
  const char *self = ll__pl_self_path();
  size_t sl = strlen(self), bl = strlen(LL_PRELOAD_NAME);
  if (n == sl && memcmp(e, self, n) == 0) return 1;
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
  return getpid() == ll__pl_pid && __atomic_load_n(&ll__pl_state, __ATOMIC_SEQ_CST) == LL__PL_RECORDING;
}

static int exec_mode(void) {
  if (!ll__pl_run_active) return ENV_PASS;
  if (recording_here()) {
    /* The chain's summary of this image reads the tracker, and the next image starts its own
     * helper: this one's has to finish first. */
    ll__pl_async_stop(0);
    ll__pl_watch_stop();
    if (recording_here()) return ENV_CONTINUE;
  }
  return ll__pl_follow ? ENV_PASS : ENV_STRIP;
}

/* ---- images the preload cannot enter ---------------------------------------------------------- */

#if UINTPTR_MAX > 0xffffffffu
#define NATIVE_CLASS ELFCLASS64
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
#else
#define NATIVE_CLASS ELFCLASS32
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
#endif

static int unfollowable_path(const char *path, int depth);

/* Whether the image open on fd runs without the dynamic loader preloading us (see above). Reads
 * only what it must (no malloc: a vfork child may run this). */
static int unfollowable_fd(int fd, int depth) {
  struct stat st;
  unsigned char h[256];
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
    return 1; /* secure-execution mode: LD_PRELOAD paths with a slash are ignored */
  ssize_t n = pread(fd, h, sizeof h - 1, 0);
  if (n >= 2 && h[0] == '#' && h[1] == '!') { /* a script: its interpreter, once */
    if (depth > 0) return 0;
    h[n] = '\0';
    char *p = (char *)h + 2;
    while (*p == ' ' || *p == '\t') p++;
    p[strcspn(p, " \t\n")] = '\0';
    return *p != '\0' && unfollowable_path(p, depth + 1);
  }
  if (n < (ssize_t)sizeof(ehdr_t) || memcmp(h, ELFMAG, SELFMAG) != 0) return 0;
  if (h[EI_CLASS] != NATIVE_CLASS) return 1; /* the loader would skip our library */
  ehdr_t eh;
  memcpy(&eh, h, sizeof eh);
  if ((eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(phdr_t)) return 0;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    phdr_t ph;
    if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph) return 0;
    if (ph.p_type == PT_INTERP) return 0; /* the dynamic loader runs: it preloads us */
  }
  return 1;
}

static int unfollowable_path(const char *path, int depth) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0; /* the exec will fail, or find it otherwise: let it */
  int r = unfollowable_fd(fd, depth);
  close(fd);
  return r;
}

/* execvp's search: a name without a slash is looked for on PATH (the caller's environment, as
 * glibc does; "/bin:/usr/bin" without one), the first executable file wins. */
static int unfollowable_file(const char *file) {
  if (strchr(file, '/') != NULL) return unfollowable_path(file, 0);
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  size_t fl = strlen(file);
  for (const char *d = path;; d++) {
    size_t dl = strcspn(d, ":");
    char full[4096];
    if (dl + fl + 2 <= sizeof full) {
      memcpy(full, d, dl);
      size_t at = dl;
      if (at == 0) full[at++] = '.'; /* an empty entry is the current directory */
      full[at++] = '/';
      memcpy(full + at, file, fl + 1);
      if (access(full, X_OK) == 0) return unfollowable_path(full, 0);
    }
    d += dl;
    if (*d == '\0') return 0;
  }
}

/* The recording ends here: write the capture now, as at an exit, flagged so. */
static int stop_before_exec(void) {
  ucontext_t uc;
  LL__PL_TAKE_REGS(uc);
  __atomic_store_n(&ll__pl_state, LL__PL_DONE, __ATOMIC_SEQ_CST);
  ll__pl_timeline_stop();
  int consistent = ll__tracker_freeze(1000);
  int g = ll__pl_guard_enter();
  ll__pl_say_once(LL_SAY_EXEC_STATIC, "leaklab: the program execs an image the preload cannot enter (statically linked, "
             "or setuid); the recording stops there and the capture holds what came before\n");
  ll__pl_scan_from = (uintptr_t)__builtin_frame_address(0);
  ll__pl_scan_regs = &uc;
  ll__pl_capture_add_flags(LL_CAP_F_EXEC_UNFOLLOWED);
  ll__pl_write_capture(LL_CAP_END_EXIT, 0, !consistent);
  ll__pl_scan_regs = NULL;
  ll__tracker_thaw();
  ll__pl_guard_leave(g);
  return ENV_STRIP;
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
    const char *self = ll__pl_self_path();
    size_t sl = strlen(self);
    memcpy(ld + at, self, sl);
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
    if (ll__pl_chain_encode_next(chain + name, strcap - at - name, ll__pl_pid) > 0)
      vec[k++] = chain;
  }
  vec[k] = NULL;
  return vec;
}

/* Declares vec and strbuf sized for envp, then rewrites it: NEWENV is the env to pass. The
 * strings buffer holds LD_PRELOAD (twice its old length plus our path) and the chain. */
#define WITH_ENV(envp, NEWENV, UNFOLLOWABLE)                                                    \
  int mode_ = exec_mode();                                                                      \
  if (mode_ == ENV_CONTINUE && (UNFOLLOWABLE)) mode_ = stop_before_exec();                      \
  size_t n_ = mode_ == ENV_PASS ? 1 : env_count(envp) + ENV_EXTRA;                              \
  const char *pre_ = mode_ == ENV_PASS ? NULL : env_get(envp, "LD_PRELOAD");                    \
  size_t cap_ = mode_ == ENV_PASS ? 1 : 2 * (strlen(pre_ ? pre_ : "") + LL__PL_SELF_MAX + 32) + CHAIN_MAX; \
  char *vec_[n_];                                                                               \
  char strbuf_[cap_];                                                                           \
  char *const *NEWENV = mode_ == ENV_PASS ? (envp) : env_rewrite(mode_, envp, vec_, strbuf_, cap_)

/* ---- exec and spawn ------------------------------------------------------------------------ */

LL__PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  int (*real)(const char *, char *const[], char *const[]) =
      (int (*)(const char *, char *const[], char *const[]))ll__pl_next("execve");
  WITH_ENV(envp, env, unfollowable_path(path, 0));
  return real(path, argv, env);
}

LL__PL_EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

LL__PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  int (*real)(const char *, char *const[], char *const[]) =
      (int (*)(const char *, char *const[], char *const[]))ll__pl_next("execvpe");
  WITH_ENV(envp, env, unfollowable_file(file));
  return real(file, argv, env);
}

LL__PL_EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

LL__PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  int (*real)(int, char *const[], char *const[]) =
      (int (*)(int, char *const[], char *const[]))ll__pl_next("fexecve");
  WITH_ENV(envp, env, unfollowable_fd(fd, 0));
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
static int spawn_mode(void) { return ll__pl_run_active && !ll__pl_follow ? ENV_STRIP : ENV_PASS; }

typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

/* posix_spawn and posix_spawnp (`name`): the real one, with the environment rewritten. */
static int spawn(const char *name, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  spawn_fn *real = (spawn_fn *)ll__pl_next(name);
  int mode = spawn_mode();
  if (mode == ENV_PASS) return real(pid, path, fa, attr, argv, envp);
  const char *pre = env_get(envp, "LD_PRELOAD");
  size_t cap = 2 * (strlen(pre ? pre : "") + 32) + 64;
  char *vec[env_count(envp) + ENV_EXTRA];
  char buf[cap];
  return real(pid, path, fa, attr, argv, env_rewrite(mode, envp, vec, buf, cap));
}

LL__PL_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  return spawn("posix_spawn", pid, path, fa, attr, argv, envp);
}

LL__PL_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  return spawn("posix_spawnp", pid, file, fa, attr, argv, envp);
}

/* ---- this process's own environment ----------------------------------------------------------- */

void ll__pl_env_save(void) {
  for (int i = 0; i < NSAVED; i++) {
    const char *v = getenv(saved_names[i]);
    saved_env[i][0] = '\0';
    if (v != NULL) snprintf(saved_env[i], sizeof saved_env[i], "%s=%s", saved_names[i], v);
  }
}

const char *ll__pl_env_saved(const char *name) {
  for (int i = 0; i < NSAVED; i++)
    if (strcmp(saved_names[i], name) == 0)
      return saved_env[i][0] != '\0' ? saved_env[i] + strlen(name) + 1 : NULL;
  return NULL;
}

/* LD_PRELOAD as this process keeps it once we are out of it ("LD_PRELOAD=..."). */
static char g_ld_preload[8192];

static int is_ours(const char *entry) {
  for (int i = 0; i < NSAVED; i++) {
    size_t n = strlen(saved_names[i]);
    if (strncmp(entry, saved_names[i], n) == 0 && entry[n] == '=') return 1;
  }
  return starts_with(entry, LL_ENV_CHAIN "=");
}

/* The environment block itself, edited in place: entries are dropped from the `environ` array
 * the process started with, never through unsetenv/setenv. A program may define its own
 * (bash does: they edit its shell variables, not `environ`) and copy `environ` before main
 * (bash again, from main's envp, which is this same array). */
void ll__pl_env_strip(void) {
  char **env = environ;
  size_t k = 0;
  if (env == NULL) return;
  for (size_t i = 0; env[i] != NULL; i++) {
    char *e = env[i];
    if (is_ours(e)) continue;
    if (starts_with(e, "LD_PRELOAD=")) {
      size_t name = sizeof "LD_PRELOAD=" - 1;
      if (strlen(e) >= sizeof g_ld_preload) continue; /* cannot be ours to rewrite: drop it */
      memcpy(g_ld_preload, e, name);
      if (preload_without_self(e + name, g_ld_preload + name, sizeof g_ld_preload - name) == 0)
        continue; /* only us: no LD_PRELOAD at all */
      e = g_ld_preload;
    }
    env[k++] = e;
  }
  env[k] = NULL;
}
