/* preload_limits.h - RLIMIT_AS: a program that caps its own address space keeps what it asked for, and the capture is still written. */
#ifndef LEAKLAB_PRELOAD_LIMITS_H
#define LEAKLAB_PRELOAD_LIMITS_H
/*
 * Contract: setrlimit, setrlimit64, prlimit and prlimit64 are interposed; when the program
 * lowers its own RLIMIT_AS to a finite value while the helper runs, the helper is stopped first
 * (its 64 GiB of reserved, never committed address space would count against the limit) and
 * recording goes on in the program's threads; either way a reserve of address space is kept
 * for the capture writer, given back by ll__pl_limits_for_capture. Every call reaches the
 * kernel with the program's own values. Calls state, async and the engine.
 */
#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* At start: the limit the program inherited is finite: keep the capture's reserve now. */
void ll__pl_limits_start(void);
/* Before the capture is written: the reserve's address space is the writer's. */
void ll__pl_limits_for_capture(void);

#pragma GCC visibility pop

#endif
