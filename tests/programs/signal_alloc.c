/* signal_alloc.c - a SIGALRM handler that allocates (and keeps, reallocs, frees) while the main loop churns malloc/free: every handler block must be recorded. */
/*
 * usage: signal_alloc [N]    until the handler has kept N blocks (3000): the main loop mallocs
 *                            and frees 24 bytes over and over; an interval timer (every 50 us)
 *                            raises SIGALRM, whose handler mallocs 1200 bytes and frees them,
 *                            mallocs 1100 bytes, reallocs them to 2000 and keeps the block. At
 *                            exit N blocks of 2000 bytes are live, all made in the handler.
 * The handler's sizes are beyond glibc's per-thread cache (1032 B) and the main loop's are in it,
 * so the two never touch the same allocator lists (glibc's malloc is not reentrant; the
 * interruptions that matter here are those inside the recorder, not inside glibc).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_KEPT 100000

static void *kept[MAX_KEPT];
static volatile size_t nkept;
static size_t want = 3000;

static void on_alarm(int sig) {
  (void)sig;
  if (nkept >= want) return;
  void *t = malloc(1200); /* @temporary */
  free(t);
  char *p = malloc(1100);
  p = realloc(p, 2000); /* @realloc */
  kept[nkept] = p;
  nkept = nkept + 1;
}

int main(int argc, char **argv) {
  if (argc > 1) want = (size_t)strtoul(argv[1], NULL, 10);
  if (want == 0 || want > MAX_KEPT) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  free(malloc(24)); /* glibc sets up its per-thread cache now, before any handler runs */
  struct itimerval it = {{0, 50}, {0, 50}};
  setitimer(ITIMER_REAL, &it, NULL);
  unsigned long churn = 0;
  while (nkept < want) {
    void *p = malloc(24);
    free(p);
    churn++;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  char line[128];
  int n = snprintf(line, sizeof line, "kept %zu blocks of 2000 bytes in the handler (%lu churn rounds)\n",
                   (size_t)nkept, churn);
  if (write(1, line, (size_t)n) != n) return 1;
  return 0;
}
