/* record_end.c - how a recorded program ended: its status as run gives it, "killed by SIG...", its capture's process section. */
#include "cli.h"
#include "record.h"

#include <string.h>
#include <sys/wait.h>

#include "snapfile.h"

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

int ll__record_process(const char *cap, ll__arena_t *arena, ll_cap_process_t *out) {
  const void *data;
  size_t len;
  int rc = ll__snapfile_read_section(cap, LL_CAP_SEC_PROCESS, arena, &data, &len);
  return rc != 0 ? rc : ll_cap_decode_process(data, len, arena, out);
}
