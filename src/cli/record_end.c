/* record_end.c - how a recorded program ended: its status as run gives it, "killed by SIG..." (the capture's process section: capture_read.h). */
#include "cli.h"
#include "record.h"

#include <string.h>
#include <sys/wait.h>

const char *ll__signal_name(int sig) {
  const char *d = sigabbrev_np(sig);
  return d != NULL ? d : "?";
}

void ll__print_killed(const char *who, int sig, const char *rest) {
  fprintf(stderr, "leaklab: %s was killed by SIG%s%s", who, ll__signal_name(sig), rest);
}

int ll__program_status(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}
