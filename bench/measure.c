/* measure.c - bench wrapper: run a command, report its wall time, peak RSS and exit status. */
/*
 * usage: measure [-i IN] [-o OUT] [-e ERR] [-t SECONDS] -- PROGRAM [ARGS...]
 *
 * Forks, execs PROGRAM (PATH search) with stdin/stdout/stderr redirected to the files given
 * (default /dev/null for stdin and stdout: the bench wants numbers, not output; stderr is kept),
 * waits with wait4 and prints one line on stdout:
 *   wall_s=1.234567 maxrss_kb=12345 status=0
 * wall_s from CLOCK_MONOTONIC around fork..wait; maxrss_kb from wait4's rusage: the largest
 * resident set of the child or of any descendant it waited for (the largest single process of
 * the tree, not a sum); status is the exit code, or 128+N when signal N killed it, or 124 when
 * the -t limit ran out (the whole process group is killed then). measure's own exit status:
 * 0 when it could measure (whatever the program did), 2 usage, 3 the program could not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_timed_out;
static pid_t g_child;

static void on_alarm(int sig) {
  (void)sig;
  g_timed_out = 1;
  if (g_child > 0) kill(-g_child, SIGKILL);
}

static int redirect(const char *path, int fd, int flags) {
  int f = open(path, flags | O_CLOEXEC, 0644);
  if (f < 0) return -1;
  if (dup2(f, fd) < 0) return -1;
  close(f);
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(void) {
  fprintf(stderr, "usage: measure [-i IN] [-o OUT] [-e ERR] [-t SECONDS] -- PROGRAM [ARGS...]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *in = "/dev/null", *out = "/dev/null", *err = NULL;
  unsigned limit = 0;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) return usage();
    if (strcmp(argv[i], "-i") == 0) in = argv[++i];
    else if (strcmp(argv[i], "-o") == 0) out = argv[++i];
    else if (strcmp(argv[i], "-e") == 0) err = argv[++i];
    else if (strcmp(argv[i], "-t") == 0) limit = (unsigned)strtoul(argv[++i], NULL, 10);
    else return usage();
  }
  if (i >= argc) return usage();

  /* The child reports a failed exec through this pipe (closed on a successful exec). */
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    perror("measure: pipe");
    return 3;
  }
  fflush(NULL);
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("measure: fork");
    return 3;
  }
  if (pid == 0) {
    close(pfd[0]);
    setpgid(0, 0); /* its own group: a timeout kills the whole tree */
    int e = 0;
    if (redirect(in, 0, O_RDONLY) != 0 || redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC) != 0 ||
        (err != NULL && redirect(err, 2, O_WRONLY | O_CREAT | O_TRUNC) != 0))
      e = errno;
    else {
      execvp(argv[i], &argv[i]);
      e = errno;
    }
    ssize_t w = write(pfd[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  g_child = pid;
  close(pfd[1]);
  if (limit > 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(limit);
  }
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(pfd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(pfd[0]);
  int status = 0;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("measure: wait4");
      return 3;
    }
  }
  double wall = now() - t0;
  alarm(0);
  if (got == sizeof exec_errno) {
    fprintf(stderr, "measure: cannot start %s: %s\n", argv[i], strerror(exec_errno));
    return 3;
  }
  int code = g_timed_out            ? 124
             : WIFEXITED(status)    ? WEXITSTATUS(status)
             : WIFSIGNALED(status)  ? 128 + WTERMSIG(status)
                                    : 255;
  printf("wall_s=%.6f maxrss_kb=%ld status=%d\n", wall, ru.ru_maxrss, code);
  return 0;
}
