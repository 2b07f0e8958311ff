/* massif_attr.h - internal: massif's peak tree as "top lines", like leaklab's lineno statistics. */
#ifndef LEAKLAB_MASSIF_ATTR_H
#define LEAKLAB_MASSIF_ATTR_H
/*
 * Contract: CLI-side (malloc). Reads a tree ll__massif_parse_* made (massif_parse.h) and never
 * changes it; the lines it returns point into that tree.
 */
#include <stdint.h>

#include "massif_parse.h"

/* Where valgrind (amd64, arm64) starts mapping the loader and shared libraries. */
#define LL__MASSIF_LIBRARY_BASE 0x4000000u

/* True when a frame is not the program's own code, by leaklab's rule: a library under the
 * system directories (/lib, /usr/lib, ...: libc, the loader, libstdc++, GMP) or valgrind's
 * replacements. Frames with line information name no object: those mapped where valgrind puts
 * shared libraries count as library code. */
int ll__massif_frame_is_system(const ll__massif_node_t *node);

typedef struct ll__massif_line {
  const ll__massif_node_t *frame; /* a FRAME node (the first one seen), NULL for the rest */
  uint64_t bytes;
  uint32_t places; /* distinct tree paths merged into this line */
} ll__massif_line_t;

/* Bytes of a tree attributed to the first frame outside the system allocators on each path,
 * merged by (function, file, line) - or by (function, object) when there is no file - and sorted
 * by bytes descending. Bytes below massif's threshold go to a line with frame NULL. The lines
 * are malloc'd (free them); their frames point into `root`. Returns the number of lines or a
 * negative LL_E* code. */
long ll__massif_top_lines(const ll__massif_node_t *root, ll__massif_line_t **out);

#endif
