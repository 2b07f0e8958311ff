/* snapshot_steps.c - the cheatsheet's tracemalloc steps in C with leaklab's snapshot API: start, snapshot, make objects, snapshot again, compare by line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>
#include <leaklab/report.h>

#include "slots_vs_dict.h"

/* Built with slots_vs_dict.c compiled with -include leaklab/hooks.h: the objects' allocations
 * are traced with their file and line. This file is not, so its own array below is not. */

#define MAX_OBJECTS 100000

static void *objects[MAX_OBJECTS];

/* The steps for one design: what making n objects added, line by line, as
 * snapshot2.compare_to(snapshot1, 'lineno') prints it. 0 on success. */
static int steps(enum sv_variant v, size_t n, size_t top)
{
  ll_snapshot_t *before = NULL, *after = NULL;
  ll_stats_t *stats = NULL;
  char line[1024];
  int rc;

  /* 1. snapshot1 = tracemalloc.take_snapshot() */
  if ((rc = ll_take_snapshot(&before)) < 0)
    goto out;
  /* 2. make the objects */
  for (size_t i = 0; i < n; i++)
    objects[i] = sv_new_object(v, (long)i, 3 * (long)i + 1);
  /* 3. snapshot2 = tracemalloc.take_snapshot() */
  if ((rc = ll_take_snapshot(&after)) < 0)
    goto out;
  /* 4. top_stats = snapshot2.compare_to(snapshot1, 'lineno') */
  if ((rc = ll_snapshot_compare(after, before, LL_GROUP_LINENO, 0, &stats)) < 0)
    goto out;

  int64_t bytes = 0, blocks = 0;
  for (size_t i = 0; i < stats->len; i++) {
    bytes += stats->items[i].size_diff;
    blocks += stats->items[i].count_diff;
  }
  printf("[ %s: %zu object%s made between the two snapshots: %+lld B in %+lld block%s ]\n",
         sv_variant_names[v], n, n == 1 ? "" : "s", (long long)bytes, (long long)blocks,
         blocks == 1 ? "" : "s");
  for (size_t i = 0; i < stats->len && i < top; i++) {
    ll_format_stat(line, sizeof line, &stats->items[i], 1);
    printf("%s\n", line);
  }
  rc = 0;
out:
  for (size_t i = 0; i < n; i++)
    if (objects[i])
      sv_free_object(v, objects[i]);
  memset(objects, 0, sizeof objects);
  ll_stats_free(stats);
  ll_snapshot_free(after);
  ll_snapshot_free(before);
  if (rc < 0)
    fprintf(stderr, "snapshot_steps: %s\n", ll_strerror(rc));
  return rc;
}

int main(int argc, char **argv)
{
  size_t n = 1000;
  if (argc > 2 || (argc == 2 && (sscanf(argv[1], "%zu", &n) != 1 || n == 0 || n > MAX_OBJECTS))) {
    fprintf(stderr, "usage: %s [OBJECTS]   (1..%d, default 1000)\n", argv[0], MAX_OBJECTS);
    return 2;
  }
  /* 0. tracemalloc.start() */
  int rc = ll_start(1);
  if (rc < 0) {
    fprintf(stderr, "snapshot_steps: %s\n", ll_strerror(rc));
    return 3;
  }
  for (int v = 0; v < SV_VARIANT_COUNT; v++) {
    if (v > 0)
      printf("\n");
    if (steps((enum sv_variant)v, n, 5) < 0)
      return 3;
  }
  ll_stop();
  return 0;
}
