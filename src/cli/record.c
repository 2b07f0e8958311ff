/* record.c - ll__record: fork the program under the preload, wait for it as a shell does, find its capture. */
#include "cli.h"
#include "errors.h"
#include "record.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
  }
  if (pipe2(pipefd, O_CLOEXEC) != 0) return ll__runtime_error("pipe", LL__ERR(errno), NULL);

  if (started != NULL) *started = time(NULL);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return ll__runtime_error("fork", LL__ERR(errno), NULL);
  }
  if (pid == 0) {
    close(pipefd[0]);
    ll__record_child(argv, o, program, preload, pipefd[1]);
  }
  close(pipefd[1]);
  /* Like a shell waiting for its job: ^C goes to the program, and we report after it. */
  struct sigaction ign, old_int, old_quit;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  int exec_errno = 0, status = 0;
  ssize_t got;
  while ((got = read(pipefd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  rc = ll__wait_child(pid, &status, o->verb, o->progress, o->progress != NULL ? 3.0 : 0);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  if (rc != 0) return ll__runtime_error("waitpid", rc, NULL);
  if (got == sizeof exec_errno) {
    fprintf(stderr, "leaklab: cannot start %s: %s\n", program, strerror(exec_errno));
    return LL__EXIT_RUNTIME;
  }

  ll__record_capture_path(o->output, argv[0], "", (long)pid, cap, caplen);
  if (access(cap, F_OK) != 0) {
    if (WIFSIGNALED(status))
      ll__print_killed(argv[0], WTERMSIG(status), " before it could write its capture; nothing "
                       "was recorded\n");
    else
      fprintf(stderr, "leaklab: %s wrote no capture (%s): the preload did not load into the "
              "program that ran - it, or a program it exec'd, is statically linked or setuid; "
              "nothing was recorded\n", argv[0], cap);
    return LL__EXIT_RUNTIME;
  }
  *wait_status = status;
  return 0;
}
