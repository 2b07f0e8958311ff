/* engine.h - internals of the tracking engine shared across files (preload, reports). */
#ifndef LEAKLAB_ENGINE_H
#define LEAKLAB_ENGINE_H
/*
 * Contract: same rules as leaklab.h (thread-safe, no malloc, program never harmed). These are
 * for leaklab's own parts (the preload library, the capture writer), not for users.
 */
#include <stdint.h>

#include <leaklab/leaklab.h>

/* Native recording (the preload): ips are return addresses, ips[0] the innermost (the caller of
 * malloc). Interned as they are; snapshots show them as frames with `ip` set, filename
 * "<unknown>", function "", lineno 0, for report-time symbolisation. */
void ll__track_alloc_ips(void *ptr, size_t size, size_t usable, const uintptr_t *ips, int nip);
void ll__track_realloc_end_ips(ll_realloc_token_t *tok, void *new_ptr, size_t size,
                               size_t usable, const uintptr_t *ips, int nip);

/* Temporary allocations (freed before any other allocation was made; memray's definition with
 * N = 1), aggregated per traceback since start: as a snapshot with at = LL_AT_TEMPORARY, whose
 * count/size are the number and bytes of such allocations. */
int ll__take_temporary_snapshot(ll_snapshot_t **out);

/* Size histogram of every allocation since start: bucket 0 holds size 0, bucket i (1..64) sizes
 * in [2^(i-1), 2^i). */
#define LL__HIST_BUCKETS 65
void ll__get_size_histogram(uint64_t counts[LL__HIST_BUCKETS], uint64_t bytes[LL__HIST_BUCKETS]);

#endif
