/* test_ring.c - the asynchronous recorder's rings: the encoding (header words, stacks as changes from the previous one, stamps, events that wrap around the ring's end) and a full ring's sleep until the helper gives room back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "preload_ring.h"
#include "preload_slots.h"

#define WORDS 64u /* a small ring: the events below wrap around its end */
#define MASK (WORDS - 1)

static void headers_round_trip(void **state) {
  (void)state;
  const uint64_t numbers[] = {1, 2, 1000, (1ull << 60) - 1};
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
    for (int tag = LL__EV_FREE; tag <= LL__EV_STAMP; tag++) {
      uint64_t h = ll__ring_header(numbers[i], tag);
      assert_true(h != 0); /* 0 is "nothing written here yet" */
      assert_false(ll__ring_is_compact(h));
      assert_true(ll__ring_number(h, numbers[i] + 7) == numbers[i]); /* the previous one is not used */
      assert_int_equal(ll__ring_tag(h), tag);
    }
}

/* A compact header carries the pointer and the tag; its number is the previous one's plus one.
 * Pointers that are not multiples of 8, or at 2^63 and above, do not pack. */
static void compact_headers(void **state) {
  (void)state;
  const uintptr_t ptrs[] = {0, 8, 0x7ffff7a1b2c0, (uintptr_t)(LL__RING_COMPACT - 8)};
  for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
    for (int tag = LL__EV_FREE; tag <= LL__EV_REND; tag++) {
      assert_true(ll__ring_packs(ptrs[i]));
      uint64_t h = ll__ring_compact(ptrs[i], tag);
      assert_true(h != 0);
      assert_true(ll__ring_is_compact(h));
      assert_int_equal(ll__ring_tag(h), tag);
      assert_true(ll__ring_ptr(h) == ptrs[i]);
      assert_true(ll__ring_number(h, 41) == 42);
    }
  assert_false(ll__ring_packs(0x1004));
  assert_false(ll__ring_packs(0x1001));
  assert_false(ll__ring_packs((uintptr_t)LL__RING_COMPACT));
  assert_false(ll__ring_packs(UINTPTR_MAX - 7));
}

/* A producer and a helper over one ring, each with its own previous stack. */
typedef struct pair {
  uint64_t w[WORDS];
  ll__ring_stack_t out, in;
  uint64_t head, tail;
} pair_t;

/* One stack through the ring: the words it took, and the helper reads it back exactly. */
static uint64_t send_stack(pair_t *p, const uintptr_t *ips, int n) {
  uint64_t at = p->head;
  ll__ring_put_stack(p->w, MASK, &at, ips, n, &p->out);
  uint64_t used = at - p->head;
  assert_true(ll__ring_read_stack(p->w, MASK, p->tail, &p->in) == used);
  assert_int_equal(p->in.n, n);
  assert_memory_equal(p->in.ips, ips, (size_t)n * sizeof *ips);
  p->head = p->tail = at;
  return used;
}

static void stacks_send_what_changed(void **state) {
  (void)state;
  static pair_t p; /* zeroed: both sides start with no previous stack */
  p.head = p.tail = WORDS - 3; /* the first stack wraps */
  const uintptr_t a[] = {0x11, 0x12, 0x13, 0x900, 0x901, 0x902};
  const uintptr_t b[] = {0x21, 0x22, 0x13, 0x900, 0x901, 0x902};  /* same depth, 4 kept */
  const uintptr_t c[] = {0x31, 0x900, 0x901, 0x902};              /* shallower, 3 kept */
  const uintptr_t d[] = {0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x901, 0x902}; /* deeper, 2 kept */
  const uintptr_t e[] = {0x51, 0x52};                              /* nothing in common */
  assert_int_equal(send_stack(&p, a, 6), 1 + 6);
  assert_int_equal(send_stack(&p, b, 6), 1 + 2);
  assert_int_equal(send_stack(&p, b, 6), 1); /* the same stack again: its header alone */
  assert_int_equal(send_stack(&p, c, 4), 1 + 1);
  assert_int_equal(send_stack(&p, d, 8), 1 + 6);
  assert_int_equal(send_stack(&p, e, 2), 1 + 2);
  assert_int_equal(send_stack(&p, a, 6), 1 + 6);
}

