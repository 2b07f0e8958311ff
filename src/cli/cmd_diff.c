/* cmd_diff.c - `leaklab diff OLD NEW`: tracemalloc's compare_to lines, what changed from OLD to NEW. */
#include "cli.h"

#include <stdio.h>

static int run(int argc, char **argv) {
  const char *verb = "diff";
  ll__report_args_t ra;
  const char *files[2] = {NULL, NULL};
  ll_snapshot_t *old = NULL, *new = NULL;
  ll_stats_t *stats = NULL;
  ll_capture_t *caps[2] = {NULL, NULL};
  unsigned old_mask = 0, new_mask = 0;
  int rc, status, at;

  if ((status = ll__report_args_init(&ra, argc)) != 0) return status;
  static const char *const missing[] = {"missing the OLD and NEW files to compare",
                                         "missing the NEW file to compare with OLD"};
  if ((status = ll__report_args_parse(&ra, verb, ll__verb_diff.help, argc, argv, files, 2,
                                      missing)) != 0) {
    if (status < 0) status = LL__EXIT_OK;
    goto cleanup;
  }

  if ((status = ll__open_capture(files[0], &caps[0], &old_mask)) != 0) goto cleanup;
  if ((status = ll__open_capture(files[1], &caps[1], &new_mask)) != 0) goto cleanup;
  at = ra.at;
  if (at < 0 && (at = ll__default_at(old_mask & new_mask)) < 0) {
    char hint[64 + 4096];
    snprintf(hint, sizeof hint, " (none in common with '%s'; pick one with --at)", files[0]);
    status = ll__runtime_error(files[1], LL_ENOVIEW, hint);
    goto cleanup;
  }
  if ((status = ll__load_filtered(files[0], caps[0], (ll_at_t)at, old_mask, &ra, &old)) != 0)
    goto cleanup;
  if ((status = ll__load_filtered(files[1], caps[1], (ll_at_t)at, new_mask, &ra, &new)) != 0)
    goto cleanup;
  rc = ll_snapshot_compare(new, old, ra.group, ra.cumulative, &stats);
  if (rc < 0) {
    status = ll__runtime_error(files[1], rc, NULL);
    goto cleanup;
  }
  status = ll__emit_report(&ra, new, stats, NULL);

cleanup:
  if (stats != NULL) ll_stats_free(stats);
  if (new != NULL) ll_snapshot_free(new);
  if (old != NULL) ll_snapshot_free(old);
  ll_capture_close(caps[0]);
  ll_capture_close(caps[1]);
  ll__report_args_free(&ra);
  return status;
}

const ll__verb_t ll__verb_diff = {
    "diff",
    "OLD NEW [OPTIONS]",
    "what changed from OLD to NEW, as tracemalloc's compare_to lines",
    "usage: leaklab diff OLD NEW [OPTIONS]\n"
    "\n"
    "Compare one moment of two capture or snapshot files, one line per key in tracemalloc's\n"
    "compare_to format, biggest change first:\n"
    "  'file.c:12: size=124 B (+24 B), count=3 (+1), average=41 B'\n"
    "A key gone from NEW shows 'size=0 B (-124 B), count=0 (-3)'. The heading's figures\n"
    "are NEW's.\n"
    "\n"
    "options:\n"
    "  --at MOMENT          current, peak, end, leaks, temporary or allocations (default:\n"
    "                       peak if both files hold it, else end, else current);\n"
    "                       allocations: every allocation of the run, freed or not (as\n"
    "                       heaptrack counts, a realloc counts as one allocation of its new size)\n"
    "  --group-by KEY       lineno (default), filename or traceback\n"
    "  --cumulative         count each block at every frame of its traceback\n"
    "                       (not with --group-by traceback)\n"
    "  --top N              show the N largest changes (default 10 for text, all for json;\n"
    "                       0: all)\n"
    "  --format FMT         text (default) or json\n"
    "  --usable             text: end each line with ', usable=<size>', NEW's usable bytes\n"
    "                       (the allocator's size classes)\n"
    "  -o, --output OUT     write the report to OUT instead of stdout\n"
    "  --include GLOB[:LINE]  keep only blocks made in files matching GLOB (at LINE), in both\n"
    "  --exclude GLOB[:LINE]  drop blocks made in files matching GLOB (at LINE), in both\n"
    "  --all-frames         filters match any frame of the traceback, not only the first\n"
    "  --native             show library frames too (libc, GMP ...) under the program's own\n"
    "                       lines; default: as the capture was recorded ('run --native')\n"
    "  --no-native          only frames of the program's own code\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 done, 2 usage error, 3 unreadable or corrupt file.\n",
    run,
};
