/* killed.c - allocates known blocks (in 3 threads too), then dies of a signal it does not catch, or of one its own handler re-raises. */
/*
 * usage: killed SIGNUM [handler|busy]. Live when it dies: @killed_a 3 x 1000 + @killed_t 3 x 2000
 * = 9000 bytes, and 200 blocks of 64 bytes allocated and freed (@killed_churn). With "handler"
 * the program installs its own handler for SIGNUM that frees nothing, restores the default
 * action and raises the signal again (what servers do on SIGTERM). With "busy" it allocates
 * and frees 64 bytes at @killed_loop without end, and a child it forked sends SIGNUM 30 ms
 * later: the signal lands anywhere, inside leaklab's tracker too (at most one 64-byte block
 * live there then).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink[8];

static void reraise(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

static void *thread_main(void *arg) {
  sink[3 + (long)arg] = malloc(2000); /* @killed_t */
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int sig = atoi(argv[1]);
  for (int i = 0; i < 3; i++) sink[i] = malloc(1000); /* @killed_a */
  for (int i = 0; i < 200; i++) free(malloc(64)); /* @killed_churn */
  pthread_t th[3];
  for (long t = 0; t < 3; t++) pthread_create(&th[t], NULL, thread_main, (void *)t);
  for (int t = 0; t < 3; t++) pthread_join(th[t], NULL);
  if (argc > 2 && strcmp(argv[2], "busy") == 0) {
    pid_t parent = getpid();
    if (fork() == 0) {
      usleep(30000);
      kill(parent, sig);
      _exit(0);
    }
    for (;;) {
      void *volatile p = malloc(64); /* @killed_loop */
      free(p);
    }
  }
  if (argc > 2 && strcmp(argv[2], "handler") == 0) signal(sig, reraise);
  /* SIGPIPE, SIGALRM ... may be ignored or blocked by whoever started us: not for this test. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  if (argc <= 2) signal(sig, SIG_DFL);
  kill(getpid(), sig);
  for (;;) pause();
}
