/* preload_timeline.h - memory over time: a bounded series of (time, current, high) points for the TIMELINE section. */
#ifndef LEAKLAB_PRELOAD_TIMELINE_H
#define LEAKLAB_PRELOAD_TIMELINE_H
/*
 * Contract: ll__pl_timeline_tick is called by the hooks after each recorded event, under the
 * recursion guard; it is cheap when no sample is due and never blocks (another thread sampling
 * means this one skips). Calls only the engine and the capture writer
 * (see preload_state.h for the modules' order).
 */
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Sample memory over time when the sampling interval has passed (cheap when it has not). */
void ll__pl_timeline_tick(void);
/* Start over (at start, and in a followed child: its times count from its fork). */
void ll__pl_timeline_reset(void);
/* The TIMELINE section's bytes, with a last point for now when final_point (valid until the
 * next call; static storage, so a crash on a small stack can still write it); its length. The
 * sampling lock may be held by a thread that crashed: after 200 ms the section goes without the
 * final point rather than hang. */
size_t ll__pl_timeline_section(const void **data, int final_point);
/* When the timeline started (CLOCK_MONOTONIC_COARSE ns): the origin of its points' times. */
uint64_t ll__pl_timeline_origin(void);

#pragma GCC visibility pop

#endif
