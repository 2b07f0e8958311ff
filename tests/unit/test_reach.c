/* test_reach.c - the exit scan's engine half: memcheck's leak kinds, cliques in address order, interior pointers, glibc's chunk headers, first holders (shortest chain, then lowest address) and the roots' priority; big blocks read only where touched, through one pagemap descriptor per scan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <leaklab/leaklab.h>

#include "engine.h"
#include "reach.h"

/* Blocks live in this array, 128 bytes apart in address order, each with its own traceback
 * (one return address per block, recorded in order: traceback id k is block k). */
enum { A, B, C, D, E, F, G, H, I, J, K, L, M, NBLK };
static uint64_t heap[NBLK * 16] __attribute__((aligned(16)));
#define BLK(k) ((uint64_t)(uintptr_t)&heap[(k) * 16])
static const uint64_t size_of[NBLK] = {64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 0, 64, 64};

static int setup(void **state) {
  (void)state;
  memset(heap, 0, sizeof heap);
  assert_int_equal(ll_start(1), 0);
  for (int k = 0; k < NBLK; k++) {
    uintptr_t ip = 0x401000u + (uintptr_t)k * 16u;
    ll__track_alloc_ips_c((void *)(uintptr_t)BLK(k), size_of[k], size_of[k], &ip, 1, NULL);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ll_stop();
  return 0;
}

static int kind_of(const ll__reach_t *r, int k) {
  for (int kind = 0; kind < LL__REACH_KINDS; kind++)
    if (r->tbs[k].blocks[kind] == 1) return kind;
  return -1;
}

static void test_kinds_and_holders(void **state) {
  (void)state;
  heap[A * 16] = BLK(B);                  /* A -> B */
  heap[C * 16] = BLK(D);                  /* C (possibly lost) -> D */
  heap[E * 16] = BLK(F);                  /* a lost cycle */
  heap[F * 16] = BLK(E);
  heap[G * 16] = BLK(H);                  /* a lost tree */
  heap[M * 16] = BLK(L);                  /* a later leader takes an earlier one in */
  uint64_t globals[3] = {BLK(A), BLK(C) + 16, BLK(I) + 56};
  uint64_t stack[2] = {BLK(J) + 56, BLK(K)};

  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  ll__reach_root(r, (uintptr_t)globals, (uintptr_t)(globals + 3), LL__ROOT_GLOBAL, 0);
  ll__reach_root(r, (uintptr_t)stack, (uintptr_t)(stack + 2), LL__ROOT_STACK, 0);
  assert_int_equal(ll__reach_finish(r), 0);

  assert_int_equal(r->ntb, NBLK);
  assert_int_equal(r->nend, NBLK);
  static const int want[NBLK] = {
      [A] = LL__REACH_REACHABLE, [B] = LL__REACH_REACHABLE, /* start pointers from a root */
      [C] = LL__REACH_POSSIBLE,  [D] = LL__REACH_POSSIBLE,  /* interior, then from possible */
      [E] = LL__REACH_DEFINITE,  [F] = LL__REACH_INDIRECT,  /* the lower address leads */
      [G] = LL__REACH_DEFINITE,  [H] = LL__REACH_INDIRECT,
      [I] = LL__REACH_DEFINITE,  /* a global at start + usable - 8: glibc's chunk header */
      [J] = LL__REACH_POSSIBLE,  /* the same word on a stack is an interior pointer */
      [K] = LL__REACH_REACHABLE, /* a zero-size block: its start counts */
      [L] = LL__REACH_INDIRECT,  [M] = LL__REACH_DEFINITE};
  for (int k = 0; k < NBLK; k++) {
    assert_int_equal(r->end_index[k], k);
    if (kind_of(r, k) != want[k]) fail_msg("block %d: kind %d, want %d", k, kind_of(r, k), want[k]);
  }
  assert_int_equal(r->total_blocks[LL__REACH_DEFINITE], 4);
  assert_int_equal(r->total_bytes[LL__REACH_INDIRECT], 3 * 64);

  /* First holders: B by A, F by E, H by G, L by M; A by the global word holding it. */
  int held_b = 0, held_l = 0;
  for (size_t i = 0; i < r->nedge; i++) {
    const ll__reach_edge_t *e = &r->edges[i];
    held_b |= e->holder == A && e->held == B && e->blocks == 1 && e->bytes == 64;
    held_l |= e->holder == M && e->held == L;
  }
  assert_true(held_b);
  assert_true(held_l);
  int root_a = 0, root_k = 0;
  for (size_t i = 0; i < r->nroot; i++) {
    const ll__reach_root_t *o = &r->roots[i];
    root_a |= o->held == A && o->kind == LL__ROOT_GLOBAL && o->addr == (uintptr_t)&globals[0];
    root_k |= o->held == K && o->kind == LL__ROOT_STACK && o->addr == (uintptr_t)&stack[1];
  }
  assert_true(root_a);
  assert_true(root_k);
  assert_true(r->heap_scanned >= 12 * 64);
  ll__reach_free(r);
}

/* Roots are read by kind (globals, TLS, stacks, registers), each followed to the end before the
 * next, whatever order they were named in: a register or stack word pointing at a block the
 * globals reach does not become its holder. */
static int holder_edge(const ll__reach_t *r, int holder, int held) {
  for (size_t i = 0; i < r->nedge; i++)
    if (r->edges[i].holder == (uint32_t)holder && r->edges[i].held == (uint32_t)held) return 1;
  return 0;
}

static int root_of(const ll__reach_t *r, int held, uint32_t kind) {
  for (size_t i = 0; i < r->nroot; i++)
    if (r->roots[i].held == (uint32_t)held && r->roots[i].kind == kind) return 1;
  return 0;
}

static void test_root_priority(void **state) {
  (void)state;
  heap[A * 16] = BLK(B); /* global -> A -> B, and a register holds B */
  heap[C * 16] = BLK(D); /* tls -> C -> D, and a stack holds D */
  heap[E * 16] = BLK(F); /* stack -> E -> F, and a register holds F */
  uint64_t regs[2] = {BLK(B), BLK(F)}, stack[2] = {BLK(D), BLK(E)}, tls[1] = {BLK(C)},
           globals[1] = {BLK(A)};
  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  ll__reach_root(r, (uintptr_t)regs, (uintptr_t)(regs + 2), LL__ROOT_REGISTER, 0);
  ll__reach_root(r, (uintptr_t)stack, (uintptr_t)(stack + 2), LL__ROOT_STACK, 0);
  ll__reach_root(r, (uintptr_t)tls, (uintptr_t)(tls + 1), LL__ROOT_TLS, 0);
  ll__reach_root(r, (uintptr_t)globals, (uintptr_t)(globals + 1), LL__ROOT_GLOBAL, 0);
  assert_int_equal(ll__reach_finish(r), 0);
  for (int k = A; k <= F; k++) assert_int_equal(kind_of(r, k), LL__REACH_REACHABLE);
  assert_true(root_of(r, A, LL__ROOT_GLOBAL));
  assert_true(holder_edge(r, A, B));
  assert_true(root_of(r, C, LL__ROOT_TLS));
  assert_true(holder_edge(r, C, D));
  assert_true(root_of(r, E, LL__ROOT_STACK));
  assert_true(holder_edge(r, E, F));
  assert_int_equal(r->nroot, 3); /* no register holds anything first */
  assert_int_equal(r->root_scanned, 6 * 8);
  ll__reach_free(r);
}

/* Ties between holders at the same depth go to the lowest address, whatever order the roots
 * named them in; a still reachable block's holder is the block whose start pointer made it so,
 * even when a lower block's interior pointer reached it first in the same level; a nearer
 * holder beats a lower one further from the roots. */
static void test_holder_ties(void **state) {
  (void)state;
  heap[D * 16] = BLK(F);      /* D and B both hold F, at depth 1: B (lower) wins */
  heap[B * 16] = BLK(F);
  heap[B * 16 + 1] = BLK(H) + 8; /* B points inside H, D at its start: D holds it */
  heap[D * 16 + 1] = BLK(H);
  heap[A * 16] = BLK(C);      /* A -> C -> E (depth 2) and M -> E (depth 1): M holds E */
  heap[C * 16] = BLK(E);
  heap[M * 16] = BLK(E);
  uint64_t globals[3] = {BLK(D), BLK(B), BLK(A)}, more[1] = {BLK(M)};
  for (int round = 0; round < 2; round++) {
    ll__reach_t *r = NULL;
    assert_int_equal(ll__reach_begin(&r), 0);
    ll__reach_root(r, (uintptr_t)globals, (uintptr_t)(globals + 3), LL__ROOT_GLOBAL, 0);
    ll__reach_root(r, (uintptr_t)more, (uintptr_t)(more + 1), LL__ROOT_GLOBAL, 0);
    assert_int_equal(ll__reach_finish(r), 0);
    for (int k = 0; k < NBLK; k++)
      if (k == A || k == B || k == C || k == D || k == E || k == F || k == H || k == M)
        assert_int_equal(kind_of(r, k), LL__REACH_REACHABLE);
    assert_true(holder_edge(r, B, F));
    assert_false(holder_edge(r, D, F));
    assert_true(holder_edge(r, D, H));
    assert_false(holder_edge(r, B, H));
    assert_true(holder_edge(r, M, E));
    assert_false(holder_edge(r, C, E));
    ll__reach_free(r); /* and again: the same */
  }
}

/* Without roots everything is lost; a block pointing at itself is still its own leader. */
static void test_no_roots(void **state) {
  (void)state;
  heap[A * 16] = BLK(A);
  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  assert_int_equal(ll__reach_finish(r), 0);
  assert_int_equal(r->total_blocks[LL__REACH_REACHABLE] + r->total_blocks[LL__REACH_POSSIBLE], 0);
  assert_int_equal(kind_of(r, A), LL__REACH_DEFINITE);
  assert_int_equal(r->total_blocks[LL__REACH_DEFINITE] + r->total_blocks[LL__REACH_INDIRECT], NBLK);
  assert_int_equal(r->nroot, 0);
  ll__reach_free(r);
}

/* A big block is read only where its pages were touched: the scan finds the pointers in its
 * written pages, leaves the untouched ones out of memory (reading them would fault them in,
 * and on some kernels count each in the program's RSS), and counts only what it read. */
static void test_untouched_pages(void **state) {
  (void)state;
  const size_t big = (size_t)64 << 20, ps = (size_t)sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  madvise(m, big, MADV_NOHUGEPAGE); /* a written page stays one page */
  uintptr_t ip = 0x409000u;
  ll__track_alloc_ips_c(m, big, big, &ip, 1, NULL);
  ((uint64_t *)(void *)(m + (40u << 20)))[1] = BLK(B); /* a page in the middle -> B */
  ((uint64_t *)(void *)(m + big))[-1] = BLK(D);        /* the last word -> D */
  uint64_t globals[1] = {(uint64_t)(uintptr_t)m};

  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  ll__reach_root(r, (uintptr_t)globals, (uintptr_t)(globals + 1), LL__ROOT_GLOBAL, 0);
  assert_int_equal(ll__reach_finish(r), 0);
  assert_int_equal(kind_of(r, B), LL__REACH_REACHABLE);
  assert_int_equal(kind_of(r, D), LL__REACH_REACHABLE);
  assert_true(holder_edge(r, NBLK, B)); /* the big block is traceback NBLK */
  assert_true(holder_edge(r, NBLK, D));
  assert_true(r->heap_scanned < 64 * 1024); /* two pages of 64 MiB, and the small blocks */

  unsigned char vec[4096];
  size_t resident = 0;
  for (size_t off = 0; off < big; off += sizeof vec * ps) {
    size_t len = big - off < sizeof vec * ps ? big - off : sizeof vec * ps;
    assert_int_equal(mincore(m + off, len, vec), 0);
    for (size_t i = 0; i < len / ps; i++) resident += vec[i] & 1;
  }
  assert_true(resident <= 4);
  ll__reach_free(r);
  ll_track_free(m);
  munmap(m, big);
}

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  assert_non_null(d);
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n - 1; /* "." and "..", less opendir's own descriptor */
}

