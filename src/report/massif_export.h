/* massif_export.h - internal: write leaklab snapshots as a massif.out file that ms_print reads. */
#ifndef LEAKLAB_MASSIF_EXPORT_H
#define LEAKLAB_MASSIF_EXPORT_H
/*
 * Contract: reads the snapshots only; allocates from a private mmap arena (never malloc), so it
 * may run anywhere the engine runs. Returns 0, LL_EINVAL (peak NULL), LL_ENOMEM or LL_EIO.
 *
 * The file has snapshot 0 (empty, time 0), the peak as a detailed heap_tree=peak snapshot, and,
 * when `end` is given, the end as a detailed snapshot. Heap trees nest frames as massif does:
 * the root holds every byte, its children are where blocks were made (frames[0]), their
 * children the callers, sizes largest first, each node the sum of its children. Sizes are
 * requested bytes (massif's useful heap, mem_heap_B); usable minus requested is the extra heap.
 * massif keeps at most 200 frames (--depth), and so does the export. Time is in bytes allocated
 * since the start; leaklab does not record when the peak happened, so the peak is placed at its
 * lower bound, the peak's own size.
 */
#include <stdio.h>

#include <leaklab/leaklab.h>

/* Deepest tree the export writes: massif's largest --depth. */
#define LL__MASSIF_EXPORT_DEPTH 200

int ll_report_massif(FILE *out, const ll_snapshot_t *peak, const ll_snapshot_t *end);

#endif
