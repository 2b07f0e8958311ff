/* record.c - ll__record: fork the program under the preload, wait for it as a shell does, find its capture. */
#include "cli.h"
#include "errors.h"
#include "record.h"
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Whether the file holds `needle` (a NUL-terminated record of /proc/PID/environ, say). */
static int file_has(const char *path, const char *needle, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap + 1);
  ssize_t got;
  while (buf != NULL && len < cap && (got = read(fd, buf + len, cap - len)) > 0) len += (size_t)got;
  close(fd);
  int found = buf != NULL && memmem(buf, len, needle, n) != NULL;
  free(buf);
  return found;
}

/* The recording helper process of the program `pid` (preload_async.c), or 0: it is named
 * leaklab-helper, and its environment at start is the program's, which holds
 * LEAKLAB_ROOT_PID=pid. It outlives a program killed by a signal the program did not catch,
 * and writes its capture then. */
static pid_t find_helper(pid_t pid) {
  char needle[64], path[64], comm[32];
  int n = snprintf(needle, sizeof needle, "%c%s=%d", '\0', LL_ENV_ROOT_PID, (int)pid);
  DIR *d = opendir("/proc");
  pid_t found = 0;
  for (struct dirent *e; d != NULL && found == 0 && (e = readdir(d)) != NULL;) {
    char *end;
    long h = strtol(e->d_name, &end, 10);
    if (*end != '\0' || h <= 0 || h == pid) continue;
    snprintf(path, sizeof path, "/proc/%ld/comm", h);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t got = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (got != (ssize_t)sizeof "leaklab-helper" || memcmp(comm, "leaklab-helper\n", (size_t)got) != 0) continue;
    snprintf(path, sizeof path, "/proc/%ld/environ", h);
    /* (the first variable has no NUL before it: the helper's is never first, see record_child.c) */
    if (file_has(path, needle, (size_t)n + 1)) found = (pid_t)h; /* with its NUL: 12 is not 123 */
  }
  if (d != NULL) closedir(d);
  return found;
}

/* The program ended without a capture: if its helper is still there, it is writing it; wait
 * for the helper to end (at most 30 s). */
static void wait_for_helper(pid_t pid) {
  pid_t h = find_helper(pid);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)h);
  for (int i = 0; h != 0 && i < 3000; i++) {
    char buf[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) return;
    buf[got] = '\0';
    const char *rp = strrchr(buf, ')');
    if (rp == NULL || rp[2] == 'Z' || rp[2] == 'X') return; /* done (init reaps it) */
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
}

/* The markers of the warnings the preload said once (ll__pl_say_once) beside capture `cap`. */
static void remove_said(const char *cap) {
  char path[PATH_MAX * 2 + 32];
  for (int id = 0; id < LL_SAY__COUNT; id++) {
    snprintf(path, sizeof path, "%s" LL_SAY_SUFFIX "%d", cap, id);
    unlink(path);
  }
}

/* Whether a process of the run left marker `id` beside capture `cap` (before remove_said). */
static int marked(const char *cap, int id) {
  char path[PATH_MAX * 2 + 32];
  snprintf(path, sizeof path, "%s" LL_SAY_SUFFIX "%d", cap, id);
  return access(path, F_OK) == 0;
}

/* Whether a capture can be made where this run's will go: a program run whose recording cannot
 * be saved is worth refusing before it starts. A file created there and removed at once (the
 * writer's own temporary file goes beside it too). 0, or an error code. */
static int probe_capture_dir(const ll__record_opts_t *o, const char *prog, char *probe,
                             size_t len) {
  /* With -o, the capture's own name (removed just before); else a name of this process's. */
  ll__record_capture_path(o->output, prog, ".probe", (long)getpid(), probe, len);
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return LL__ERR(errno);
  close(fd);
  unlink(probe);
  return 0;
}

/* The program being waited for, for the signals run passes on. */
static volatile pid_t g_program;

/* SIGTERM or SIGHUP sent to run (kill, timeout, a closed terminal) goes to the program, as if
 * it had been started without leaklab, and run goes on waiting: the program's end is reported
 * and the run cleaned up (the markers of ll__pl_say_once) as usual. */
static void pass_on(int sig) {
  int saved = errno;
  if (g_program > 0) kill(g_program, sig);
  errno = saved;
}

