/* pprof_export.h - internal: leaklab snapshots written as a gzip'd pprof profile.proto (Go's heap profile shape). */
#ifndef LEAKLAB_PPROF_EXPORT_H
#define LEAKLAB_PPROF_EXPORT_H
/*
 * Contract: reads the snapshots only (symbolised ones: frames of one return address share its
 * `ip`, innermost inlined function first); encodes with protobuf-c from google/pprof's own
 * profile.proto and compresses with zlib; allocates with malloc, so it is for the `leaklab`
 * command, never the preload. Returns 0, LL_EINVAL (no moment), LL_ENOMEM or LL_EIO.
 *
 * The profile is a Go heap profile: sample types alloc_objects/count, alloc_space/bytes (only
 * when `alloc` is given: every allocation of the run) then inuse_objects/count,
 * inuse_space/bytes (the moment `inuse`), inuse_space the default; period_type space/bytes,
 * period 1 (every block, not sampled). One sample per traceback, the same traceback in both
 * snapshots being one sample; location_id[0] is the leaf. One location per return address
 * (address = ip, lines = the functions inlined there, innermost first, the last the function
 * that holds the code), one per frame for frames without an address (compile-time hooks); a
 * recursion that repeats one address gives one location per level. A location whose address
 * lies in a mapping names it. Functions are (name, file) pairs. Mappings have build ids (hex),
 * and say that functions, files, lines and inline frames are given, so readers do not
 * symbolise again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <leaklab/leaklab.h>

/* One module of the recorded process: its address range and where that range starts in the
 * file (the file's virtual address, as `offset`). */
typedef struct ll_pprof_mapping {
  uint64_t start, limit, offset;
  const char *path;
  const unsigned char *build_id;
  size_t build_id_len;
} ll_pprof_mapping_t;

typedef struct ll_pprof_input {
  const ll_snapshot_t *inuse; /* the moment: inuse_objects, inuse_space (required) */
  const ll_snapshot_t *alloc; /* every allocation of the run, or NULL: no alloc_* types */
  const ll_pprof_mapping_t *mappings;
  size_t nmapping;
  const char *const *comments; /* shown by `pprof -comments`; may be NULL */
  size_t ncomment;
} ll_pprof_input_t;

int ll_report_pprof(FILE *out, const ll_pprof_input_t *in);

#endif
