/* cmd_massif.c - `leaklab massif`: valgrind massif's peak and top lines beside leaklab's, same program. */
#include "cli.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "massif_export.h"
#include "massif_attr.h"
#include "massif_parse.h"
#include "scenario.h"
#include "symbolize.h"
#include "cli_valgrind.h"
#include "valgrind_run.h"

static const char *const verb = "massif";

/* What massif says: its peak and the snapshot after the last allocation. */
typedef struct massif_view {
  const ll__massif_snapshot_t *peak;
  const ll__massif_snapshot_t *last;
  ll__massif_line_t *lines;
  long nlines;
} massif_view_t;

/* What leaklab says about the same program. */
typedef struct leaklab_view {
  ll_snapshot_t *peak;
  ll_snapshot_t *end; /* NULL when the capture has no end view */
  ll_stats_t *stats;  /* lineno statistics at the peak */
} leaklab_view_t;

/* snprintf that says whether the text fit: paths come from the user and may be long. */
__attribute__((format(printf, 3, 4))) static int fits(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < len;
}

static void size_text(char *buf, size_t len, uint64_t bytes) {
  ll_format_size(buf, len, (double)bytes, 0);
}

/* "file.c:12" for a massif frame, as tracemalloc names a line; "fn (in obj)" or "???" without. */
static void massif_place(char *buf, size_t len, const ll__massif_node_t *f) {
  if (f == NULL)
    snprintf(buf, len, "(below massif's threshold)");
  else if (f->file != NULL)
    snprintf(buf, len, "%s:%" PRIu32, f->file, f->line);
  else if (f->object != NULL)
    snprintf(buf, len, "%s (in %s)", f->function, ll__base_name(f->object));
  else
    snprintf(buf, len, "%s", f->function);
}

/* massif marks a peak when useful + extra heap (+ stacks) beats the last peak's total, and
 * otherwise only samples: so when leaklab's useful peak lies above massif's peak but within
 * its total, the useful heap rose inside valgrind's per-block rounding (8 B asked, 16 B given)
 * where massif's total did not, and no snapshot of massif's caught that moment. */
static void print_peak_note(FILE *out, const ll__massif_snapshot_t *mp, uint64_t leaklab_peak) {
  uint64_t total = mp->heap_b + mp->heap_extra_b + mp->stacks_b;
  if (leaklab_peak <= mp->heap_b || leaklab_peak > total) return;
  fprintf(out, "  note: massif marks as its peak the first moment its total is highest: useful heap\n");
  fprintf(out, "  plus valgrind's allocator rounding (%" PRIu64 " + %" PRIu64 " = %" PRIu64
          " B here); between peaks it only samples.\n",
          mp->heap_b, mp->heap_extra_b + mp->stacks_b, total);
  fprintf(out, "  leaklab's %" PRIu64 " B is the highest useful heap: at another moment the program held %" PRIu64
          " B more\n", leaklab_peak, leaklab_peak - mp->heap_b);
  fprintf(out, "  in blocks valgrind rounds to the same 16-byte sizes (8 B asked, 16 B given either way), so\n");
  fprintf(out, "  massif's total did not rise and no snapshot caught that moment. Each figure is right\n");
  fprintf(out, "  for what its tool counts ('leaklab explain slots_vs_dict', \"Why massif's peak ...\").\n");
}

/* One row comparing a figure: massif's, leaklab's when it has one (`have`), and whether they
 * agree; a difference is explained by `why`, or given signed when why is NULL. */
static void print_row(FILE *out, const char *label, uint64_t massif_b, int have, uint64_t leaklab_b,
                      const char *why) {
  char a[32], b[32];
  size_text(a, sizeof a, massif_b);
  fprintf(out, "  %-28s %-14s", label, a);
  if (have) {
    size_text(b, sizeof b, leaklab_b);
    fprintf(out, " %-14s", b);
    if (leaklab_b == massif_b)
      fprintf(out, " equal: %" PRIu64 " B", massif_b);
    else if (why != NULL)
      fprintf(out, " differ: %" PRIu64 " B vs %" PRIu64 " B (%s)", massif_b, leaklab_b, why);
    else
      fprintf(out, " differ: %" PRIu64 " B vs %" PRIu64 " B (%+" PRId64 " B)", massif_b,
              leaklab_b, (int64_t)(leaklab_b - massif_b));
  }
  fputc('\n', out);
}