int ll__record(char **argv, const ll__record_opts_t *o, char *cap, size_t caplen,
               int *wait_status, time_t *started) {
  char program[PATH_MAX], preload[PATH_MAX];
  int pipefd[2], rc;

  if ((rc = ll__record_locate(argv[0], program, sizeof program, preload, sizeof preload)) != 0)
    return rc;
  /* A stale file at -o would pass for this run's capture: remove it first. */
  if (o->output != NULL) {
    ll__record_capture_path(o->output, argv[0], "", 0, cap, caplen);
    if (unlink(cap) != 0 && errno != ENOENT)
      return ll__runtime_error(cap, LL__ERR(errno), " (cannot replace the old capture)");
    remove_said(cap); /* an earlier run's, killed before it removed them: this one says again */
  }
  if ((rc = probe_capture_dir(o, argv[0], cap, caplen)) != 0) {
    if (o->output == NULL) { /* the probe's name is ours: name its directory */
      char *slash = strrchr(cap, '/');
      if (slash != NULL) *slash = '\0';
      else snprintf(cap, caplen, "the current directory");
    }
    return ll__runtime_error(cap, rc, " (no capture can be written there; the program was not started)");
  }
  if (pipe2(pipefd, O_CLOEXEC) != 0) return ll__runtime_error("pipe", LL__ERR(errno), NULL);

  if (started != NULL) *started = time(NULL);
  fflush(NULL);
  /* The signals run handles stay blocked from before the fork until their handlers are set: on a
   * busy machine the program can start, and be sent one, before this process runs again. */
  sigset_t handled, old_mask;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGQUIT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGHUP);
  sigprocmask(SIG_BLOCK, &handled, &old_mask);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    close(pipefd[0]);
    close(pipefd[1]);
    return ll__runtime_error("fork", LL__ERR(err), NULL);
  }
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old_mask, NULL); /* the program gets the mask run was given */
    close(pipefd[0]);
    ll__record_child(argv, o, program, preload, pipefd[1]);
  }
  close(pipefd[1]);
  /* Like a shell waiting for its job: ^C goes to the program, and we report after it. */
  struct sigaction ign, pass, old_int, old_quit, old_term, old_hup;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  memset(&pass, 0, sizeof pass);
  pass.sa_handler = pass_on;
  pass.sa_flags = SA_RESTART;
  g_program = pid;
  sigaction(SIGTERM, &pass, &old_term);
  sigaction(SIGHUP, &pass, &old_hup);
  sigprocmask(SIG_SETMASK, &old_mask, NULL); /* one sent meanwhile is handled now */
  int exec_errno = 0, status = 0;
  ssize_t got;
  while ((got = read(pipefd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  /* Left a zombie until its helper (if any) is done: the helper reads how it ended from it. */
  rc = ll__wait_child_keep(pid, &status, o->verb, o->progress, o->progress != NULL ? 3.0 : 0);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGHUP, &old_hup, NULL);
  g_program = 0;
  if (rc != 0) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return ll__runtime_error("waitpid", rc, NULL);
  }
  ll__record_capture_path(o->output, argv[0], "", (long)pid, cap, caplen);
  if (got != sizeof exec_errno && access(cap, F_OK) != 0) wait_for_helper(pid);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) { /* reaped only now */
  }
  if (got == sizeof exec_errno) {
    fprintf(stderr, "leaklab: cannot start %s: %s\n", program, strerror(exec_errno));
    return LL__EXIT_RUNTIME;
  }

  int write_failed = marked(cap, LL_SAY_WRITE_FAILED);
  remove_said(cap);
  if (access(cap, F_OK) != 0) {
    if (write_failed) {
      fprintf(stderr, "leaklab: %s wrote no capture (%s): the preload could not write it (the "
              "line above says why); nothing was recorded\n", argv[0], cap);
      return LL__EXIT_RUNTIME;
    }
    if (WIFSIGNALED(status)) {
      ll__print_killed(argv[0], WTERMSIG(status), " before it could write its capture; nothing "
                       "was recorded\n");
      return ll__program_status(status); /* 128+N, as a shell says */
    }
    fprintf(stderr, "leaklab: %s wrote no capture (%s): the preload did not load into the "
            "program that ran - it, or a program it exec'd, is statically linked or setuid - "
            "or nothing outlived its end (a Go program's raw exit_group under --follow-fork); "
            "nothing was recorded\n", argv[0], cap);
    return LL__EXIT_RUNTIME;
  }
  *wait_status = status;
  return 0;
}
