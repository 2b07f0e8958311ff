/* snapfile.h - internal: the snapshot file format and its reader/writer API (snapfile_read.c, snapfile_write.c). */
#ifndef LEAKLAB_SNAPFILE_H
#define LEAKLAB_SNAPFILE_H
/*
 * File format, version 1 ("LLSNAP"). Every integer is little-endian and fixed-width; offsets are
 * from the start of the file. A writer builds the whole image in memory and renames it into
 * place, so a reader sees either the old file or the complete new one.
 *
 *   Header, 24 bytes
 *     0   8  magic     "LLSNAP\r\n" (4C 4C 53 4E 41 50 0D 0A; the CR LF catches text-mode copies)
 *     8   4  version   1 (LL__SNAPFILE_VERSION); anything else is LL_EVERSION
 *     12  4  flags     0 (reserved)
 *     16  8  total     length of the whole file in bytes, trailer included; a shorter file is
 *                      LL_ETRUNC, a longer one LL_ECORRUPT
 *
 *   Sections, back to back from offset 24 up to the trailer; each one:
 *     0   4  type      see below
 *     4   4  flags     bit 0 REQUIRED: a reader that does not know `type` must refuse the file
 *                      (LL_EVERSION) rather than skip it; other bits reserved (0)
 *     8   8  length    payload bytes
 *     16  .. payload, then 0..7 zero bytes so the next section starts 8-aligned (not counted)
 *
 *   Trailer, 16 bytes, the end of the file
 *     0   8  total     same value as in the header
 *     8   4  crc32     CRC-32 (IEEE, as zlib's crc32) of every byte of the file before this field
 *     12  4  end       "LLND"
 *
 *   Section types (core, 1..0xFF; unknown core types without REQUIRED are skipped too):
 *     1 STRINGS     u32 count, u32 0, then `count` NUL-terminated strings back to back, ids
 *                   0..count-1 in order; the payload ends right after the last NUL.
 *     2 FRAMES      u32 count, u32 0, then count x 24 bytes:
 *                     u32 filename (string id), u32 function (string id), u32 lineno, u32 0,
 *                     u64 ip
 *     3 TRACEBACKS  u32 count, u32 0, then count x (u32 nframe <= LL_MAX_NFRAME,
 *                   u32 total_nframe, nframe x u32 frame id, most recent call first).
 *     4 SNAPSHOT    72-byte head: u32 at (ll_at_t), u32 traceback_limit, u32 program (string
 *                   id), u32 0, u64 current_bytes, peak_bytes, total_allocations, total_bytes,
 *                   untracked_allocations, untracked_bytes, u64 ntraces; then ntraces x 32
 *                   bytes: u32 traceback id, u32 0, u64 size, u64 usable, u64 count.
 *   STRINGS, FRAMES and TRACEBACKS appear exactly once each; SNAPSHOT at most once per `at`.
 *   Tables are shared by all snapshots in the file (one traceback stored once for every view).
 *   Types >= 0x100 (LL__SEC_EXTRA_MIN) belong to leaklab's other writers (the preload's module
 *   maps, histograms, timelines): the snapshot reader skips them and they may repeat.
 *
 * Readers refuse a path that is not a regular file (a FIFO, a device: LL_ENOTREG) without
 * waiting on it, then check from the header alone, before room is made for the rest: magic
 * (LL_EBADMAGIC; a file that is a strict prefix of the magic is LL_ETRUNC), version
 * (LL_EVERSION), length against the file's (LL_ETRUNC, LL_ECORRUPT); then checksum and
 * trailer (LL_ECHECKSUM), then every section bound, count, index and string while decoding
 * (LL_ECORRUPT), so a damaged file whose CRC was recomputed still cannot make them read out of
 * bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include <leaklab/leaklab.h>

#include "arena.h"

#define LL__SNAPFILE_MAGIC "LLSNAP\r\n"
#define LL__SNAPFILE_VERSION 1u
#define LL__SNAPFILE_HEADER 24u
#define LL__SNAPFILE_SECHDR 16u
#define LL__SNAPFILE_TRAILER 16u
#define LL__SNAPFILE_END "LLND"

#define LL__SEC_STRINGS 1u
#define LL__SEC_FRAMES 2u
#define LL__SEC_TRACEBACKS 3u
#define LL__SEC_SNAPSHOT 4u
#define LL__SEC_EXTRA_MIN 0x100u
#define LL__SEC_REQUIRED 1u /* section flag bit 0 */