static void print_figures(FILE *out, const massif_view_t *mv, const leaklab_view_t *lv,
                          double massif_s, double leaklab_s) {
  char a[32], b[32];
  print_row(out, "peak (requested bytes)", mv->peak->heap_b, lv->peak != NULL,
            lv->peak != NULL ? lv->peak->peak_bytes : 0, NULL);
  if (lv->peak != NULL) print_peak_note(out, mv->peak, lv->peak->peak_bytes);

  /* massif snapshots at intervals and takes none at exit, and valgrind frees libc's own buffers
   * (stdio) after the program ends: a difference here is no error of either tool. */
  print_row(out, "at exit (massif: last snap.)", mv->last->heap_b, lv->end != NULL,
            lv->end != NULL ? lv->end->current_bytes : 0,
            "massif's last snapshot is a sample, and valgrind frees libc's own buffers at exit");

  /* Slack is the allocator's: valgrind's replacement malloc under massif, glibc's (or jemalloc's)
   * under leaklab, so it differs and says so. */
  size_text(a, sizeof a, mv->peak->heap_extra_b);
  fprintf(out, "  %-28s %-14s", "allocator slack at the peak", a);
  if (lv->peak != NULL) {
    uint64_t slack = 0;
    for (size_t i = 0; i < lv->peak->ntraces; i++)
      if (lv->peak->traces[i].usable > lv->peak->traces[i].size)
        slack += lv->peak->traces[i].usable - lv->peak->traces[i].size;
    size_text(b, sizeof b, slack);
    fprintf(out, " %-14s (valgrind's allocator vs the real one: not comparable)", b);
  }
  fputc('\n', out);
  if (massif_s > 0) {
    snprintf(a, sizeof a, "%.1f s", massif_s);
    fprintf(out, "  %-28s %-14s", "wall time", a);
    if (lv->peak != NULL) fprintf(out, " %.1f s", leaklab_s);
    fputc('\n', out);
  }
}

static void print_massif_lines(FILE *out, const massif_view_t *mv, const leaklab_view_t *lv,
                               size_t top, const ll__massif_t *m) {
  char place[512], sz[32], lsz[32];
  size_t shown = mv->nlines < 0 ? 0 : (size_t)mv->nlines;
  if (top > 0 && shown > top) shown = top;
  fprintf(out, "[ Top %zu lines at massif's peak (snapshot %" PRIu64 " of %zu) ]\n", shown,
          mv->peak->number, m->nsnapshots);
  if (mv->peak->root == NULL) {
    fputs("  massif kept no heap tree for this snapshot\n", out);
    return;
  }
  for (size_t i = 0; i < shown; i++) {
    const ll__massif_line_t *l = &mv->lines[i];
    massif_place(place, sizeof place, l->frame);
    size_text(sz, sizeof sz, l->bytes);
    fprintf(out, "%s: size=%s", place, sz);
    uint64_t lsize, lcount;
    if (lv->stats != NULL) {
      if (l->frame != NULL &&
          ll__valgrind_leaklab_at(lv->stats, l->frame->file, l->frame->line, &lsize, &lcount)) {
        size_text(lsz, sizeof lsz, lsize);
        fprintf(out, "   | leaklab: size=%s, count=%" PRIu64 "%s", lsz, lcount,
                lsize == l->bytes ? " (equal)" : "");
      } else {
        fputs("   | leaklab: -", out);
      }
    }
    fputc('\n', out);
  }
  if ((size_t)mv->nlines > shown) fprintf(out, "...and %zu more\n", (size_t)mv->nlines - shown);
}

static void print_leaklab_lines(FILE *out, const leaklab_view_t *lv, size_t top) {
  char line[1024];
  size_t shown = lv->stats->len;
  if (top > 0 && shown > top) shown = top;
  fprintf(out, "[ Top %zu lines at leaklab's peak ]\n", shown);
  for (size_t i = 0; i < shown; i++) {
    ll_format_stat(line, sizeof line, &lv->stats->items[i], 0);
    fprintf(out, "%s\n", line);
  }
  if (lv->stats->len > shown) fprintf(out, "...and %zu more\n", lv->stats->len - shown);
}

