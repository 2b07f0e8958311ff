/* fuzz_readers.c - the capture readers' fuzz harness (afl++, tools/fuzz.sh) and the replay of its findings (ctest fuzz_replay): fix a capture's lengths and CRC, then run report and diff in-process over it. */
/*
 * usage: fuzz_readers FILE...        each file as a capture, through every reading path
 *        fuzz_readers --fix IN OUT   write IN with its lengths and checksum fixed up (how a
 *                                    finding is kept in tests/data/fuzz/ as a valid capture)
 *
 * A capture's checksum (snapfile.h: CRC-32 of everything before the trailer's crc field) would
 * stop nearly every mutation at the door, so each input has its header's and trailer's total
 * length, the trailer's "LLND" and its CRC rewritten first; what remains is what a damaged but
 * checksum-valid file can hold. Then the verbs run in this process over a copy written to
 * $TMPDIR, as `leaklab report` and `leaklab diff` do (every moment, every format, cumulative,
 * grouping, retainers, growth, native or not, diff against itself), plus the run summary's
 * readers (churn, still growing). Every verb must end in 0 (a report) or 3 (one error line);
 * anything else aborts, so the fuzzer counts it as a crash. The verbs' reports go to /dev/null;
 * their error lines, the harness's and the sanitizers' go to stderr (afl drops it; ctest shows
 * it when the replay fails).
 * Exit status: 0, or 1 when a file cannot be read or written.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_growth.h"
#include "crc32.h"
#include "le_bytes.h"
#include "snapfile.h"
#include "symbolize.h"

/* A sanitizer's finding ends the process with SIGABRT, which afl counts as a crash (an exit
 * status it would not), and ctest as a failure either way. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
__attribute__((used, visibility("default"))) const char *__asan_default_options(void) {
  return "abort_on_error=1:allocator_may_return_null=1";
}
__attribute__((used, visibility("default"))) const char *__ubsan_default_options(void) {
  return "abort_on_error=1:halt_on_error=1:print_stacktrace=1";
}

#define MAX_INPUT (16u << 20) /* afl's own limit is 1 MB; a replay may be bigger */

static const char *g_current; /* the input being replayed, for the abort message */

/* Rewrite what the fuzzer should not have to guess: lengths, end mark, CRC (snapfile.h). */
static void fix_up(unsigned char *b, size_t len) {
  if (len < LL__SNAPFILE_HEADER + LL__SNAPFILE_TRAILER) return;
  unsigned char *tr = b + len - LL__SNAPFILE_TRAILER;
  ll__put_u64(b + 16, len);
  ll__put_u64(tr, len);
  memcpy(tr + 12, LL__SNAPFILE_END, 4);
  ll__put_u32(tr + 8, ll__crc32(0, b, len - 8));
}

/* One verb over the capture: argv is the verb's name, then the arguments, NULL-terminated. */
static void verb(const ll__verb_t *v, ...) {
  char *argv[24];
  int argc = 0;
  va_list ap;
  argv[argc++] = (char *)v->name;
  va_start(ap, v);
  for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 23;) argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;
  int status = v->run(argc, argv);
  if (status == LL__EXIT_OK || status == LL__EXIT_RUNTIME) return;
  fprintf(stderr, "fuzz_readers: %s: exit %d from", g_current, status);
  for (int i = 0; i < argc; i++) fprintf(stderr, " %s", argv[i]);
  fputs(" (want 0 or 3)\n", stderr);
  fflush(stderr);
  abort();
}

static const char *const g_moments[] = {"current", "peak", "end", "leaks", "temporary",
                                        "allocations", "lost", "reachable"};

