/* preload_ring.h - the asynchronous recorder's event encoding: header words, stacks sent as changes from the previous one, time stamps. */
#ifndef LEAKLAB_PRELOAD_RING_H
#define LEAKLAB_PRELOAD_RING_H
/*
 * Contract: pure inline functions over a ring of 64-bit words (a power of two of them; a
 * position is masked into the ring, so an event may wrap around its end). No state but what the
 * caller passes: the producer (preload_async.c, in the program's threads) encodes, the helper
 * decodes, and tests/unit/test_ring.c holds them to each other. Nothing here reads a clock,
 * allocates or locks.
 *
 * An event is a header word, (number << 3 | tag), then its body:
 *   FREE     ptr                                    2 words
 *   ALLOC1   ptr, size, usable, ip                  5
 *   ALLOCN   ptr, size, usable, stack               4 + the stack's
 *   REALLOC  old, new, size, usable, stack          5 + the stack's
 *   RBEGIN   old                                    2
 *   REND     new, size, usable, stack               4 + the stack's
 *   STAMP    t_ns                                   2
 * The number (>= 1 and < 2^60, so a header is never 0 and bit 63 is clear) is the event's place
 * in the one global order. A STAMP says when the program was at its number (CLOCK_MONOTONIC
 * ns): the events after it in that order happened at that time or later, until the next stamp.
 * Compact form: when an event's number is the previous event's in the same ring plus one (every
 * event of a single-threaded program) and its first body word, the pointer, is a multiple of 8
 * below 2^63, the header is (1 << 63 | ptr | tag) and the body goes on without the pointer
 * (FREE is 1 word, ALLOC1 4). STAMP always has the numbered form.
 * A stack: a word (n | keep << 16), then its n - keep innermost frames; the outermost `keep`
 * are the previous stack's outermost `keep` (the previous stack encoded in the same ring: the
 * way towards main is mostly shared).
 */
#include <stdint.h>
#include <string.h>

#define LL__RING_MAX_FRAMES 256
#define LL__RING_STAMP_WORDS 2

enum {
  LL__EV_FREE = 1,
  LL__EV_ALLOC1 = 2,
  LL__EV_REALLOC = 3,
  LL__EV_ALLOCN = 4,
  LL__EV_RBEGIN = 5,
  LL__EV_REND = 6,
  LL__EV_STAMP = 7
};

/* The previous stack one side of a ring knows (the producer's and the helper's copies agree). */
typedef struct ll__ring_stack {
  int n;
  uintptr_t ips[LL__RING_MAX_FRAMES];
} ll__ring_stack_t;

#define LL__RING_COMPACT (1ull << 63)

static inline uint64_t ll__ring_header(uint64_t number, int tag) { return number << 3 | (uint64_t)tag; }
static inline int ll__ring_tag(uint64_t header) { return (int)(header & 7); }
/* Whether a pointer fits a compact header; the compact header; whether a header is compact. */
static inline int ll__ring_packs(uintptr_t p) { return (p & 7) == 0 && (uint64_t)p < LL__RING_COMPACT; }
static inline uint64_t ll__ring_compact(uintptr_t p, int tag) { return LL__RING_COMPACT | (uint64_t)p | (uint64_t)tag; }
static inline int ll__ring_is_compact(uint64_t header) { return (int)(header >> 63); }
/* A header's number; `prev`: the number of the previous event in the same ring (compact). */
static inline uint64_t ll__ring_number(uint64_t header, uint64_t prev) {
  return ll__ring_is_compact(header) ? prev + 1 : header >> 3;
}
/* A compact header's pointer. */
static inline uintptr_t ll__ring_ptr(uint64_t header) { return (uintptr_t)(header & ~(LL__RING_COMPACT | 7)); }

/* Ask for the line LL__RING_AHEAD words past `at` in writable state now, so that the producer's
 * stores find it there. Why: the helper has read that line (it is shared with the helper's core),
 * so a plain store stalls on taking it back; on a 2-vCPU EPYC guest that stall was most of the
 * program's cost (churn at line level 0.45 -> 0.17-0.20 s wall, untracked 0.09 s; bench/README.md).
 * PREFETCHW: every x86-64 CPU decodes it (those before Intel's Broadwell as a no-op); it never
 * faults, so it may run ahead into the helper's unread part of the ring. */
#define LL__RING_AHEAD 32
static inline void ll__ring_claim_ahead(uint64_t *w, uint64_t mask, uint64_t at) {
#if defined(__x86_64__)
  __asm__ volatile("prefetchw %0" ::"m"(w[(at + LL__RING_AHEAD) & mask]));
#else
  __builtin_prefetch(&w[(at + LL__RING_AHEAD) & mask], 1, 3);
#endif
}

static inline void ll__ring_put(uint64_t *w, uint64_t mask, uint64_t *at, uint64_t x) {
  w[(*at)++ & mask] = x;
}
static inline uint64_t ll__ring_get(const uint64_t *w, uint64_t mask, uint64_t at) {
  return w[at & mask];
}

