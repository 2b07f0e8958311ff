/* spawn.h - internal: finding and running programs (PATH search, our own binary, a child's stdio, waiting with a progress line). */
#ifndef LEAKLAB_SPAWN_H
#define LEAKLAB_SPAWN_H
/*
 * Contract: CLI-side (the valgrind runs here, and the CLI's record module above). Functions
 * return 0 or a negative LL_E* code (-errno for system errors); nothing is printed except the
 * progress lines ll__wait_child is asked for.
 */
#include <stddef.h>
#include <sys/types.h>

/* The full path of an executable regular file found as execvp finds it: `name` itself when it
 * holds a '/', else the first match in $PATH (unset: /usr/local/bin:/usr/bin:/bin; an empty
 * entry is the current directory). LL_ENOENT when there is none. */
int ll__find_program(const char *name, char *out, size_t len);
/* Path of the running leaklab binary (/proc/self/exe). */
int ll__self_exe(char *out, size_t len);
/* mkdir -p. */
int ll__mkdir_p(const char *dir);

/* In a forked child, before exec: stdin from /dev/null, stdout and stderr into `log` (created or
 * truncated); no descriptor beyond 0-2 is left open by this. 0 or -errno. */
int ll__child_stdio(const char *log);
/* Wait for pid (EINTR retried) into *status. With every > 0, print "leaklab VERB: WHAT ... N s"
 * on stderr every `every` seconds meanwhile. 0 or -errno. */
int ll__wait_child(pid_t pid, int *status, const char *verb, const char *what, double every);
/* The same, but pid is left a zombie (waitid's WNOWAIT): its /proc entry still says how it
 * ended until a later waitpid reaps it. */
int ll__wait_child_keep(pid_t pid, int *status, const char *verb, const char *what, double every);

/* Run argv (argv[0] a path) with ll__child_stdio(log) (log NULL: keep ours), waiting with
 * progress lines as ll__wait_child. *status gets waitpid's status, *seconds the wall time.
 * LL_ENOENT/LL_EACCES when the program could not be started. */
int ll__run_logged(char *const argv[], const char *log, const char *verb, const char *what,
                   double every, int *status, double *seconds);

/* "exited with status 3", "killed by signal 9 (Killed)" for a wait status. */
void ll__describe_status(int status, char *buf, size_t len);
/* Seconds on the monotonic clock, for wall times. */
double ll__now_seconds(void);

#endif
