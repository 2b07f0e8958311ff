/* reach.h - the exit scan's engine half: which live blocks the roots reach (memcheck's leak kinds) and what holds each. */
#ifndef LEAKLAB_REACH_H
#define LEAKLAB_REACH_H
/*
 * Contract: only while the tracker is frozen (ll__tracker_freeze) or in a single-threaded test:
 * the live table is read in place. No malloc, no recursion: every table is mmap'd and given
 * back by ll__reach_free. The caller names the roots (address ranges it knows are readable);
 * nothing else is scanned, so leaklab's own memory is never a root unless the caller passes it.
 *
 * Rules, memcheck's (mc_leakcheck.c): an aligned 8-byte word whose value lies in
 * [start, start + max(size, 1)) of a live block points into it. A start pointer from a root or
 * from a still-reachable block makes a block still reachable; any other pointer from a root or
 * a reached block (an interior one, or any from a possibly-lost block) makes an unreached block
 * possibly lost. Then, in address order, each block still unreached leads a clique: every
 * unreached block it reaches (through any pointer) becomes indirectly lost, earlier leaders
 * included; the leaders left are definitely lost. The first holder of a block is what marked it
 * first, or for indirectly lost blocks the lost block that reached it. Roots are taken by kind,
 * globals, then thread-local storage, then stacks, then registers, each kind followed to the end
 * before the next (so a block globals reach is held through them, never by what a stack or a
 * register happens to hold). A kind is followed breadth first by levels: level 0 is what the
 * kind's words mark (ranges in the order named, each from its lowest address); level k + 1 is
 * what level k's blocks mark, each block read as what it was when level k began (a mark
 * during a level queues the block for the next one). So a still reachable block's holder is
 * on a shortest chain of start pointers through still reachable blocks from the highest kind
 * of root reaching it, a possibly lost block's on a shortest chain of any pointers; among the
 * holders at that depth, the block at the lowest address, or the root word read first. That
 * rule does not depend on the order the words are looked up in (reach_mark.c batches them),
 * so the same heap gives the same holders on every run. One exception for glibc: a word in a
 * global that points exactly 8 bytes before the end of a block's usable size (glibc's malloc
 * state pointing at the next chunk's header) is not counted.
 */
#include <stddef.h>
#include <stdint.h>

enum { LL__REACH_DEFINITE = 0, LL__REACH_INDIRECT = 1, LL__REACH_POSSIBLE = 2, LL__REACH_REACHABLE = 3,
       LL__REACH_KINDS = 4 };
enum { LL__ROOT_GLOBAL = 0, LL__ROOT_STACK = 1, LL__ROOT_TLS = 2, LL__ROOT_REGISTER = 3 };

/* Per traceback id: bytes (requested), usable bytes and blocks of each kind. */
typedef struct ll__reach_tb {
  uint64_t bytes[LL__REACH_KINDS], usable[LL__REACH_KINDS], blocks[LL__REACH_KINDS];
} ll__reach_tb_t;

/* Blocks of traceback `held` whose first holder is a block of traceback `holder`. */
typedef struct ll__reach_edge {
  uint32_t holder, held;
  uint64_t blocks, bytes;
} ll__reach_edge_t;

/* Blocks of traceback `held` whose first holder is the root word at `addr` (one entry per
 * distinct word, at most LL__REACH_ROOTS_PER_TB per traceback; the rest add to `other_*`). */
#define LL__REACH_ROOTS_PER_TB 4
typedef struct ll__reach_root {
  uint32_t held, kind, thread, pad_;
  uint64_t addr, blocks, bytes;
} ll__reach_root_t;

typedef struct ll__reach {
  size_t ntb;              /* traceback ids: tbs[id] */
  ll__reach_tb_t *tbs;
  uint32_t *end_index;     /* id -> index among tracebacks with live blocks, in id order (the
                              end snapshot's trace order), UINT32_MAX for none */
  uint32_t nend;           /* tracebacks with live blocks */
  size_t nedge;
  ll__reach_edge_t *edges;
  size_t nroot;
  ll__reach_root_t *roots;
  uint64_t total_bytes[LL__REACH_KINDS], total_blocks[LL__REACH_KINDS];
  uint64_t heap_scanned, root_scanned; /* bytes read */
  void *ll__priv;
} ll__reach_t;

/* The tracker's live table and interned tracebacks (tracker.c), read in place by the scan. */
struct ll__livetab;
struct ll__intern;
const struct ll__livetab *ll__tracker_live(void);
const struct ll__intern *ll__tracker_intern(void);

/* Index the live blocks (sorted by address). 0, LL_ENOMEM, LL_ENOTRACING. */
int ll__reach_begin(ll__reach_t **out);
/* Name the root range [lo, hi) (its aligned words) as a root of `kind` of thread `thread` (0:
 * the thread that scans). It is read in ll__reach_finish (only if still mapped), so it must
 * stay valid until then; name ranges of a kind in a stable order (it decides holders). */
void ll__reach_root(ll__reach_t *r, uintptr_t lo, uintptr_t hi, uint32_t kind, uint32_t thread);
/* Read the roots by kind and propagate, classify, aggregate per traceback. 0 or LL_ENOMEM. */
int ll__reach_finish(ll__reach_t *r);
void ll__reach_free(ll__reach_t *r);
/* For tests: the words far from their block are looked up `chunk` at a time, sorted by
 * address unless fewer than `small` (0: the defaults, 2^20 and 512). Scans begun after the
 * call use it; the result never depends on it. */
void ll__reach_tune(size_t chunk, size_t small);

#endif
