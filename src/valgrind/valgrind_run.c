/* valgrind_run.c - lesson and program targets, running a tool with a progress line, for massif/memcheck. */
#include "valgrind_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

static int errno_code(int e) {
  switch (e) {
  case ENOENT: return LL_ENOENT;
  case EACCES: return LL_EACCES;
  case ENOMEM: return LL_ENOMEM;
  default: return LL_EIO;
  }
}

int ll__self_exe(char *out, size_t len) {
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  if (n < 0) return errno_code(errno);
  if ((size_t)n >= len - 1) return LL_EINVAL;
  out[n] = '\0';
  return 0;
}

int ll__find_program(const char *name, char *out, size_t len) {
  if (name == NULL || name[0] == '\0') return LL_EINVAL;
  if (strchr(name, '/') != NULL) {
    if (access(name, X_OK) != 0) return errno_code(errno);
    if ((size_t)snprintf(out, len, "%s", name) >= len) return LL_EINVAL;
    return 0;
  }
  const char *path = getenv("PATH");
  if (path == NULL || path[0] == '\0') path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
    struct stat st;
    /* An empty PATH entry means the current directory. */
    if ((size_t)snprintf(out, len, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "./", name) < len &&
        stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
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
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return errno_code(errno);
      *p = c;
      if (c == '\0') break;
    }
  }
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return LL_EINVAL;
  return 0;
}

/* ---- targets ----------------------------------------------------------------------------- */

void ll__target_free(ll__target_t *t) {
  if (t == NULL) return;
  if (t->argv != NULL)
    for (int i = 0; i < t->argc; i++) free(t->argv[i]);
  free(t->argv);
  free(t->name);
  free(t->label);
  memset(t, 0, sizeof *t);
}

static int target_argv(ll__target_t *t, int argc) {
  t->argv = calloc((size_t)argc + 1, sizeof *t->argv);
  return t->argv == NULL ? LL_ENOMEM : 0;
}

static int push_arg(ll__target_t *t, const char *s) {
  if ((t->argv[t->argc] = strdup(s)) == NULL) return LL_ENOMEM;
  t->argc++;
  return 0;
}

int ll__target_relabel(ll__target_t *t, const char *name, const char *label) {
  char *n = strdup(name), *l = strdup(label);
  if (n == NULL || l == NULL) {
    free(n);
    free(l);
    return LL_ENOMEM;
  }
  free(t->name);
  free(t->label);
  t->name = n;
  t->label = l;
  return 0;
}

int ll__target_program(int argc, char *const *argv, ll__target_t *t, char *msg, size_t msglen) {
  char path[PATH_MAX];
  int rc;

  memset(t, 0, sizeof *t);
  if (argc < 1) {
    snprintf(msg, msglen, "missing the PROGRAM after '--'");
    return LL_EINVAL;
  }
  if ((rc = ll__find_program(argv[0], path, sizeof path)) != 0) {
    snprintf(msg, msglen, "cannot run '%s': %s", argv[0], ll_strerror(rc));
    return rc;
  }
  if ((rc = target_argv(t, argc)) != 0) goto fail;
  if ((rc = push_arg(t, path)) != 0) goto fail;
  size_t lz = strlen(argv[0]) + 1;
  for (int i = 1; i < argc; i++) {
    if ((rc = push_arg(t, argv[i])) != 0) goto fail;
    lz += strlen(argv[i]) + 1;
  }
  const char *base = strrchr(argv[0], '/');
  base = base != NULL ? base + 1 : argv[0];
  t->name = strdup(base[0] != '\0' ? base : "program");
  t->label = malloc(lz);
  if (t->name == NULL || t->label == NULL) {
    rc = LL_ENOMEM;
    goto fail;
  }
  /* The name becomes a directory under reports/: keep it to safe characters. */
  for (char *p = t->name; *p != '\0'; p++)
    if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
      *p = '_';
  if (t->name[0] == '.') t->name[0] = '_';
  size_t used = (size_t)snprintf(t->label, lz, "%s", argv[0]);
  for (int i = 1; i < argc; i++) used += (size_t)snprintf(t->label + used, lz - used, " %s", argv[i]);
  return 0;

fail:
  snprintf(msg, msglen, "%s", ll_strerror(rc));
  ll__target_free(t);
  return rc;
}