/* Eight big blocks, each pointing to a small one from a page in its middle: read through the
 * one pagemap descriptor the scan keeps (closed when it ends), and, when no descriptor can be
 * opened at all, read whole: the same kinds either way. */
static void scan_bigs(int no_fds) {
  enum { NB = 8 };
  const size_t big = (size_t)1 << 20;
  char *m[NB];
  uint64_t globals[NB];
  for (int i = 0; i < NB; i++) {
    m[i] = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m[i] != MAP_FAILED);
    uintptr_t ip = 0x409000u + (uintptr_t)i * 16u;
    ll__track_alloc_ips_c(m[i], big, big, &ip, 1, NULL);
    ((uint64_t *)(void *)(m[i] + big / 2))[0] = BLK(A + i); /* big block i -> small block i */
    globals[i] = (uint64_t)(uintptr_t)m[i];
  }
  int before = open_fds();
  struct rlimit was;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
  ll__reach_t *r = NULL;
  assert_int_equal(ll__reach_begin(&r), 0);
  ll__reach_root(r, (uintptr_t)globals, (uintptr_t)(globals + NB), LL__ROOT_GLOBAL, 0);
  if (no_fds) { /* no new descriptor can be opened */
    struct rlimit none = {0, was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
  }
  assert_int_equal(ll__reach_finish(r), 0);
  if (no_fds) assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
  assert_int_equal(open_fds(), before); /* the scan's descriptor is closed */
  for (int i = 0; i < NB; i++) assert_int_equal(kind_of(r, A + i), LL__REACH_REACHABLE);
  if (no_fds) assert_true(r->heap_scanned >= NB * big); /* read whole */
  else assert_true(r->heap_scanned < NB * 8192 + 4096);   /* only the touched pages */
  ll__reach_free(r);
  for (int i = 0; i < NB; i++) {
    ll_track_free(m[i]);
    munmap(m[i], big);
  }
}

static void test_pagemap_descriptor(void **state) {
  (void)state;
  scan_bigs(0);
}

static void test_pagemap_unavailable(void **state) {
  (void)state;
  scan_bigs(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_kinds_and_holders, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_priority, setup, teardown),
      cmocka_unit_test_setup_teardown(test_holder_ties, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_roots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untouched_pages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pagemap_descriptor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pagemap_unavailable, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