/* A STAMP's body at *at (its header, at *at - 1, is the caller's: written last), and the time
 * the STAMP at `at` (its header) carries. */
static inline void ll__ring_put_stamp(uint64_t *w, uint64_t mask, uint64_t *at, uint64_t t_ns) {
  ll__ring_put(w, mask, at, t_ns);
}
static inline uint64_t ll__ring_stamp_time(const uint64_t *w, uint64_t mask, uint64_t at) {
  return ll__ring_get(w, mask, at + 1);
}

/* A stack's header word: its n frames, the outermost `keep` of which are the previous stack's
 * (not written again); the words the stack takes, the header and its fresh frames. */
static inline uint64_t ll__ring_stack_hdr(int n, int keep) { return (uint64_t)n | ((uint64_t)keep << 16); }
static inline uint64_t ll__ring_stack_words(uint64_t hdr) { return 1 + (hdr & 0xffff) - (hdr >> 16); }

/* How many of ips[0..n)'s outermost frames are prev's, then prev becomes ips (the kept frames
 * are in place already when the depth is the same). */
static inline int ll__ring_stack_keep(const uintptr_t *ips, int n, const ll__ring_stack_t *prev) {
  int keep = 0, most = n < prev->n ? n : prev->n;
  const uintptr_t *a = ips + n - 1, *b = prev->ips + prev->n - 1; /* the outermost frames */
  while (keep < most && a[-keep] == b[-keep]) keep++;
  return keep;
}
static inline void ll__ring_stack_remember(const uintptr_t *ips, int n, int keep, ll__ring_stack_t *prev) {
  if (n == prev->n) {
    for (int i = 0; i < n - keep; i++) prev->ips[i] = ips[i];
  } else {
    memcpy(prev->ips, ips, (size_t)n * sizeof *ips);
    prev->n = n;
  }
}

/* Encode ips[0..n) (innermost first, n <= LL__RING_MAX_FRAMES) at *at against `prev`, which
 * becomes this stack. */
static inline void ll__ring_put_stack(uint64_t *w, uint64_t mask, uint64_t *at, const uintptr_t *ips,
                                      int n, ll__ring_stack_t *prev) {
  int keep = ll__ring_stack_keep(ips, n, prev);
  ll__ring_put(w, mask, at, ll__ring_stack_hdr(n, keep));
  for (int i = 0; i < n - keep; i++) ll__ring_put(w, mask, at, ips[i]);
  ll__ring_stack_remember(ips, n, keep, prev);
}

/* The same encoding for a stack whose frames ips[0..n) were walked straight into the ring,
 * contiguous right after `hdr`, the word its header goes to: the fresh frames (the innermost)
 * are in place already, the kept ones are left past the event's end (the next event, or the
 * zero word after this one, overwrites them; the helper reads nothing past that word). `same`:
 * the caller knows the stack is prev exactly (n == prev->n and every frame equal), the usual
 * case, which needs neither the comparison nor prev's update. Returns the words the stack takes
 * (its header and the fresh frames). Why: no copy of the frames into a buffer and out again. */
static inline uint64_t ll__ring_seal_stack(uint64_t *hdr, const uintptr_t *ips, int n, int same,
                                           ll__ring_stack_t *prev) {
  int keep = same ? n : ll__ring_stack_keep(ips, n, prev);
  *hdr = ll__ring_stack_hdr(n, keep);
  if (!same) ll__ring_stack_remember(ips, n, keep, prev);
  return ll__ring_stack_words(*hdr);
}

/* Decode the stack at `at` (its header word) against `prev`, which becomes it (its frames are
 * prev->ips[0..prev->n)). Returns the words it took. */
static inline uint64_t ll__ring_read_stack(const uint64_t *w, uint64_t mask, uint64_t at,
                                           ll__ring_stack_t *prev) {
  uint64_t hdr = ll__ring_get(w, mask, at);
  int total = (int)(hdr & 0xffff), keep = (int)(hdr >> 16), fresh = (int)ll__ring_stack_words(hdr) - 1;
  if (total == prev->n) {
    for (int i = 0; i < fresh; i++) prev->ips[i] = (uintptr_t)ll__ring_get(w, mask, at + 1 + (uint64_t)i);
  } else {
    uintptr_t tmp[LL__RING_MAX_FRAMES];
    for (int i = 0; i < fresh; i++) tmp[i] = (uintptr_t)ll__ring_get(w, mask, at + 1 + (uint64_t)i);
    for (int i = 0; i < keep; i++) tmp[fresh + i] = prev->ips[prev->n - keep + i];
    memcpy(prev->ips, tmp, (size_t)total * sizeof *tmp);
    prev->n = total;
  }
  return 1 + (uint64_t)fresh;
}

#endif
