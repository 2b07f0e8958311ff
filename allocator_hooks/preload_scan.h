/* preload_scan.h - the exit scan: roots (globals, stacks, TLS, registers), the REACH section, the lost and reachable views. */
#ifndef LEAKLAB_PRELOAD_SCAN_H
#define LEAKLAB_PRELOAD_SCAN_H
/*
 * Contract: with the tracker frozen, under the recursion guard, once, from the capture writer;
 * never allocates through malloc (mmap'd tables, raw reads of /proc). Calls preload_stack and
 * the engine (see preload_state.h for the modules' order).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include <leaklab/leaklab.h>

/* Where the ending path entered leaklab (set by the thread that writes the capture, before it
 * does): this thread's stack is a root from ll__pl_scan_from up (below it lie leaklab's own
 * frames), and its registers are ll__pl_scan_regs' general ones, as the program left them
 * there (a signal's context, or LL__PL_TAKE_REGS first thing in the entry function), never
 * leaklab's own later values. NULL: no register roots. */
extern uintptr_t ll__pl_scan_from;
extern const ucontext_t *ll__pl_scan_regs;
/* The registers into UC, zeroed first: getcontext fills the general registers it saves and
 * leaves the rest of the structure (its reserved words, the error and trap numbers) as the
 * stack held them, stale words of earlier calls. */
#define LL__PL_TAKE_REGS(uc) (memset(&(uc), 0, sizeof(uc)), getcontext(&(uc)))
/* Scan from the roots; the REACH section's bytes (valid until ll__pl_scan_release). 0 or a
 * negative LL_E* code. */
int ll__pl_scan(int from_signal, const void **data, size_t *len);
/* After ll__pl_scan: the lost (definitely + indirectly) and still-reachable views of the end
 * snapshot. LL_EINVAL when the scan and the end snapshot disagree (then no views). */
int ll__pl_scan_views(const ll_snapshot_t *end, ll_snapshot_t **lost, ll_snapshot_t **reachable);
void ll__pl_scan_release(void);

#endif
