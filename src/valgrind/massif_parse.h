/* massif_parse.h - internal reader of valgrind massif's output files (massif.out.<pid>). */
#ifndef LEAKLAB_MASSIF_PARSE_H
#define LEAKLAB_MASSIF_PARSE_H
/*
 * Contract: CLI-side code (it allocates with malloc). The whole file is checked as ms_print
 * reads it - header (desc:, cmd:, time_unit:), snapshots numbered 0, 1, ... with their fields in
 * massif's order, heap trees whose declared children counts, indentation and sizes agree - and
 * anything else is refused with a negative LL_E* code (LL_ETRUNC for a file that ends early,
 * LL_ECORRUPT for a wrong line, LL_ENOENT/LL_EACCES/LL_EIO/LL_ENOMEM from the system) and one
 * line of text naming the line number and what was wrong. Never a crash, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest heap tree accepted: massif's --depth is at most 200; anything far beyond is garbage. */
#define LL__MASSIF_MAX_DEPTH 1000

typedef enum ll__massif_node_kind {
  LL__MASSIF_NODE_ROOT = 0,  /* depth 0: "(heap allocation functions) malloc/new/new[], ..." */
  LL__MASSIF_NODE_FRAME = 1, /* "0xADDR: fn (file:line)", "0xADDR: fn (in obj)", "0xADDR: ???" */
  LL__MASSIF_NODE_BELOW = 2  /* "in N places, all below massif's threshold (1.00%)" */
} ll__massif_node_kind_t;

typedef struct ll__massif_node {
  ll__massif_node_kind_t kind;
  uint64_t bytes;
  uint32_t nchildren;
  struct ll__massif_node *children; /* nchildren nodes, in file order (largest first) */
  const char *label;    /* the text after the size, as written */
  uint64_t addr;        /* FRAME: the code address */
  const char *function; /* FRAME: function name, "???" when massif did not know it */
  const char *file;     /* FRAME: source file, NULL when not known */
  uint32_t line;        /* FRAME: source line, 0 when not known */
  const char *object;   /* FRAME: "in OBJECT" when massif only knew the object, else NULL */
  uint64_t places;      /* BELOW: how many places were merged */
} ll__massif_node_t;

typedef enum ll__massif_tree {
  LL__MASSIF_TREE_EMPTY = 0,
  LL__MASSIF_TREE_DETAILED = 1,
  LL__MASSIF_TREE_PEAK = 2
} ll__massif_tree_t;

typedef struct ll__massif_snapshot {
  uint64_t number; /* snapshot=N */
  uint64_t time;
  uint64_t heap_b;       /* mem_heap_B: useful heap, requested bytes */
  uint64_t heap_extra_b; /* mem_heap_extra_B: admin bytes and alignment slop */
  uint64_t stacks_b;     /* mem_stacks_B */
  ll__massif_tree_t tree;
  ll__massif_node_t *root; /* NULL for an empty tree */
  unsigned long lineno;    /* line of "snapshot=N" in the file */
} ll__massif_snapshot_t;

typedef struct ll__massif {
  char *desc;      /* the desc: lines, joined by '\n', "" when none */
  char *cmd;
  char *time_unit; /* "i", "ms" or "B" */
  size_t nsnapshots;
  ll__massif_snapshot_t *snapshots;
  long peak; /* index of the heap_tree=peak snapshot, -1 when there is none */
  void *ll__pool; /* private: every string and node lives here */
} ll__massif_t;

/* What went wrong, for one line of text: "<name>:<line>: <what>". line is 0 when the problem is
 * the file as a whole (cannot open it, no snapshots). */
typedef struct ll__massif_error {
  int code;
  unsigned long line;
  char what[200];
} ll__massif_error_t;

/* Parse `len` bytes (need not be NUL-terminated). err may be NULL. */
int ll__massif_parse_buffer(const char *buf, size_t len, ll__massif_t **out,
                            ll__massif_error_t *err);
/* Read and parse a file. */
int ll__massif_parse_file(const char *path, ll__massif_t **out, ll__massif_error_t *err);
void ll__massif_free(ll__massif_t *m);

/* The one-line message for err, with `name` (the file) in front: "m.out:12: bad ..." */
int ll__massif_format_error(char *buf, size_t len, const char *name,
                            const ll__massif_error_t *err);

/* The snapshot the peak is read from: the heap_tree=peak one, else (a file from an old massif or
 * none at all) the largest mem_heap_B, the earliest on a tie. NULL when there are no snapshots. */
const ll__massif_snapshot_t *ll__massif_peak(const ll__massif_t *m);

#endif