/* Parse massif's file and attribute its peak; exit status on failure (one line printed). */
static int read_massif(const char *path, ll__massif_t **m, massif_view_t *mv) {
  ll__massif_error_t err;
  char where[PATH_MAX + 32];
  int rc = ll__massif_parse_file(path, m, &err);
  if (rc != 0) {
    char extra[sizeof err.what + 4];
    if (err.line > 0) fits(where, sizeof where, "%s:%lu", path, err.line);
    else fits(where, sizeof where, "%s", path);
    /* The generic message names the kind of damage; the parser's says exactly what. */
    snprintf(extra, sizeof extra, ": %s", err.what);
    return ll__runtime_error(where, rc, strcmp(err.what, ll_strerror(rc)) != 0 ? extra : NULL);
  }
  mv->peak = ll__massif_peak(*m);
  mv->last = &(*m)->snapshots[(*m)->nsnapshots - 1];
  mv->lines = NULL;
  mv->nlines = 0;
  if (mv->peak->root != NULL) {
    mv->nlines = ll__massif_top_lines(mv->peak->root, &mv->lines);
    if (mv->nlines < 0) return ll__runtime_error(path, (int)mv->nlines, NULL);
  }
  return 0;
}

/* leaklab's peak and end from a capture, symbolised and attributed as `leaklab report` does,
 * with lineno statistics at the peak. */
static int read_capture(const char *path, leaklab_view_t *lv) {
  ll_capture_t *cap = NULL;
  unsigned mask = 0;
  int status, rc;
  if ((status = ll__open_capture(path, &cap, &mask)) != 0) goto done;
  if (!(mask & (1u << LL_AT_PEAK))) {
    status = ll__runtime_error(path, LL_ENOVIEW, " (no peak)");
    goto done;
  }
  if ((rc = ll_symbolize_capture(cap, LL_AT_PEAK, 0, &lv->peak)) < 0 ||
      ((mask & (1u << LL_AT_END)) && (rc = ll_symbolize_capture(cap, LL_AT_END, 0, &lv->end)) < 0) ||
      (rc = ll_snapshot_statistics(lv->peak, LL_GROUP_LINENO, 0, &lv->stats)) < 0)
    status = ll__runtime_error(path, rc, NULL);
done:
  ll_capture_close(cap);
  return status;
}

/* dir/leaklab-massif.out: leaklab's peak and end in massif's format (ms_print reads it). */
static int write_export(const char *dir, const leaklab_view_t *lv, char *path, size_t len) {
  if (!fits(path, len, "%s/leaklab-massif.out", dir))
    return ll__runtime_error(dir, LL_EINVAL, " (path too long)");
  FILE *f = fopen(path, "w");
  if (f == NULL) return ll__runtime_error(path, LL_EIO, NULL);
  int rc = ll_report_massif(f, lv->peak, lv->end);
  if (fclose(f) != 0 && rc == 0) rc = LL_EIO;
  if (rc != 0) {
    path[0] = '\0';
    return ll__runtime_error(path, rc, NULL);
  }
  return 0;
}

/* Options that make massif's numbers leaklab's: requested bytes only (no 8-byte admin per
 * block), the exact peak (not within 1%), every allocation site however small, and a tree in
 * every snapshot, because a heap that only grows until exit gets no peak snapshot: its last
 * snapshot is then the peak and must carry the tree. Time in bytes keeps runs reproducible.
 * valgrind's default --run-libc-freeres=yes stays: those frees at exit are what makes massif
 * mark a heap that grew until exit as its peak. */
static char *const massif_opts[] = {"--peak-inaccuracy=0", "--heap-admin=0", "--threshold=0",
                                    "--detailed-freq=1", "--max-snapshots=100", "--time-unit=B"};

