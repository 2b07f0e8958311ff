/* capture_write.h - the capture's one writer: each extra section's bytes, laid out from its decoded form. */
#ifndef LEAKLAB_CAPTURE_WRITE_H
#define LEAKLAB_CAPTURE_WRITE_H
/*
 * Contract: the encoders write a section exactly as capture_format.h lays it out (REACH:
 * capture_reach.h's puts), into the caller's buffer, whose size the matching _size function or
 * _LEN constant gives; padding bytes are written as zeros. They allocate nothing, take no lock
 * and call no libc function but memcpy, memset and strlen: the preload runs them inside its
 * malloc, from a fatal signal's handler, and at an RLIMIT_AS limit (into its own static or
 * mmap'd buffers). The decoders (capture_format.c) read back what they write: ll_capture_open
 * gives every field as it went in (a program's length is its strlen; a path of 65536 bytes or
 * more, or a build id of 65536 or more, is the caller's to refuse: the lengths are u16).
 * Used by the preload (every section but BUDGET) and by `leaklab check` (BUDGET).
 */
#include <stddef.h>
#include <stdint.h>

#include "capture_format.h"

/* 0x100 MODULES: the head (count modules follow), then each module in turn; every put returns
 * the position after what it wrote. A module takes ll_cap_module_size(its path's strlen, its
 * build id's length) bytes; the head 8. */
size_t ll_cap_module_size(size_t path_len, size_t build_id_len);
unsigned char *ll_cap_modules_put_head(unsigned char *p, uint32_t count);
unsigned char *ll_cap_modules_put(unsigned char *p, const ll_cap_module_t *m);

/* 0x101 TIMELINE: ll_cap_timeline_size(t->npoint) bytes. */
size_t ll_cap_timeline_size(size_t npoint);
void ll_cap_encode_timeline(unsigned char *buf, const ll_cap_timeline_t *t);

/* 0x102 HISTOGRAM: LL_CAP_HISTOGRAM_LEN bytes. */
#define LL_CAP_HISTOGRAM_LEN (8 + 16 * LL_CAP_HIST_BUCKETS)
void ll_cap_encode_histogram(unsigned char *buf, const ll_cap_histogram_t *h);

/* 0x103 PROCESS: the facts and p->nstage stages (p->stages, oldest first);
 * ll_cap_process_size(p) bytes. */
size_t ll_cap_process_size(const ll_cap_process_t *p);
void ll_cap_encode_process(unsigned char *buf, const ll_cap_process_t *p);

/* 0x104 JEMALLOC: LL_CAP_JEMALLOC_LEN bytes. */
void ll_cap_encode_jemalloc(unsigned char *buf, const ll_cap_jemalloc_t *j);

/* 0x105 LINES: ll_cap_lines_size(l) bytes; t0_ns is subtracted from every point's time
 * (saturating at 0). */
size_t ll_cap_lines_size(const ll_cap_lines_t *l);
void ll_cap_encode_lines(unsigned char *buf, const ll_cap_lines_t *l, uint64_t t0_ns);

/* 0x107 BUDGET: LL_CAP_BUDGET_LEN bytes. */
void ll_cap_encode_budget(unsigned char *buf, const ll_cap_budget_t *b);

#endif
