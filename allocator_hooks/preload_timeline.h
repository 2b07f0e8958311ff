/* preload_timeline.h - memory over time's clock: when the recording started (the points' origin) and when it stopped (the last point). */
#ifndef LEAKLAB_PRELOAD_TIMELINE_H
#define LEAKLAB_PRELOAD_TIMELINE_H
/*
 * Contract: no sampling of its own (the hooks do not call it): memory over time is the engine's
 * series (series.h), whose times are the program's (the helper hands the engine the program's
 * stamps), and the capture writer makes both the LINES and the TIMELINE section from it, so
 * every chart a report draws is on the program's clock. Calls libc only (see preload_state.h
 * for the modules' order).
 */
#include <stdint.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Start over (at start, and in a followed child: its times count from its fork). */
void ll__pl_timeline_reset(void);
/* When the recording started (CLOCK_MONOTONIC_COARSE ns): the origin of the points' times. */
uint64_t ll__pl_timeline_origin(void);
/* The time the recording stopped (the program's exit, _exit, fatal signal or exec), read by the
 * thread that stops it before anything else (draining the helper, the exit scan), so the last
 * point is the program's end, not the capture's writing; 0 when not known (the helper writing
 * for a killed program: its last stamp is the end). */
void ll__pl_timeline_stop(void);
uint64_t ll__pl_timeline_stop_ns(void);

#pragma GCC visibility pop

#endif