/* Every reading path of `leaklab report` and `diff` (and run's summary) over the file at p. */
static void read_all(char *p) {
  char *o = "/dev/null";
  for (size_t i = 0; i < sizeof g_moments / sizeof g_moments[0]; i++) {
    char *at = (char *)g_moments[i];
    int at_exit = i == 2 || i == 3 || i == 6 || i == 7; /* the exit scan's moments */
    verb(&ll__verb_report, p, "--at", at, "-o", o, NULL);
    verb(&ll__verb_report, p, "--at", at, "--format", "json", "--native", "-o", o, NULL);
    verb(&ll__verb_report, p, "--at", at, "--format", "folded", "-o", o, NULL);
    if (i != 5) /* pprof always holds every allocation: --at allocations is a usage error */
      verb(&ll__verb_report, p, "--at", at, "--format", "pprof", "-o", o, NULL);
    verb(&ll__verb_report, p, "--at", at, "--cumulative", "--usable", "--no-native", "-o", o, NULL);
    verb(&ll__verb_report, p, "--at", at, "--group-by", "traceback", "--format", "json", "-o", o,
         NULL);
    verb(&ll__verb_report, p, "--at", at, "--group-by", "filename", "--cumulative", "-o", o, NULL);
    if (at_exit) verb(&ll__verb_report, p, "--at", at, "--retainers", "-o", o, NULL);
    verb(&ll__verb_diff, p, p, "--at", at, "-o", o, NULL);
  }
  verb(&ll__verb_report, p, "-o", o, NULL);
  verb(&ll__verb_report, p, "--format", "json", "-o", o, NULL);
  verb(&ll__verb_report, p, "--format", "folded", "--weight", "count", "--all-frames",
       "--include", "*.c", "-o", o, NULL);
  verb(&ll__verb_report, p, "--format", "massif", "-o", o, NULL);
  verb(&ll__verb_report, p, "--format", "html", "-o", o, NULL);
  verb(&ll__verb_report, p, "--growth", "-o", o, NULL);
  verb(&ll__verb_report, p, "--growth", "--format", "json", "--native", "--growth-min", "1B",
       "-o", o, NULL);
  verb(&ll__verb_diff, p, p, "-o", o, NULL);
  verb(&ll__verb_diff, p, p, "--format", "json", "--cumulative", "--native", "-o", o, NULL);

  /* run's summary readers, over the file as it would be after a recording. */
  ll_capture_t *cap = NULL;
  if (ll_capture_open(p, &cap) != 0) return;
  ll_snapshot_t *peak = NULL;
  if (ll_symbolize_capture(cap, LL_AT_PEAK, 0, &peak) == 0) {
    FILE *null = fopen("/dev/null", "w");
    if (null != NULL) {
      ll__print_churn(null, p, 0, peak);
      fclose(null);
    }
    ll_snapshot_free(peak);
  }
  ll__print_growing(p, cap, 0);
  ll_capture_close(cap);
}

/* The whole of a file (up to MAX_INPUT bytes); NULL after an error line. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *b = malloc(MAX_INPUT);
  if (f == NULL || b == NULL) {
    fprintf(stderr, "fuzz_readers: %s: cannot read\n", path);
    if (f != NULL) fclose(f);
    free(b);
    return NULL;
  }
  *len = fread(b, 1, MAX_INPUT, f);
  fclose(f);
  return b;
}

static int spill(const char *path, const unsigned char *b, size_t len) {
  FILE *f = fopen(path, "wb");
  int ok = f != NULL && fwrite(b, 1, len, f) == len;
  if (f != NULL && fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "fuzz_readers: %s: cannot write\n", path);
  return ok ? 0 : -1;
}

/* One input: fixed up, written to a file of our own, read every way. 0 or -1. */
static int replay(const char *path) {
  const char *dir = getenv("TMPDIR");
  char tmp[4096];
  size_t len;
  unsigned char *b = slurp(path, &len);
  if (b == NULL) return -1;
  fix_up(b, len);
  snprintf(tmp, sizeof tmp, "%s/fuzz_readers.%ld.llcap", dir != NULL && *dir ? dir : "/tmp",
           (long)getpid());
  int rc = spill(tmp, b, len);
  free(b);
  if (rc == 0) {
    g_current = path;
    read_all(tmp);
  }
  unlink(tmp);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--fix") == 0) {
    size_t len;
    unsigned char *b = slurp(argv[2], &len);
    if (b == NULL) return 1;
    fix_up(b, len);
    int rc = spill(argv[3], b, len);
    free(b);
    return rc == 0 ? 0 : 1;
  }
  if (argc < 2) {
    fputs("usage: fuzz_readers FILE... | fuzz_readers --fix IN OUT\n", stderr);
    return 2;
  }
  int null = open("/dev/null", O_WRONLY); /* what a verb would print on stdout */
  if (null >= 0) {
    dup2(null, 1);
    close(null);
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (replay(argv[i]) != 0) status = 1;
    else if (argc > 2) fprintf(stderr, "fuzz_readers: %s: read every way\n", argv[i]);
  }
  return status;
}