int ll__valgrind_allocator_ok(const char *name) {
  return strcmp(name, "glibc") == 0 || strcmp(name, "jemalloc") == 0 ? 0 : -1;
}

void ll__valgrind_allocator_note(FILE *out, const char *verb, const char *allocator) {
  if (allocator == NULL || strcmp(allocator, "jemalloc") != 0) return;
  fprintf(out,
          "leaklab %s: note: under valgrind the program allocates from valgrind's own malloc, "
          "which replaces the program's allocator: valgrind runs it without jemalloc, so "
          "jemalloc's size classes and figures apply only to leaklab's recording (run "
          "--allocator jemalloc). Requested bytes do not depend on the allocator: the peaks "
          "still compare; the allocator slack does not.\n",
          verb);
}

/* ---- running ----------------------------------------------------------------------------- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ll__run_logged(char *const argv[], const char *log, const char *verb, const char *what,
                   double every, int *status, double *seconds) {
  int errpipe[2];
  double start = now_seconds();

  /* The child reports a failed exec through a close-on-exec pipe: nothing read means it ran. */
  if (pipe2(errpipe, O_CLOEXEC) != 0) return errno_code(errno);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(errpipe[0]);
    close(errpipe[1]);
    return errno_code(e);
  }
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    if (log != NULL) {
      int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (out < 0) {
        int e = errno;
        (void)!write(errpipe[1], &e, sizeof e);
        _exit(127);
      }
      dup2(out, 1);
      dup2(out, 2);
    }
    execv(argv[0], argv);
    int e = errno;
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  close(errpipe[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = read(errpipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(errpipe[0]);

  double next = start + every;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return errno_code(errno);
    double t = now_seconds();
    if (every > 0 && t >= next) {
      fprintf(stderr, "leaklab %s: %s ... %.0f s\n", verb, what, t - start);
      next += every;
    }
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  *seconds = now_seconds() - start;
  if (n == (ssize_t)sizeof child_errno) return errno_code(child_errno);
  return 0;
}

void ll__describe_status(int status, char *buf, size_t len) {
  if (WIFEXITED(status))
    snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(buf, len, "stopped (status %#x)", (unsigned)status);
}

int ll__record_leaklab(const ll__target_t *t, const char *dir, const char *verb, char *cap,
                       size_t caplen, double *seconds, char *msg, size_t msglen) {
  char self[PATH_MAX], log[PATH_MAX], st[96], what[64];
  int status = 0, rc, n;
  struct stat sb;

  if ((rc = ll__self_exe(self, sizeof self)) != 0) {
    snprintf(msg, msglen, "cannot find the leaklab binary: %s", ll_strerror(rc));
    return rc;
  }
  n = snprintf(cap, caplen, "%s/leaklab.capture", dir);
  if (n < 0 || (size_t)n >= caplen || (n = snprintf(log, sizeof log, "%s/leaklab-run.log", dir)) < 0 ||
      (size_t)n >= sizeof log) {
    snprintf(msg, msglen, "output directory name too long");
    return LL_EINVAL;
  }
  unlink(cap);
  char **argv = calloc((size_t)t->argc + 8, sizeof *argv);
  if (argv == NULL) {
    snprintf(msg, msglen, "%s", ll_strerror(LL_ENOMEM));
    return LL_ENOMEM;
  }
  int k = 0;
  argv[k++] = self;
  argv[k++] = "run";
  argv[k++] = "-o";
  argv[k++] = cap;
  if (t->allocator != NULL) {
    argv[k++] = "--allocator";
    argv[k++] = (char *)t->allocator;
  }
  argv[k++] = "--";
  for (int i = 0; i < t->argc; i++) argv[k + i] = t->argv[i];
  fprintf(stderr, "leaklab %s: recording %s with leaklab run (log: %s)\n", verb, t->label, log);
  snprintf(what, sizeof what, "leaklab run still running");
  rc = ll__run_logged(argv, log, verb, what, 3.0, &status, seconds);
  free(argv);
  if (rc != 0) {
    snprintf(msg, msglen, "cannot start %s: %s", self, ll_strerror(rc));
    return rc;
  }
  if (stat(cap, &sb) != 0 || sb.st_size == 0) {
    ll__describe_status(status, st, sizeof st);
    snprintf(msg, msglen, "leaklab run %s and wrote no capture (see %s)", st, log);
    return LL_ENOENT;
  }
  return 0;
}
