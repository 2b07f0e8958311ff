/* cmd_report.c - `leaklab report FILE`: one moment of a capture as text, JSON, folded stacks or pprof; its peak and end as a massif.out; or all of it as an HTML page. */
#include "cli.h"
#include "cli_growth.h"

#include <stddef.h>
#include <string.h>

#include "massif_export.h"

/* --format massif: the peak (and the end, when the file holds it) as valgrind massif's file. */
static int emit_massif(const char *file, const ll_capture_t *cap, unsigned mask,
                       const ll__report_args_t *ra) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  ll_snapshot_t *peak = NULL, *end = NULL;
  FILE *f = NULL;
  int status, rc;

  if ((status = ll__load_filtered(file, cap, LL_AT_PEAK, mask, ra, &peak)) != 0) goto cleanup;
  if ((mask & (1u << LL_AT_END)) &&
      (status = ll__load_filtered(file, cap, LL_AT_END, mask, ra, &end)) != 0)
    goto cleanup;
  if ((f = ll__open_output(ra->output)) == NULL) {
    status = LL__EXIT_RUNTIME;
    goto cleanup;
  }
  rc = ll_report_massif(f, peak, end);
  status = ll__close_output(f, name);
  if (rc < 0 && status == LL__EXIT_OK) status = ll__runtime_error(name, rc, NULL);
cleanup:
  ll_snapshot_free(end);
  ll_snapshot_free(peak);
  return status;
}

/* Write one snapshot with a writer that takes it whole (folded stacks). */
static int emit_folded(const ll__report_args_t *ra, const ll_snapshot_t *snap) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  FILE *f = ll__open_output(ra->output);
  if (f == NULL) return LL__EXIT_RUNTIME;
  int rc = ll_report_folded(f, snap, ra->weight);
  int status = ll__close_output(f, name);
  if (rc < 0 && status == LL__EXIT_OK) return ll__runtime_error(name, rc, NULL);
  return status;
}

/* --growth: each site's verdict from its memory over time. */
static int emit_growth(const char *file, const ll_capture_t *cap, const ll__report_args_t *ra) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  ll__series_loaded_t s;
  int status = ll__load_series(file, cap, ra->native, &s);
  if (status < 0)
    return ll__runtime_error(file, LL_ENOVIEW,
                             " (no memory over time per line: record it again with this leaklab)");
  if (status != 0) return status;
  FILE *f = ll__open_output(ra->output);
  if (f == NULL) {
    status = LL__EXIT_RUNTIME;
  } else {
    status = ll__emit_growth(file, &s, ra->group, ra->growth_min, ra->format, f, NULL);
    int closed = ll__close_output(f, name);
    if (status == 0) status = closed;
  }
  ll__series_loaded_free(&s);
  return status;
}

static int run(int argc, char **argv) {
  const char *verb = "report";
  ll__report_args_t ra;
  const char *file = NULL;
  ll_snapshot_t *snap = NULL;
  ll_stats_t *stats = NULL;
  ll_jemalloc_stats_t je;
  ll_capture_t *cap = NULL;
  ll__reach_load_t reach;
  unsigned mask = 0;
  int rc, status, at;

  memset(&reach, 0, sizeof reach);
  if ((status = ll__report_args_init(&ra, argc)) != 0) return status;
  static const char *const missing[] = {"missing the capture FILE to report on"};
  if ((status = ll__report_args_parse(&ra, verb, ll__verb_report.help, argc, argv, &file, 1,
                                      missing)) != 0) {
    if (status < 0) status = LL__EXIT_OK;
    goto cleanup;
  }

  if ((status = ll__open_capture(file, &cap, &mask)) != 0) goto cleanup;
  if (ra.growth) {
    status = emit_growth(file, cap, &ra);
    goto cleanup;
  }
  if (ra.format == LL_FORMAT_MASSIF) {
    status = emit_massif(file, cap, mask, &ra);
    goto cleanup;
  }
  if (ra.format == LL_FORMAT_HTML) {
    status = ll__emit_html(file, cap, mask, &ra);
    goto cleanup;
  }
  int has_je = ll__load_jemalloc(file, cap, &je);
  if (has_je > 1) {
    status = has_je;
    goto cleanup;
  }
  at = ra.at >= 0 ? ra.at : ll__default_at(mask);
  if (ra.format == LL_FORMAT_PPROF) {
    status = ll__emit_pprof(file, cap, (ll_at_t)at, mask, &ra);
    goto cleanup;
  }
  /* The exit scan belongs to the moments of the end: kinds and holders of their lines. */
  if ((at == LL_AT_END || at == LL_AT_LEAKS || at == LL_AT_LOST || at == LL_AT_REACHABLE) &&
      (ra.retainers || ra.format == LL_FORMAT_JSON)) {
    if ((status = ll__load_reach(file, ra.native, &reach)) != 0) goto cleanup;
    if (reach.found) ra.reach = &reach.info;
    else if (ra.retainers)
      fprintf(stderr, "leaklab: %s holds no exit scan (recorded by an older leaklab, or the program "
                      "crashed inside the tracker): no retainers to show\n", file);
  } else if (ra.retainers) {
    status = ll__usage_error(verb, "--retainers is for the moments at exit: --at end, leaks, lost "
                             "or reachable");
    goto cleanup;
  }
  if ((status = ll__load_filtered(file, cap, (ll_at_t)at, mask, &ra, &snap)) != 0) goto cleanup;
  if (ra.format == LL_FORMAT_FOLDED) {
    status = emit_folded(&ra, snap);
    goto cleanup;
  }
  rc = ll_snapshot_statistics(snap, ra.group, ra.cumulative, &stats);
  if (rc < 0) {
    status = ll__runtime_error(file, rc, NULL);
    goto cleanup;
  }
  status = ll__emit_report(&ra, snap, stats, has_je == 1 ? &je : NULL);

cleanup:
  if (stats != NULL) ll_stats_free(stats);
  if (snap != NULL) ll_snapshot_free(snap);
  ll_capture_close(cap);
  ll__reach_load_free(&reach);
  ll__report_args_free(&ra);
  return status;
}

