/* snapshot_maker.c - writes snapshot files with known contents through the public API, for the CLI's e2e tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

/*
 * usage: snapshot_maker OUT VARIANT
 *   base      3 names (41+41+42 B) at app.c:12, a 10240 B table at app.c:20 freed after the
 *             peak, then 2 x 50 B at util.c:7. Peak 10364 B, current 224 B. Views: current, peak.
 *   grown     base, then one more name (100 B) at app.c:12, the util.c:7 blocks freed and
 *             1000 B at new.c:3. Current 1224 B.
 *   Every block is called from main at a line fixed per callee: app.c:40 names, 41 the table,
 *   42 util, 43 new, 44 many, 45 weird.
 *   many      25 lines (line L holds L * 8 bytes), views current and peak.
 *   weird     one block whose file name holds a quote, a backslash, a tab, a control character
 *             and bytes that are not UTF-8.
 *   current   base's allocations, but only the current view in the file.
 */

#define MAX_BLOCKS 64

static void *blocks[MAX_BLOCKS];
static int nblock;

/* Allocate for real and record the block as made at `file:line` in `func`, called from main at
 * app.c:`caller`. */
static void *alloc_at(size_t size, const char *file, unsigned line, const char *func,
                      unsigned caller) {
  void *p = malloc(size);
  if (p == NULL || nblock == MAX_BLOCKS) {
    fprintf(stderr, "snapshot_maker: out of memory\n");
    exit(1);
  }
  ll_site_t sites[2] = {{file, func, line}, {"app.c", "main", caller}};
  ll_track_alloc(p, size, size, sites, 2);
  blocks[nblock++] = p;
  return p;
}

static void free_block(void *p) {
  ll_track_free(p);
  free(p);
  for (int i = 0; i < nblock; i++)
    if (blocks[i] == p) blocks[i] = NULL;
}

static void *util_blocks[2];

static void make_base(void) {
  alloc_at(41, "app.c", 12, "make_names", 40);
  alloc_at(41, "app.c", 12, "make_names", 40);
  alloc_at(42, "app.c", 12, "make_names", 40);
  void *table = alloc_at(10240, "app.c", 20, "load_table", 41);
  free_block(table);
  util_blocks[0] = alloc_at(50, "util.c", 7, "helper", 42);
  util_blocks[1] = alloc_at(50, "util.c", 7, "helper", 42);
}

static void make_grown(void) {
  make_base();
  alloc_at(100, "app.c", 12, "make_names", 40);
  free_block(util_blocks[0]);
  free_block(util_blocks[1]);
  alloc_at(1000, "new.c", 3, "fresh", 43);
}

static void make_many(void) {
  for (unsigned line = 1; line <= 25; line++) alloc_at(line * 8, "many.c", line, "fill", 44);
}

static void make_weird(void) {
  alloc_at(77, "we\"ird\\dir/na\tme\x01\xff.c", 9, "f\n", 45);
}

int main(int argc, char **argv) {
  ll_snapshot_t *cur = NULL, *peak = NULL;
  const ll_snapshot_t *snaps[2];
  size_t nsnap = 0;
  int rc, status = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: snapshot_maker OUT base|grown|many|weird|current\n");
    return 2;
  }
  const char *variant = argv[2];
  if ((rc = ll_start(4)) < 0) goto fail;
  char program[64];
  snprintf(program, sizeof program, "snapshot_maker %s", variant);
  ll_set_program(program);

  if (strcmp(variant, "base") == 0 || strcmp(variant, "current") == 0) {
    make_base();
  } else if (strcmp(variant, "grown") == 0) {
    make_grown();
  } else if (strcmp(variant, "many") == 0) {
    make_many();
  } else if (strcmp(variant, "weird") == 0) {
    make_weird();
  } else {
    fprintf(stderr, "snapshot_maker: unknown variant '%s'\n", variant);
    return 2;
  }

  if ((rc = ll_take_snapshot(&cur)) < 0) goto fail;
  snaps[nsnap++] = cur;
  if (strcmp(variant, "current") != 0) {
    if ((rc = ll_take_peak_snapshot(&peak)) < 0) goto fail;
    snaps[nsnap++] = peak;
  }
  if ((rc = ll_snapshot_dump(snaps, nsnap, argv[1])) < 0) goto fail;
  status = 0;
  goto cleanup;

fail:
  fprintf(stderr, "snapshot_maker: %s\n", ll_strerror(rc));
cleanup:
  if (peak != NULL) ll_snapshot_free(peak);
  if (cur != NULL) ll_snapshot_free(cur);
  for (int i = 0; i < nblock; i++)
    if (blocks[i] != NULL) free_block(blocks[i]);
  ll_stop();
  return status;
}
