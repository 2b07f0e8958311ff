/* preload_timeline.c - memory over time's clock: when the recording started (the points' origin) and when it stopped (the last point). */
#include "preload_timeline.h"

#include <time.h>

static uint64_t tl_t0, tl_stop;

static uint64_t clock_of(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ll__pl_timeline_reset(void) {
  tl_t0 = clock_of(CLOCK_MONOTONIC_COARSE);
  tl_stop = 0;
}

uint64_t ll__pl_timeline_origin(void) { return tl_t0; }

void ll__pl_timeline_stop(void) {
  if (tl_stop == 0) tl_stop = clock_of(CLOCK_MONOTONIC);
}

uint64_t ll__pl_timeline_stop_ns(void) { return tl_stop; }
