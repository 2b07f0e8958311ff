/* preload_timeline.c - memory over time: a bounded series of (time, current, high) points for the TIMELINE section. */
#include "preload_timeline.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "capture_write.h"
#include "engine.h"

/*
 * A bounded timeline: a point every `interval` (first 1 ms, on the coarse clock the kernel keeps
 * for free); when the buffer fills, neighbouring points merge pairwise (keeping the later time
 * and current value and the larger `high`) and the interval doubles. `high` is the current
 * value, or the tracker's peak when it rose since the previous point: so the point where the
 * peak was reached always carries it, exactly, however coarse the timeline gets.
 */
#define TL_MAX 4096

static pthread_mutex_t tl_lock = PTHREAD_MUTEX_INITIALIZER;
static ll_cap_point_t tl[TL_MAX]; /* the section's own form: written as they are */
static size_t tl_n;
static uint64_t tl_interval = 1000000;
static uint64_t tl_next; /* read without the lock: a stale value only delays a sample */
static uint64_t tl_last_peak;
static uint64_t tl_t0;
static unsigned char tl_buf[16 + TL_MAX * 24]; /* ll_cap_timeline_size(TL_MAX) */

static uint64_t coarse_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tl_add_locked(uint64_t now) {
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  uint64_t high = cur;
  if (peak > tl_last_peak) {
    high = peak;
    tl_last_peak = peak;
  }
  if (tl_n == TL_MAX) {
    for (size_t i = 0; i < TL_MAX / 2; i++) {
      ll_cap_point_t a = tl[2 * i], b = tl[2 * i + 1];
      tl[i] = (ll_cap_point_t){b.t_ns, b.current, a.high > b.high ? a.high : b.high};
    }
    tl_n = TL_MAX / 2;
    tl_interval *= 2;
  }
  tl[tl_n++] = (ll_cap_point_t){now - tl_t0, cur, high};
  __atomic_store_n(&tl_next, now + tl_interval, __ATOMIC_RELAXED);
}

/* The clock is read every 16th event of a thread: the kernel's coarse clock ticks every few
 * milliseconds anyway, and the peak itself never depends on sampling. */
static __thread unsigned t_tick __attribute__((tls_model("initial-exec")));

void ll__pl_timeline_tick(void) {
  if ((++t_tick & 15) != 0) return;
  uint64_t now = coarse_ns();
  if (now < __atomic_load_n(&tl_next, __ATOMIC_RELAXED)) return;
  if (pthread_mutex_trylock(&tl_lock) != 0) return; /* another thread is sampling */
  if (now >= tl_next) tl_add_locked(now);
  pthread_mutex_unlock(&tl_lock);
}

void ll__pl_timeline_reset(void) {
  pthread_mutex_init(&tl_lock, NULL); /* after fork the lock may be a dead thread's */
  tl_n = 0;
  tl_interval = 1000000;
  tl_t0 = coarse_ns();
  tl_next = 0;
  tl_last_peak = 0;
}

size_t ll__pl_timeline_section(const void **data, int final_point) {
  int locked = 0;
  for (int i = 0; i < 200 && !(locked = pthread_mutex_trylock(&tl_lock) == 0); i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  if (final_point && locked) tl_add_locked(coarse_ns());
  ll_cap_timeline_t t = {tl_interval, tl, tl_n};
  size_t len = ll_cap_timeline_size(tl_n);
  ll_cap_encode_timeline(tl_buf, &t);
  if (locked) pthread_mutex_unlock(&tl_lock);
  *data = tl_buf;
  return len;
}

uint64_t ll__pl_timeline_origin(void) { return tl_t0; }