#define LL__SNAPFILE_SNAP_HEAD 72u  /* SNAPSHOT's head */
#define LL__SNAPFILE_TRACE_REC 32u  /* one trace in SNAPSHOT */
#define LL__SNAPFILE_FRAME_REC 24u  /* one frame in FRAMES */

/* Zero bytes after a section's payload of n bytes, so the next one starts 8-aligned. */
static inline size_t ll__snapfile_pad8(size_t n) { return (8 - (n & 7)) & 7; }

/* An extra section for ll__snapfile_write: type >= LL__SEC_EXTRA_MIN. */
typedef struct ll__section {
  uint32_t type;
  uint32_t flags; /* LL__SEC_REQUIRED or 0 */
  const void *data;
  size_t len;
} ll__section_t;

/* Write `n` snapshots (distinct `at`, else LL_EINVAL) and `nextra` extra sections to `path`,
 * atomically (path.tmp.PID, fsync, rename). No malloc, no stdio: safe in the preload. */
int ll__snapfile_write(const char *path, const ll_snapshot_t *const *snaps, size_t n,
                       const ll__section_t *extra, size_t nextra);

/* Write a whole file image atomically (path.tmp.PID, fsync, rename); 0 or a negative error. */
int ll__snapfile_write_image(const char *path, const unsigned char *buf, size_t len);

/* Add one extra section (type >= LL__SEC_EXTRA_MIN, not REQUIRED) at the end of a verified file,
 * rewriting it atomically with its length and checksum updated (snapfile_append.c): how a verb
 * records a fact about a capture after the program wrote it (check's budget). 0, LL_EINVAL, or
 * what opening or writing the file gives. */
int ll__snapfile_append(const char *path, uint32_t type, const void *data, size_t len);

/* A verified file image in memory (magic, version, length, CRC and section framing checked). */
typedef struct ll__snapfile ll__snapfile_t;

int ll__snapfile_open(const char *path, ll__snapfile_t **out);
/* Same checks on a caller's buffer, which is copied. */
int ll__snapfile_open_buffer(const void *buf, size_t len, ll__snapfile_t **out);
void ll__snapfile_close(ll__snapfile_t *f);
/* Bit (1 << at) for each SNAPSHOT section. */
unsigned ll__snapfile_views(const ll__snapfile_t *f);
/* The whole verified image (header to trailer), valid until close. */
const unsigned char *ll__snapfile_image(const ll__snapfile_t *f, size_t *len);
/* Decode the snapshot for `at` into its own arena (LL_ENOVIEW when absent, LL_ECORRUPT). */
int ll__snapfile_load(const ll__snapfile_t *f, ll_at_t at, ll_snapshot_t **out);
/* Moments at[0..n) at once: out[i] is at[i]'s, and all share their tracebacks and strings (one
 * arena, freed with the last of them); each is freed with ll_snapshot_free as usual. Nothing
 * in *out on failure. */
int ll__snapfile_load_many(const ll__snapfile_t *f, const ll_at_t *at, size_t n, ll_snapshot_t **out);
/* The index-th section of `type` (0 = first): *data points into the image, valid until close.
 * LL_ENOVIEW when there is no such section. */
int ll__snapfile_section(const ll__snapfile_t *f, uint32_t type, size_t index, const void **data,
                         size_t *len);

/* Convenience for the capture reader: open, verify, copy the first section of `type` into
 * `arena` (16-byte aligned). LL_ENOVIEW when absent. */
int ll__snapfile_read_section(const char *path, uint32_t type, ll__arena_t *arena,
                              const void **data, size_t *len);

#endif
