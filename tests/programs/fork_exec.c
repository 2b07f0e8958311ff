/* fork_exec.c - children by fork+exec, fork without exec, vfork+exec, posix_spawn and system(). */
/*
 * The parent keeps @parent_keep (2048 bytes) live; each child allocates 1 MiB (@child_block once
 * exec'd, @fork_child_block in the fork-only child) and frees nothing, which must not show in the parent's capture. Prints what the children
 * print, in order, so the traced and untraced runs can be compared.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int wait_child(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) { /* exec'd by the parent */
    char *p = malloc(1 << 20); /* @child_block */
    memset(p, 2, 1 << 20);
    printf("child %s says %s\n", argv[2], getenv("LD_PRELOAD") ? "preloaded" : "clean");
    return 3;
  }
  char *keep = malloc(2048); /* @parent_keep */
  memset(keep, 1, 2048);
  fflush(stdout);

  pid_t pid = fork();
  if (pid == 0) execl(argv[0], argv[0], "child", "fork+exec", (char *)NULL), _exit(127);
  printf("fork+exec status %d\n", wait_child(pid));

  pid = fork();
  if (pid == 0) {
    char *p = malloc(1 << 20); /* @fork_child_block */
    memset(p, 3, 1 << 20);
    printf("fork-only child done\n");
    fflush(stdout);
    _exit(4);
  }
  printf("fork-only status %d\n", wait_child(pid));

  pid = vfork();
  if (pid == 0) execl(argv[0], argv[0], "child", "vfork+exec", (char *)NULL), _exit(127);
  printf("vfork+exec status %d\n", wait_child(pid));

  char *args[] = {argv[0], "child", "posix_spawn", NULL};
  if (posix_spawn(&pid, argv[0], NULL, NULL, args, environ) != 0) return 1;
  printf("posix_spawn status %d\n", wait_child(pid));

  fflush(stdout);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' child system", argv[0]);
  int rc = system(cmd);
  printf("system status %d\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
  return keep[0] == 1 ? 0 : 1;
}
