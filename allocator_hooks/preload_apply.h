/* preload_apply.h - the async recorder's helper process: applies the rings' events to the tracker in number order. */
#ifndef LEAKLAB_PRELOAD_APPLY_H
#define LEAKLAB_PRELOAD_APPLY_H
/*
 * Contract: ll__pl_apply_run is the helper process's whole life, called in the (detached,
 * grandchild) process preload_async.c forks at start, with the rings it mapped before the fork.
 * It applies every event in number order until the program asks it to stop (ctl->stop_seq),
 * then sets ctl->acked and exits; if the program is gone without asking, it applies what was
 * written and calls `orphan` (with ll__pl_helper set) to write the capture. It never writes to
 * a ring's words, never allocates and never returns. Calls preload_state, the ring encoding and
 * the engine only.
 */
#include "preload_slots.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

void ll__pl_apply_run(const ll__pl_rings_t *r, void (*orphan)(int how, int sig)) __attribute__((noreturn));

#pragma GCC visibility pop

#endif