/* The deepest stack a ring carries, twice (all kept the second time), then one frame differing
 * at the outermost end: nothing can be kept. */
static void deepest_stacks(void **state) {
  (void)state;
  static uint64_t big[2 * LL__RING_MAX_FRAMES];
  uintptr_t ips[LL__RING_MAX_FRAMES];
  for (int i = 0; i < LL__RING_MAX_FRAMES; i++) ips[i] = 0x1000u + (uintptr_t)i;
  ll__ring_stack_t out = {0}, in = {0};
  uint64_t mask = 2 * LL__RING_MAX_FRAMES - 1, at = 0;
  ll__ring_put_stack(big, mask, &at, ips, LL__RING_MAX_FRAMES, &out);
  assert_true(at == 1 + LL__RING_MAX_FRAMES);
  assert_true(ll__ring_read_stack(big, mask, 0, &in) == at);
  uint64_t second = at;
  ll__ring_put_stack(big, mask, &at, ips, LL__RING_MAX_FRAMES, &out);
  assert_true(at == second + 1);
  assert_true(ll__ring_read_stack(big, mask, second, &in) == 1);
  ips[LL__RING_MAX_FRAMES - 1] = 0x2;
  uint64_t third = at;
  ll__ring_put_stack(big, mask, &at, ips, LL__RING_MAX_FRAMES, &out);
  assert_true(at - third == 1 + LL__RING_MAX_FRAMES);
  assert_true(ll__ring_read_stack(big, mask, third, &in) == at - third);
  assert_memory_equal(in.ips, ips, sizeof ips);
}

/* ll__ring_seal_stack (frames walked straight into the ring) writes the words and leaves the
 * previous stack as ll__ring_put_stack does, whether the caller says "same" when the stack is
 * the previous one or never says it; the helper decodes it. Stacks drawn from a few frames, so
 * that they repeat and share their outer ends at every depth, up to the deepest. */
static void sealed_stacks_as_put(void **state) {
  (void)state;
  static uint64_t ref[4 * LL__RING_MAX_FRAMES], buf[2][2 + LL__RING_MAX_FRAMES];
  static ll__ring_stack_t out, sealed[2], in;
  uintptr_t ips[LL__RING_MAX_FRAMES];
  uint64_t mask = 4 * LL__RING_MAX_FRAMES - 1, at = 0, rs = 42;
  int n = 0;
  for (int k = 0; k < 20000; k++) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    unsigned r = (unsigned)(rs >> 33);
    if (r % 4 != 0) { /* else the same stack again */
      n = 2 + (int)(r / 4 % 7);
      if (r % 97 == 1) n = LL__RING_MAX_FRAMES;
      if (r % 89 == 1) n = 1;
      for (int i = 0; i < n; i++) ips[i] = 0x400000 + 16 * (uintptr_t)((i + (i < 2 ? (int)(r >> 8) % 3 : 0)) % 9);
    }
    uint64_t before = at;
    ll__ring_put_stack(ref, mask, &at, ips, n, &out);
    for (int v = 0; v < 2; v++) {
      memcpy(&buf[v][1], ips, (size_t)n * sizeof *ips); /* the walk's frames, after the header */
      int same = v == 1 && n == sealed[v].n && memcmp(ips, sealed[v].ips, (size_t)n * sizeof *ips) == 0;
      uint64_t words = ll__ring_seal_stack(&buf[v][0], (const uintptr_t *)&buf[v][1], n, same, &sealed[v]);
      assert_true(words == at - before);
      for (uint64_t i = 0; i < words; i++) assert_true(buf[v][i] == ref[(before + i) & mask]);
      assert_int_equal(sealed[v].n, out.n);
      assert_memory_equal(sealed[v].ips, out.ips, (size_t)out.n * sizeof *ips);
    }
    assert_true(ll__ring_read_stack(ref, mask, before, &in) == at - before);
    assert_int_equal(in.n, n);
    assert_memory_equal(in.ips, ips, (size_t)n * sizeof *ips);
  }
}

