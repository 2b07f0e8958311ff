/* capture_read.h - the one reader of capture (and plain snapshot) files: open once, every extra section decoded, for every verb and the symboliser. */
#ifndef LEAKLAB_CAPTURE_READ_H
#define LEAKLAB_CAPTURE_READ_H
/*
 * Contract: ll_capture_open reads and verifies the file once (the snapshot file's framing and
 * checksum, snapfile.h) and decodes every extra section it holds (capture_format.h). A section
 * that does not decode does not fail the open: its accessor says LL_ECORRUPT, so a verb that
 * does not need it still works. Accessors return 0 and point into the reader (valid until
 * ll_capture_close), LL_ENOVIEW when the file has no such section (a plain snapshot file has
 * none), or LL_ECORRUPT. Open errors: LL_ENOMEM and the snapshot file's (LL_EIO, LL_ETRUNC,
 * LL_ECHECKSUM, ...). Nothing here symbolises: snapshots load with native frames as recorded.
 */
#include <stddef.h>

#include <leaklab/leaklab.h>

#include "capture_format.h"

typedef struct ll_capture ll_capture_t;

int ll_capture_open(const char *path, ll_capture_t **out);
/* The same from a caller's buffer (copied). */
int ll_capture_open_buffer(const void *buf, size_t len, ll_capture_t **out);
void ll_capture_close(ll_capture_t *c);

/* Bit (1 << at) for each moment the file holds. */
unsigned ll_capture_views(const ll_capture_t *c);
/* Decode moment `at` as recorded (LL_ENOVIEW when absent); free with ll_snapshot_free. */
int ll_capture_load(const ll_capture_t *c, ll_at_t at, ll_snapshot_t **out);
/* Moments at[0..n) at once, sharing their tracebacks (ll__snapfile_load_many); each freed with
 * ll_snapshot_free. */
int ll_capture_load_many(const ll_capture_t *c, const ll_at_t *at, size_t n, ll_snapshot_t **out);

int ll_capture_modules(const ll_capture_t *c, const ll_cap_module_t **mods, size_t *n);
int ll_capture_process(const ll_capture_t *c, const ll_cap_process_t **out);
int ll_capture_timeline(const ll_capture_t *c, const ll_cap_timeline_t **out);
int ll_capture_histogram(const ll_capture_t *c, const ll_cap_histogram_t **out);
int ll_capture_jemalloc(const ll_capture_t *c, const ll_cap_jemalloc_t **out);
int ll_capture_lines(const ll_capture_t *c, const ll_cap_lines_t **out);
int ll_capture_budget(const ll_capture_t *c, const ll_cap_budget_t **out);
/* Recorded with `leaklab run --native` (the process section's flag); 0 without that section. */
int ll_capture_native(const ll_capture_t *c);
/* The raw bytes of the first section of `type` (0, or LL_ENOVIEW): for a section whose decoder
 * needs more than the file (REACH wants the symbolised end snapshot's trace count). */
int ll_capture_section(const ll_capture_t *c, uint32_t type, const void **data, size_t *len);

#endif