const ll__verb_t ll__verb_report = {
    "report",
    "FILE [OPTIONS]",
    "one moment of a capture: tracemalloc's lines, JSON, folded stacks or pprof; a massif.out; "
    "an HTML page",
    "usage: leaklab report FILE [OPTIONS]\n"
    "\n"
    "Statistics of one moment of a capture or snapshot file, largest first, one line per\n"
    "key in tracemalloc's format: 'file.c:12: size=124 B, count=3, average=41 B'.\n"
    "A capture recorded on jemalloc ('leaklab run --allocator jemalloc') adds one line under the\n"
    "heading, jemalloc's own figures when the program ended (not at the peak: they cannot be\n"
    "read there exactly):\n"
    "  'jemalloc at end: allocated=..., active=..., resident=..., mapped=...'\n"
    "(json: a \"jemalloc\" object).\n"
    "\n"
    "Exports other tools read (each holds every traceback of the moment, whole):\n"
    "  --format folded  collapsed stacks for flamegraph.pl, inferno or speedscope: one traceback\n"
    "                   a line, root first, frames 'function (file:line)' separated by ';' (inlined\n"
    "                   functions are frames), then the requested bytes (--weight count: blocks)\n"
    "  --format pprof   a gzip'd profile.proto for 'go tool pprof' (and what reads pprof), shaped\n"
    "                   as a Go heap profile: alloc_objects, alloc_space (every allocation of\n"
    "                   the run, when the capture holds them) and inuse_objects, inuse_space\n"
    "                   (the moment --at chooses; not allocations), one sample per traceback,\n"
    "                   inlined functions as lines of one location, the capture's modules\n"
    "                   with their build ids; 'pprof -diff_base OLD NEW' compares two\n"
    "  --format massif  the peak (and the end) as valgrind massif's massif.out, which ms_print\n"
    "                   reads; sizes are requested bytes (massif's useful heap)\n"
    "\n"
    "A page to look at:\n"
    "  --format html    one offline page of everything the file holds (it fetches nothing; open\n"
    "                   it in any browser): memory over time with the peak marked, a flamegraph\n"
    "                   of every moment (zoom, search, inverted, library frames on request),\n"
    "                   every line in tracemalloc's units, the summary and the block sizes\n"
    "\n"
    "options:\n"
    "  --at MOMENT          current, peak, end, leaks, temporary, allocations, lost or\n"
    "                       reachable (default: peak if the file holds it, else end, else\n"
    "                       current);\n"
    "                       allocations: every allocation of the run, freed or not, its count\n"
    "                       and requested bytes (calloc and aligned ones too; as heaptrack\n"
    "                       counts, a realloc counts as one allocation of its new size);\n"
    "                       lost: live at exit and unreachable (memcheck's definitely +\n"
    "                       indirectly lost, what LeakSanitizer reports); reachable: still\n"
    "                       reachable at exit (possibly lost blocks are in neither)\n"
    "  --retainers          with --at end, leaks, lost or reachable: under each line its\n"
    "                       leak kinds and the chain that keeps it alive, up to its root:\n"
    "                       'f.c:314 <- 12500 blocks held by f.c:194 <- held by f.c:105\n"
    "                       <- held by global g_memo (f.c)' (json always has them)\n"
    "  --group-by KEY       lineno (default), filename or traceback\n"
    "  --cumulative         count each block at every frame of its traceback\n"
    "                       (not with --group-by traceback)\n"
    "  --top N              show the N largest (default 10 for text, all for json; 0: all)\n"
    "  --format FMT         text (default), json, folded, pprof, massif or html (the exports:\n"
    "                       not with --group-by, --top, --cumulative; massif and html: nor --at)\n"
    "  --weight W           folded: bytes (default) or count, what a stack's number counts\n"
    "  --usable             text: end each line with ', usable=<size>', the bytes the\n"
    "                       allocator really handed out (jemalloc's size classes: 17 B\n"
    "                       asked, 32 B given); json always has \"usable\"\n"
    "  --growth             instead of a moment, judge each site from its memory over the\n"
    "                       run (see 'growth verdicts' below)\n"
    "  --growth-min SIZE    judge sites whose highest level reached SIZE (default: 1% of\n"
    "                       the peak)\n"
    "  -o, --output OUT     write the report to OUT instead of stdout\n"
    "  --include GLOB[:LINE]  keep only blocks made in files matching GLOB (at LINE);\n"
    "                       repeatable\n"
    "  --exclude GLOB[:LINE]  drop blocks made in files matching GLOB (at LINE); repeatable\n"
    "  --all-frames         filters match any frame of the traceback, not only the first\n"
    "  --native             show library frames too (libc, GMP ...) under the program's own\n"
    "                       lines; default: as the capture was recorded ('run --native');\n"
    "                       html: the page's 'library frames' box starts ticked\n"
    "  --no-native          only frames of the program's own code\n"
    "  -h, --help           show this help\n"
    "\n"
    "growth verdicts (--growth): a capture keeps each big traceback's live bytes at 256-512\n"
    "points of the run, taken every so many allocations (the allocation clock), the peak\n"
    "moment always one of them. A site is judged by its high H, its end E and the highest\n"
    "level of each third of the run (by allocations made):\n"
    "  released  E <= H/10: it gave its memory back, ending near zero\n"
    "  grows     not released, the top of the last third exceeds the top of the middle\n"
    "            third by more than H/20, and it rose at two points or more after the first\n"
    "            third (one jump is a step, not a trend): still rising at the end, no plateau\n"
    "  bounded   otherwise: it levelled off (a plateau, or a saw-tooth whose tops stay level)\n"
    "One line per site: 'file.c:12: grows, size=..., +... per allocation (+.../s), rising until\n"
    "N% of the run', 'file.c:40: bounded, size=..., level=..., settled at N% of the run',\n"
    "'file.c:7: released, peak=..., end=...'; json: per site \"growth\" and the figures.\n"
    "\n"
    "The exit scan ('leaklab run' does it when the program ends, before the capture is\n"
    "written) reads as memcheck does: roots are the writable segments of every loaded module\n"
    "(globals), the stack of the thread that ended the program (from where it entered\n"
    "leaklab's ending path up) and its general registers there (after a fatal signal, the\n"
    "interrupted program's), its thread-local storage, and the stacks (with their TLS) of the\n"
    "other threads, from their stack pointer when they are blocked in a system call, else\n"
    "whole; leaklab's own memory, frames and registers are never roots. Every aligned 8-byte\n"
    "word pointing into a live block counts. A pointer to a block's first byte from a root or\n"
    "a still-reachable block makes it still reachable; a block reached only through pointers\n"
    "into its inside (or only from possibly lost blocks) is possibly lost; of the rest, a\n"
    "block reached from another lost block is indirectly lost, and the others (the first of a\n"
    "lost cycle, by address, as memcheck) are definitely lost. A block's holder is what\n"
    "reached it first, breadth first from the roots taken by kind (globals, then thread-local\n"
    "storage, then stacks, then registers, each followed to the end before the next, so a\n"
    "block globals reach is held through globals): on a shortest chain from its roots (of\n"
    "start pointers through still reachable blocks, for a still reachable one), and of the\n"
    "holders at that depth the block at the lowest address, or the root word read first\n"
    "(ranges in load order, each from its lowest address); the same on every run of the same\n"
    "heap. A holder is a line of blocks, or a root named at report time - a global (its\n"
    "symbol and source file), a thread's stack (with the function for the exiting thread),\n"
    "thread-local storage, a register. Gaps: the other threads' registers are not read (that\n"
    "would take a signal the program could see), and uninitialised words count as any other\n"
    "(memcheck skips them); a word in a global pointing 8 bytes before the end of a block's\n"
    "usable size is glibc's malloc state, not counted.\n"
    "json of end, leaks, lost and reachable: \"leak_kinds\" {definitely_lost, indirectly_lost,\n"
    "possibly_lost, still_reachable: {bytes, blocks}} for the whole program, and per site its\n"
    "own \"leak_kinds\" and \"held_by\" [{file, line, function | root, kind, blocks, bytes}],\n"
    "largest first. --retainers also says, under the heading, what the scan cost: 'exit scan:\n"
    "614 MiB of live blocks and 139 KiB of roots read in 0.812 s (0.801 s of CPU), 1 thread'.\n"
    "\n"
    "\n"
    "exit status: 0 done, 2 usage error, 3 unreadable or corrupt file.\n",
    run,
};