/* A sequence as the producer writes it (body first, header last) across the ring's end: each
 * event is found at its place with its number, tag and body, stamps with their times. */
static void events_and_stamps_wrap(void **state) {
  (void)state;
  static pair_t p;
  p.head = p.tail = WORDS - 2;
  const uintptr_t s1[] = {0x501, 0x502, 0x503}, s2[] = {0x601, 0x502, 0x503};
  uint64_t number = 41, at;

  /* STAMP, ALLOCN, FREE, STAMP, ALLOCN: the producer's layout (preload_async.c). */
  at = p.head + 1;
  ll__ring_put_stamp(p.w, MASK, &at, 123456789);
  p.w[p.head & MASK] = ll__ring_header(number++, LL__EV_STAMP);
  assert_true(at - p.head == LL__RING_STAMP_WORDS);
  p.head = at;

  at = p.head + 1;
  ll__ring_put(p.w, MASK, &at, 0xabc0);
  ll__ring_put(p.w, MASK, &at, 48);
  ll__ring_put(p.w, MASK, &at, 56);
  ll__ring_put_stack(p.w, MASK, &at, s1, 3, &p.out);
  p.w[p.head & MASK] = ll__ring_header(number++, LL__EV_ALLOCN);
  p.head = at;

  at = p.head + 1;
  ll__ring_put(p.w, MASK, &at, 0xabc0);
  p.w[p.head & MASK] = ll__ring_header(number++, LL__EV_FREE);
  p.head = at;

  at = p.head + 1;
  ll__ring_put_stamp(p.w, MASK, &at, 987654321);
  p.w[p.head & MASK] = ll__ring_header(number++, LL__EV_STAMP);
  p.head = at;

  at = p.head + 1;
  ll__ring_put(p.w, MASK, &at, 0xdef0);
  ll__ring_put(p.w, MASK, &at, 8);
  ll__ring_put(p.w, MASK, &at, 24);
  ll__ring_put_stack(p.w, MASK, &at, s2, 3, &p.out);
  p.w[p.head & MASK] = ll__ring_header(number++, LL__EV_ALLOCN);
  p.head = at;

  /* The helper's side. */
  uint64_t t = p.tail, h;
  h = ll__ring_get(p.w, MASK, t);
  assert_int_equal(ll__ring_tag(h), LL__EV_STAMP);
  assert_true(ll__ring_number(h, 0) == 41);
  assert_true(ll__ring_stamp_time(p.w, MASK, t) == 123456789);
  t += LL__RING_STAMP_WORDS;

  h = ll__ring_get(p.w, MASK, t);
  assert_int_equal(ll__ring_tag(h), LL__EV_ALLOCN);
  assert_true(ll__ring_number(h, 0) == 42);
  assert_true(ll__ring_get(p.w, MASK, t + 1) == 0xabc0);
  assert_true(ll__ring_get(p.w, MASK, t + 2) == 48);
  assert_true(ll__ring_get(p.w, MASK, t + 3) == 56);
  t += 4 + ll__ring_read_stack(p.w, MASK, t + 4, &p.in);
  assert_int_equal(p.in.n, 3);
  assert_memory_equal(p.in.ips, s1, sizeof s1);

  h = ll__ring_get(p.w, MASK, t);
  assert_int_equal(ll__ring_tag(h), LL__EV_FREE);
  assert_true(ll__ring_number(h, 0) == 43);
  assert_true(ll__ring_get(p.w, MASK, t + 1) == 0xabc0);
  t += 2;

  h = ll__ring_get(p.w, MASK, t);
  assert_int_equal(ll__ring_tag(h), LL__EV_STAMP);
  assert_true(ll__ring_number(h, 0) == 44);
  assert_true(ll__ring_stamp_time(p.w, MASK, t) == 987654321);
  t += LL__RING_STAMP_WORDS;

  h = ll__ring_get(p.w, MASK, t);
  assert_int_equal(ll__ring_tag(h), LL__EV_ALLOCN);
  assert_true(ll__ring_number(h, 0) == 45);
  assert_true(ll__ring_get(p.w, MASK, t + 1) == 0xdef0);
  uint64_t stack_words = ll__ring_read_stack(p.w, MASK, t + 4, &p.in);
  assert_true(stack_words == 2); /* its innermost frame; the two outer ones are s1's */
  assert_memory_equal(p.in.ips, s2, sizeof s2);
  t += 4 + stack_words;
  assert_true(t == p.head);
  assert_true(p.head > WORDS); /* it did wrap */
}