static int run(int argc, char **argv) {
  int status;
  ll__valgrind_run_t v;
  ll__massif_t *m = NULL;
  massif_view_t mv = {NULL, NULL, NULL, 0};
  leaklab_view_t lv = {NULL, NULL, NULL};
  char massif_out[PATH_MAX + 32], export_path[PATH_MAX + 32] = "";
  double massif_s = 0;

  if ((status = ll__valgrind_begin(&v, verb, "file", ll__verb_massif.help, argc, argv)) != 0)
    return status < 0 ? LL__EXIT_OK : status;
  const char *file = v.rq.existing;
  if (file == NULL) {
    if ((status = ll__valgrind_tool(&v, verb, "3-100x", "massif.out", "--massif-out-file=",
                                    massif_opts, sizeof massif_opts / sizeof massif_opts[0],
                                    massif_out, sizeof massif_out, &massif_s)) != 0)
      goto cleanup;
    file = massif_out;
  }
  if ((status = read_massif(file, &m, &mv)) != 0) goto cleanup;
  /* massif's side is known: leaklab's needs a recording of the same program (without it,
   * massif's side is still worth showing, then the failure). */
  ll__valgrind_record(&v, verb);
  if (v.capture != NULL && (status = read_capture(v.capture, &lv)) != 0) goto cleanup;
  /* leaklab's own peak as a massif.out too, so that ms_print shows both views side by side. */
  if (v.target.argv != NULL && lv.peak != NULL &&
      (status = write_export(v.dir, &lv, export_path, sizeof export_path)) != 0)
    goto cleanup;

  printf("[ massif vs leaklab: %s ]\n", v.target.label != NULL ? v.target.label : m->cmd);
  printf("  %-28s %-14s %s\n", "", "massif", lv.peak != NULL ? "leaklab" : "");
  print_figures(stdout, &mv, &lv, massif_s, v.leaklab_s);
  print_massif_lines(stdout, &mv, &lv, (size_t)v.rq.top, m);
  if (lv.stats != NULL) print_leaklab_lines(stdout, &lv, (size_t)v.rq.top);
  if (v.target.argv != NULL)
    printf("files: %s %s%s%s\n", massif_out, v.record_failed ? "" : v.cap,
           export_path[0] ? " " : "", export_path);

cleanup:
  free(mv.lines);
  ll__massif_free(m);
  ll_stats_free(lv.stats);
  ll_snapshot_free(lv.peak);
  ll_snapshot_free(lv.end);
  return ll__valgrind_end(&v, status);
}

const ll__verb_t ll__verb_massif = {
    "massif",
    "(SCENARIO[:VARIANT] | -- PROGRAM [ARGS...]) [OPTIONS]",
    "run under valgrind massif; its peak and top lines beside leaklab's for the same program",
    "usage: leaklab massif SCENARIO[:VARIANT] [--scale F] [-o DIR] [--top N] [--allocator NAME]\n"
    "       leaklab massif [-o DIR] [--top N] [--allocator NAME] -- PROGRAM [ARGS...]\n"
    "       leaklab massif --file MASSIF_OUT [--capture CAPTURE] [--top N]\n"
    "\n"
    "Runs the program under valgrind massif with options that make its numbers leaklab's\n"
    "(--heap-admin=0 --peak-inaccuracy=0 --threshold=0 --detailed-freq=1 --time-unit=B),\n"
    "keeps massif.out under reports/NAME/ (ms_print reads it), then records the same program\n"
    "with 'leaklab run' and prints both: the peak of requested bytes (massif's useful heap),\n"
    "the heap at exit, and the top lines at massif's peak - each attributed to the first frame\n"
    "outside libc and valgrind's allocators - beside leaklab's size and count for that line.\n"
    "leaklab's own peak is also written in massif's format (leaklab-massif.out), so that\n"
    "'ms_print' shows both views the same way.\n"
    "valgrind is slow (3-100x; 3-30x on the lessons): a progress line shows every few\n"
    "seconds; for lessons use --scale, e.g. 0.05.\n"
    "\n"
    "options:\n"
    "  --scale F          lessons only: shrink the problem, 0 < F <= 1\n"
    "  -o, --output DIR   where massif.out, leaklab.capture and the logs go\n"
    "                     (default reports/SCENARIO-VARIANT or reports/PROGRAM)\n"
    "  --top N            lines to show (default 10, 0: all)\n"
    "  --file MASSIF_OUT  read an existing massif.out instead of running valgrind\n"
    "  --capture CAPTURE  with --file: compare with this leaklab capture\n"
    "  --allocator NAME   glibc (default) or jemalloc for leaklab's recording; under valgrind\n"
    "                     the program always allocates from valgrind's own malloc (it\n"
    "                     replaces the program's allocator), so jemalloc's figures never\n"
    "                     apply to massif's side\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 done, 2 usage error, 3 valgrind missing or failed, a corrupt massif.out\n"
    "or capture, or a program that could not be recorded; 128+N when signal N killed the\n"
    "program (as 'leaklab run').\n",
    run,
};
