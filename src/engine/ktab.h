/* ktab.h - internal: key tables, dense ids by content for statistics' keys (stats.c) and the snapshot file's tables (snapfile_write.c). */
#ifndef LEAKLAB_KTAB_H
#define LEAKLAB_KTAB_H
/*
 * Contract: strings, frames and sequences of 32-bit words (frame ids in the writer, whole
 * frames as words for traceback keys) get dense ids (0, 1, 2, ...) by content; everything
 * lives in mmap'd memory, never malloc. Interned strings are referenced, not copied: they must
 * outlive the table. Functions returning uint32_t give LL__KTAB_NONE when out of memory. One
 * owner, no locking.
 */
#include <stddef.h>
#include <stdint.h>

#define LL__KTAB_NONE UINT32_MAX

typedef struct ll__ktab ll__ktab_t;

typedef struct ll__kframe {
  uint32_t filename; /* string ids */
  uint32_t function;
  uint32_t lineno;
  uint32_t zero;     /* keep 0: the struct is hashed and compared as bytes */
  uint64_t ip;
} ll__kframe_t;

ll__ktab_t *ll__ktab_new(void);
void ll__ktab_free(ll__ktab_t *t);
uint32_t ll__ktab_str(ll__ktab_t *t, const char *s);
uint32_t ll__ktab_frame(ll__ktab_t *t, const ll__kframe_t *f);
/* A sequence of words plus a tag that is part of its identity (the writer uses total_nframe). */
uint32_t ll__ktab_seq(ll__ktab_t *t, const uint32_t *ids, uint32_t n, uint32_t tag);
size_t ll__ktab_nstr(const ll__ktab_t *t);
const char *ll__ktab_str_at(const ll__ktab_t *t, uint32_t id, size_t *len);
size_t ll__ktab_nframe(const ll__ktab_t *t);
const ll__kframe_t *ll__ktab_frame_at(const ll__ktab_t *t, uint32_t id);
size_t ll__ktab_nseq(const ll__ktab_t *t);
const uint32_t *ll__ktab_seq_at(const ll__ktab_t *t, uint32_t id, uint32_t *n, uint32_t *tag);

#endif
