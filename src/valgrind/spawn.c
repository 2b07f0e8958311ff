/* spawn.c - finding and running programs: PATH search, /proc/self/exe, mkdir -p, a child's stdio, waiting with a progress line. */
#include "spawn.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leaklab/leaklab.h>


int ll__self_exe(char *out, size_t len) {
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  if (n < 0) return LL__ERR(errno);
  if ((size_t)n >= len - 1) return LL_EINVAL;
  out[n] = '\0';
  return 0;
}

/* 0 when path is a regular file we may execute, else the reason. */
static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return LL__ERR(errno);
  if (!S_ISREG(st.st_mode)) return LL_EACCES;
  return access(path, X_OK) == 0 ? 0 : LL__ERR(errno);
}

int ll__find_program(const char *name, char *out, size_t len) {
  int rc;
  if (name == NULL || name[0] == '\0') return LL_ENOENT;
  if (strchr(name, '/') != NULL) {
    if ((rc = executable(name)) != 0) return rc;
    return (size_t)snprintf(out, len, "%s", name) < len ? 0 : LL_EINVAL;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
    /* An empty PATH entry means the current directory. */
    if ((size_t)snprintf(out, len, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "./", name) < len &&
        executable(out) == 0)
      return 0;
    if (colon == NULL) break;
    p = colon + 1;
  }
  return LL_ENOENT;
}

int ll__mkdir_p(const char *dir) {
  char buf[PATH_MAX];
  if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf) return LL_EINVAL;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return LL__ERR(errno);
      *p = c;
      if (c == '\0') break;
    }
  }
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return LL_EINVAL;
  return 0;
}

/* ---- running ----------------------------------------------------------------------------- */

double ll__now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ll__child_stdio(const char *log) {
  /* Close-on-exec: dup2 gives the copies on 0-2 their own, inheritable, descriptors. */
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in >= 0) dup2(in, 0);
  int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (out < 0) return LL__ERR(errno);
  dup2(out, 1);
  dup2(out, 2);
  return 0;
}

/* One wait for pid: 1 when it ended (*status set), 0 not yet (only with WNOHANG), -1 (errno). */
static int wait_once(pid_t pid, int *status, int keep, int options) {
  if (!keep) {
    pid_t r = waitpid(pid, status, options);
    return r == pid ? 1 : r < 0 ? -1 : 0;
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | options) != 0) return -1;
  if (si.si_pid != pid) return 0;
  /* As waitpid would have said it. */
  *status = si.si_code == CLD_EXITED   ? (si.si_status & 0xff) << 8
            : si.si_code == CLD_DUMPED ? (si.si_status & 0x7f) | 0x80
                                       : si.si_status & 0x7f;
  return 1;
}

static int wait_child(pid_t pid, int *status, const char *verb, const char *what, double every,
                      int keep) {
  double start = ll__now_seconds(), next = start + every;
  if (every <= 0) {
    while (wait_once(pid, status, keep, 0) < 0)
      if (errno != EINTR) return LL__ERR(errno);
    return 0;
  }
  for (;;) {
    int r = wait_once(pid, status, keep, WNOHANG);
    if (r == 1) return 0;
    if (r < 0 && errno != EINTR) return LL__ERR(errno);
    double t = ll__now_seconds();
    if (t >= next) {
      fprintf(stderr, "leaklab %s: %s ... %.0f s\n", verb, what, t - start);
      next += every;
    }
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

int ll__wait_child(pid_t pid, int *status, const char *verb, const char *what, double every) {
  return wait_child(pid, status, verb, what, every, 0);
}

int ll__wait_child_keep(pid_t pid, int *status, const char *verb, const char *what, double every) {
  return wait_child(pid, status, verb, what, every, 1);
}

int ll__run_logged(char *const argv[], const char *log, const char *verb, const char *what,
                   double every, int *status, double *seconds) {
  int errpipe[2], rc;
  double start = ll__now_seconds();

  /* The child reports a failed exec through a close-on-exec pipe: nothing read means it ran. */
  if (pipe2(errpipe, O_CLOEXEC) != 0) return LL__ERR(errno);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    rc = LL__ERR(errno);
    close(errpipe[0]);
    close(errpipe[1]);
    return rc;
  }
  if (pid == 0) {
    int e = 0;
    if (log == NULL || (e = -ll__child_stdio(log)) == 0) {
      execv(argv[0], argv);
      e = errno;
    }
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  close(errpipe[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = read(errpipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(errpipe[0]);
  rc = ll__wait_child(pid, status, verb, what, every);
  *seconds = ll__now_seconds() - start;
  if (n == (ssize_t)sizeof child_errno) return LL__ERR(child_errno);
  return rc;
}

void ll__describe_status(int status, char *buf, size_t len) {
  if (WIFEXITED(status))
    snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(buf, len, "stopped (status %#x)", (unsigned)status);
}
