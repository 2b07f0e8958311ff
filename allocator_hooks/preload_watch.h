/* preload_watch.h - the synchronous recorder's survivor: a helper process that shares the tracker and writes the capture when the program ends without writing it. */
#ifndef LEAKLAB_PRELOAD_WATCH_H
#define LEAKLAB_PRELOAD_WATCH_H
/*
 * Contract: while the watcher runs, the program's threads record into the tracker as the
 * synchronous recorder does, in memory shared with the watcher (ll__tracker_share); the watcher
 * does nothing but wait for the program to end. A program that ends without stopping it (killed
 * by a signal it does not catch, SIGKILL included; a raw exit_group) has its capture written by
 * the watcher from the shared tracker: whole when no thread was changing the tracker at that
 * moment (ll__tracker_busy), else partial (the last event may be half applied). Every normal
 * end, an exec and an RLIMIT_AS the program sets stop it first. Calls preload_state and the
 * engine (see preload_state.h for the modules' order).
 */

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* After ll__tracker_share and ll_start, on the process's only thread: fork the watcher; 0, or -1
 * (no survivor: recording goes on without one). `orphan`: what the watcher calls (with
 * ll__pl_helper set) when the program ended without stopping it: write the capture, with how it
 * ended (ll__pl_zombie_end's how and sig) and whether only a partial capture is safe. */
int ll__pl_watch_start(void (*orphan)(int how, int sig, int partial));
/* Nonzero while a watcher of this process runs. */
int ll__pl_watch_active(void);
/* Have the watcher exit without writing anything (the program writes its own capture, or its
 * tracker stops being shared); no-op when none runs or in a forked child. */
void ll__pl_watch_stop(void);

#pragma GCC visibility pop

#endif
