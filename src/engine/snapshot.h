/* snapshot.h - internal: the traceback rules snapshot filters (snapfilter.c) and statistics (stats.c) share, and views derived from a snapshot (snapshot.c). */
#ifndef LEAKLAB_SNAPSHOT_H
#define LEAKLAB_SNAPSHOT_H
/*
 * Contract: pure functions over a caller's snapshot; only ll__snapshot_derive allocates (an
 * arena of its own, freed with ll_snapshot_free).
 */
#include <stdint.h>

#include <leaklab/leaklab.h>

/* A traceback's frames; one with no frames (or none at all) is shown as one unknown frame, so
 * every key has a frames[0]. *n receives the count (>= 1). */
const ll_frame_t *ll__tb_frames(const ll_traceback_t *tb, uint32_t *n);
/* Whether a snapshot can be read: not NULL, and traces present when it says it has some. */
int ll__snap_valid(const ll_snapshot_t *s);
/* A view of src (the preload's leaks, lost and reachable moments): a new snapshot, in its own
 * arena, with src's metadata and `at`, and no traces yet; *traces has room for all of src's,
 * for the caller to fill with its own rule before setting (*out)->ntraces. The tracebacks and
 * the program string stay src's, so src must outlive the view. 0 or LL_ENOMEM. */
int ll__snapshot_derive(const ll_snapshot_t *src, ll_at_t at, ll_snapshot_t **out, ll_trace_t **traces);

#endif
