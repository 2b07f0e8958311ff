/* capture_reach.h - the capture's REACH section (0x106): leak kinds per traceback, who holds whom, and the roots, from the exit scan. */
#ifndef LEAKLAB_CAPTURE_REACH_H
#define LEAKLAB_CAPTURE_REACH_H
/*
 * Contract: little-endian, fixed width, as the other sections (capture_format.h). Written by the
 * preload (preload_scan.c) when the exit scan ran; absent otherwise (a crash inside the tracker,
 * a capture from before the scan existed). Traces are the END snapshot's, by index, in the order
 * the file stores them; every trace of END has one entry, and its four kinds' blocks add up to
 * the trace's count.
 *
 *   0x106 REACH  head, 120 bytes: u32 version (1), u32 ntrace, u32 nedge, u32 nroot,
 *                u32 nthread (threads whose stacks were roots, the exiting one included),
 *                u32 flags (LL_CAP_REACH_F_*), u64 scan_ns (the whole scan, wall clock),
 *                u64 heap_scanned (bytes of live blocks read), u64 root_scanned (bytes of
 *                roots read), u64 cpu_ns (the scanning thread's CPU time), then
 *                4 x (u64 bytes, u64 blocks): the whole program's kinds, in the order
 *                definitely lost, indirectly lost, possibly lost, still reachable;
 *                ntrace x 4 x (u64 bytes, u64 blocks): each trace's kinds, same order;
 *                nedge x (u32 holder trace, u32 held trace, u64 blocks, u64 bytes): blocks of
 *                the held trace whose first holder is a block of the holder trace;
 *                nroot x (u32 held trace, u32 kind (LL_CAP_ROOT_*), u32 thread (0: the thread
 *                that ended the program, 1..: the others), u32 0, u64 address of the root word,
 *                u64 ip (stack roots of thread 0: the function whose frame holds the word; else
 *                0), u64 blocks, u64 bytes): blocks of the held trace whose first holder is
 *                that root word (at most a few words per trace; the last one of a trace also
 *                counts the blocks of any further words).
 */
#include <stddef.h>
#include <stdint.h>

#define LL_CAP_SEC_REACH 0x106u

#define LL_CAP_REACH_KINDS 4
enum { LL_CAP_DEFINITE = 0, LL_CAP_INDIRECT = 1, LL_CAP_POSSIBLE = 2, LL_CAP_REACHABLE = 3 };
enum { LL_CAP_ROOT_GLOBAL = 0, LL_CAP_ROOT_STACK = 1, LL_CAP_ROOT_TLS = 2, LL_CAP_ROOT_REGISTER = 3 };
#define LL_CAP_REACH_F_NO_OTHER_REGS 1u /* other threads ran: their registers were not roots */
#define LL_CAP_REACH_F_SIGNAL 2u        /* scanned from a fatal signal's handler */

typedef struct ll_cap_reach_edge {
  uint32_t holder, held;
  uint64_t blocks, bytes;
} ll_cap_reach_edge_t;

typedef struct ll_cap_reach_root {
  uint32_t held, kind, thread;
  uint64_t addr, ip, blocks, bytes;
} ll_cap_reach_root_t;

typedef struct ll_cap_reach {
  uint32_t ntrace, nedge, nroot, nthread, flags;
  uint64_t scan_ns, heap_scanned, root_scanned, cpu_ns;
  uint64_t bytes[LL_CAP_REACH_KINDS], blocks[LL_CAP_REACH_KINDS];
  /* decoded only: */
  uint64_t (*trace_bytes)[LL_CAP_REACH_KINDS], (*trace_blocks)[LL_CAP_REACH_KINDS];
  ll_cap_reach_edge_t *edges;
  ll_cap_reach_root_t *roots;
} ll_cap_reach_t;

/* Encoding (no malloc): the section's length for h's counts, then the head and each entry in
 * order; every put returns the position after what it wrote. */
size_t ll_cap_reach_size(const ll_cap_reach_t *h);
unsigned char *ll_cap_reach_put_head(unsigned char *p, const ll_cap_reach_t *h);
unsigned char *ll_cap_reach_put_trace(unsigned char *p, const uint64_t bytes[LL_CAP_REACH_KINDS],
                                      const uint64_t blocks[LL_CAP_REACH_KINDS]);
unsigned char *ll_cap_reach_put_edge(unsigned char *p, const ll_cap_reach_edge_t *e);
unsigned char *ll_cap_reach_put_root(unsigned char *p, const ll_cap_reach_root_t *r);

struct ll__arena;
/* Decode (arrays from arena): 0, LL_ECORRUPT (lengths, counts or trace indices that do not fit;
 * ntrace_end: the END snapshot's trace count, which ntrace must equal), LL_EVERSION. */
int ll_cap_decode_reach(const void *data, size_t len, size_t ntrace_end, struct ll__arena *arena,
                        ll_cap_reach_t *out);

#endif
