/* preload_exec.h - exec and spawn: the environment a new image or a child starts with. */
#ifndef LEAKLAB_PRELOAD_EXEC_H
#define LEAKLAB_PRELOAD_EXEC_H
/*
 * Contract: execve, execv, execvp, execvpe, execl, execlp, execle, fexecve, posix_spawn and
 * posix_spawnp are defined (exported) in preload_exec.c. An exec of the recording image keeps
 * recording (the new image gets the preload, the leaklab variables as they were at start, and
 * the chain); any other new image or child starts untraced (no leaklab variable, no preload
 * entry of ours), unless --follow-fork. Rewriting an environment allocates nothing (a vfork
 * child runs it on its parent's memory). Calls preload_state, preload_timeline, preload_async,
 * preload_chain, preload_scan and preload_capture
 * (see preload_state.h for the modules' order).
 */

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Keep the leaklab variables as they are now (once, at start, before any is stripped). */
void ll__pl_env_save(void);
/* The value a leaklab variable (LL_ENV_*) had at start, or NULL when it was unset. */
const char *ll__pl_env_saved(const char *name);
/* Remove ourselves from this process's environment (children then start untraced). */
void ll__pl_env_strip(void);

#pragma GCC visibility pop

#endif
