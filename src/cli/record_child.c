/* record_child.c - the recorded program's side of the fork: the capture path rule, the preload's environment, exec. */
#include "cli.h"
#include "record.h"
#include "spawn.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ll__record_capture_path(const char *output, const char *program, const char *tag, long pid,
                             char *out, size_t len) {
  char rel[PATH_MAX], cwd[PATH_MAX];
  struct stat st;
  const char *base = strrchr(program, '/') != NULL ? strrchr(program, '/') + 1 : program;
  if (output != NULL)
    snprintf(rel, sizeof rel, "%s", output);
  else if (stat("reports", &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(rel, sizeof rel, "reports/%.200s%.32s.%ld.llcap", base, tag, pid);
  else
    snprintf(rel, sizeof rel, "leaklab-%.200s%.32s.%ld.llcap", base, tag, pid);
  if (rel[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
    snprintf(out, len, "%s", rel);
  else /* "/" as the directory: no "//" */
    snprintf(out, len, "%.2000s%s%.2000s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", rel);
}

void ll__record_child(char **argv, const ll__record_opts_t *o, const char *program,
                      const char *preload, int errpipe) {
  char cap[PATH_MAX * 2], num[32], ld[PATH_MAX * 4];
  int e = 0;
  if (o->log != NULL && (e = -ll__child_stdio(o->log)) != 0) goto failed;
  ll__record_capture_path(o->output, argv[0], "", (long)getpid(), cap, sizeof cap);
  /* Ours first: the first malloc in lookup order is the one programs call, and ours passes
   * each call on to the next one (jemalloc when it was preloaded too). */
  const char *old = getenv("LD_PRELOAD");
  snprintf(ld, sizeof ld, "%s%s%s%s%s", preload, o->allocator != NULL ? ":" : "",
           o->allocator != NULL ? o->allocator : "", old != NULL && old[0] ? ":" : "",
           old != NULL ? old : "");
  setenv("LD_PRELOAD", ld, 1);
  setenv(LL_ENV_CAPTURE, cap, 1);
  snprintf(num, sizeof num, "%ld", (long)getpid());
  setenv(LL_ENV_ROOT_PID, num, 1);
  snprintf(num, sizeof num, "%u", (unsigned)o->frames);
  setenv(LL_ENV_FRAMES, num, 1);
  setenv(LL_ENV_UNWIND, o->unwind, 1);
  if (o->native) setenv(LL_ENV_NATIVE, "1", 1); else unsetenv(LL_ENV_NATIVE);
  if (o->follow) setenv(LL_ENV_FOLLOW_FORK, "1", 1); else unsetenv(LL_ENV_FOLLOW_FORK);
  /* No --recorder: LEAKLAB_RECORDER from the environment, else the preload's auto. */
  if (o->recorder != NULL) setenv(LL_ENV_RECORDER, o->recorder, 1);
  unsetenv(LL_ENV_CHAIN);
  signal(SIGINT, SIG_DFL);
  signal(SIGQUIT, SIG_DFL);
  execv(program, argv);
  e = errno;
failed:;
  ssize_t w = write(errpipe, &e, sizeof e);
  (void)w;
  _exit(127);
}
