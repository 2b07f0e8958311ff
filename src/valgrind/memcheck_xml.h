/* memcheck_xml.h - internal reader of valgrind memcheck's XML output (--xml=yes): its leak records and their totals. */
#ifndef LEAKLAB_MEMCHECK_XML_H
#define LEAKLAB_MEMCHECK_XML_H
/*
 * Contract: CLI-side (malloc). Reads the subset of memcheck's XML protocol (version 4) that
 * leak reports use: every <error>, its <kind>, and for the four leak kinds <leakedbytes>,
 * <leakedblocks> and the <stack>'s frames. A file memcheck did not finish (no closing
 * </valgrindoutput>) is LL_ETRUNC; an <error> not closed, or a leak record without numeric
 * sizes, LL_ECORRUPT; `what` then points to a static phrase saying which (": ..."), or is NULL
 * when the code says it all. Never a crash, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>

/* memcheck's leak kinds, in the order its LEAK SUMMARY prints them. */
enum { LL__MC_DEFINITE, LL__MC_INDIRECT, LL__MC_POSSIBLE, LL__MC_REACHABLE, LL__MC_KINDS };
/* "definitely lost", ... for each kind. */
extern const char *const ll__memcheck_kind_name[LL__MC_KINDS];

/* One loss record, attributed to the first frame outside valgrind's allocator and the system
 * libraries (leaklab's own-code rule), or to the first frame when every frame is one of those. */
typedef struct ll__mc_record {
  int kind; /* LL__MC_* */
  /* The record's own blocks' bytes (memcheck's "direct"); <leakedbytes> also counts the bytes
   * of the blocks they alone point to ("N (D direct, I indirect) bytes"), which memcheck
   * reports again as indirectly lost: kept apart in `indirect`, so nothing counts twice. */
  uint64_t bytes, indirect, blocks;
  char place[256]; /* "file.c:12", "fn (in libfoo.so)", "fn" or "???" */
  char file[128];  /* the frame's file (base name, as valgrind gives it), "" when unknown */
  unsigned line;   /* 0 when unknown */
} ll__mc_record_t;

typedef struct ll__memcheck {
  /* Summed over the records of each kind (direct bytes): memcheck's own LEAK SUMMARY. */
  uint64_t bytes[LL__MC_KINDS], blocks[LL__MC_KINDS];
  uint64_t other_errors; /* errors that are not leaks: invalid reads, ... */
  ll__mc_record_t *records; /* in file order */
  size_t nrecords, cap;
} ll__memcheck_t;

/* Parse `len` bytes (need not be NUL-terminated) into mc (zeroed first); 0 or LL_E*. */
int ll__memcheck_parse_buffer(const char *buf, size_t len, ll__memcheck_t *mc, const char **what);
/* Read and parse a file; 0 or LL_E* (LL_ENOENT, LL_EACCES, LL_EIO, LL_ENOMEM from the system). */
int ll__memcheck_parse_file(const char *path, ll__memcheck_t *mc, const char **what);
/* Records by bytes, largest first (then by kind). */
void ll__memcheck_sort(ll__memcheck_t *mc);
void ll__memcheck_free(ll__memcheck_t *mc);

#endif
