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

#include <leaklab/leaklab.h>

/* The outermost leaklab frame of the ending path (process's finish sets it): this thread's
 * stack is a root from there up; below it lie leaklab's own frames. */
extern uintptr_t ll__pl_scan_from;
/* Scan from the roots; the REACH section's bytes (valid until ll__pl_scan_release). 0 or a
 * negative LL_E* code. */
int ll__pl_scan(int from_signal, const void **data, size_t *len);
/* After ll__pl_scan: the lost (definitely + indirectly) and still-reachable views of the end
 * snapshot. LL_EINVAL when the scan and the end snapshot disagree (then no views). */
int ll__pl_scan_views(const ll_snapshot_t *end, ll_snapshot_t **lost, ll_snapshot_t **reachable);
void ll__pl_scan_release(void);

#endif