/* ---- a full ring's sleep (preload_slots.h) -------------------------------------------------- */

#define ROUNDS 400
#define SLEEP_MAX_NS 1000000000L /* a lost wake-up sleeps this long (a second: tv_sec too) */

static slot_t *g_slot;
static int g_acked, g_round_done;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The helper's side: publish tail = r in round r, sometimes at once, sometimes once the producer
 * is asleep (then only the wake-up ends its sleep), sometimes a moment later; then stop. */
static void *helper(void *arg) {
  (void)arg;
  for (int r = 1; r <= ROUNDS; r++) {
    if (r % 3 == 1) {
      while (!__atomic_load_n(&g_slot->waiting, __ATOMIC_SEQ_CST)) cpu_relax();
      nap(200000); /* in its futex by now */
    } else if (r % 3 == 2) {
      for (int i = 0, n = rand() % 2000; i < n; i++) cpu_relax();
    }
    ll__pl_tail_set(g_slot, (uint64_t)r);
    while (__atomic_load_n(&g_round_done, __ATOMIC_ACQUIRE) < r) cpu_relax();
  }
  while (!__atomic_load_n(&g_slot->waiting, __ATOMIC_SEQ_CST)) cpu_relax();
  nap(200000);
  __atomic_store_n(&g_acked, 1, __ATOMIC_SEQ_CST); /* as preload_apply.c stops */
  if (__atomic_load_n(&g_slot->waiting, __ATOMIC_SEQ_CST)) ll__pl_room_wake(g_slot);
  return NULL;
}

/* A producer asleep for room wakes as soon as the helper publishes a tail past the one it saw,
 * or stops: never after its whole timeout (a lost wake-up). */
static void room_sleep_wakes(void **state) {
  (void)state;
  g_slot = aligned_alloc(4096, sizeof(slot_t) + 4096); /* a size that is a multiple of the alignment */
  assert_non_null(g_slot);
  memset(g_slot, 0, sizeof(slot_t));
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, helper, NULL), 0);
  for (int r = 1; r <= ROUNDS; r++) {
    uint64_t t0 = mono_ns();
    while (__atomic_load_n(&g_slot->tail, __ATOMIC_SEQ_CST) == (uint64_t)(r - 1))
      ll__pl_room_sleep(g_slot, (uint64_t)(r - 1), &g_acked, SLEEP_MAX_NS);
    uint64_t took = mono_ns() - t0;
    assert_true(took < (uint64_t)SLEEP_MAX_NS / 2);
    assert_true(__atomic_load_n(&g_slot->tail, __ATOMIC_SEQ_CST) == (uint64_t)r);
    __atomic_store_n(&g_round_done, r, __ATOMIC_RELEASE);
  }
  uint64_t t0 = mono_ns();
  while (!__atomic_load_n(&g_acked, __ATOMIC_SEQ_CST))
    ll__pl_room_sleep(g_slot, (uint64_t)ROUNDS, &g_acked, SLEEP_MAX_NS);
  uint64_t stop = mono_ns() - t0;
  pthread_join(t, NULL);
  free(g_slot);
  assert_true(stop < (uint64_t)SLEEP_MAX_NS / 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(headers_round_trip),
      cmocka_unit_test(compact_headers),
      cmocka_unit_test(stacks_send_what_changed),
      cmocka_unit_test(deepest_stacks),
      cmocka_unit_test(sealed_stacks_as_put),
      cmocka_unit_test(events_and_stamps_wrap),
      cmocka_unit_test(room_sleep_wakes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
