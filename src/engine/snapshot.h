/* snapshot.h - internal: the traceback rules snapshot filters (snapfilter.c) and statistics (stats.c) share (snapshot.c). */
#ifndef LEAKLAB_SNAPSHOT_H
#define LEAKLAB_SNAPSHOT_H
/*
 * Contract: pure functions over a caller's snapshot; nothing allocates.
 */
#include <stdint.h>

#include <leaklab/leaklab.h>

/* A traceback's frames; one with no frames (or none at all) is shown as one unknown frame, so
 * every key has a frames[0]. *n receives the count (>= 1). */
const ll_frame_t *ll__tb_frames(const ll_traceback_t *tb, uint32_t *n);
/* Whether a snapshot can be read: not NULL, and traces present when it says it has some. */
int ll__snap_valid(const ll_snapshot_t *s);

#endif
