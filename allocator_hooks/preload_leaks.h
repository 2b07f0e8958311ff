/* preload_leaks.h - the leak rule: which blocks live at exit are the program's leaks (the LEAKS snapshot). */
#ifndef LEAKLAB_PRELOAD_LEAKS_H
#define LEAKLAB_PRELOAD_LEAKS_H
/*
 * Contract: a trace leaks when a frame of its stack is the program's own code; the C runtime's
 * stdio buffers are not leaks. Calls preload_modules and the engine (see preload_state.h for the
 * modules' order).
 */
#include "engine.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* LEAKS: `end` restricted to own-code traces, minus the runtime's stdio buffers. Shares the end
 * snapshot's tracebacks (`end` must outlive *out). 0 or LL_ENOMEM. */
int ll__pl_leaks_snapshot(const ll_snapshot_t *end, ll_snapshot_t **out);

#pragma GCC visibility pop

#endif
