/* format.c - tracemalloc's size and statistic line formats, byte for byte, and format names. */
#include <leaklab/report.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int ll_format_size(char *buf, size_t len, double size, int sign) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  const size_t nunit = sizeof units / sizeof units[0];

  for (size_t i = 0; i < nunit; i++) {
    double mag = size < 0 ? -size : size; /* fabs without libm, which the library does not link */

    /* Same tests in the same order as tracemalloc: bytes never get a decimal, and TiB is the
     * last unit whatever the size. */
    if (mag < 100 && i != 0)
      return snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[i]);
    if (mag < 10 * 1024 || i == nunit - 1)
      return snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[i]);
    size /= 1024;
  }
  return 0; /* not reached: the last unit always returns */
}

int ll_format_stat(char *buf, size_t len, const ll_stat_t *st, int is_diff) {
  char size[64], diff[64], avg[64];
  const char *file = "<unknown>", *fn = "";
  unsigned line = 0;

  if (st == NULL) return snprintf(buf, len, "%s", "");
  /* A key without frames cannot come from the engine, but a report must never crash on it. */
  if (st->traceback != NULL && st->traceback->nframe > 0 && st->traceback->frames != NULL) {
    const ll_frame_t *f = &st->traceback->frames[0];
    if (f->filename != NULL) file = f->filename;
    if (f->function != NULL) fn = f->function;
    line = f->lineno;
  }
  /* FILE:LINE as tracemalloc; without a line (a library without debug information) the
   * function tells its sites apart, or MODULE+0xOFFSET in a stripped one: FILE:0 (FUNCTION). */
  const char *open = "", *close = "";
  if (line == 0 && fn[0] != '\0') {
    open = " (";
    close = ")";
  } else {
    fn = "";
  }

  ll_format_size(size, sizeof size, (double)st->size, 0);
  avg[0] = '\0';
  if (st->count != 0) {
    char a[48];
    ll_format_size(a, sizeof a, (double)st->size / (double)st->count, 0);
    snprintf(avg, sizeof avg, ", average=%s", a);
  }
  if (!is_diff)
    return snprintf(buf, len, "%s:%u%s%s%s: size=%s, count=%" PRIu64 "%s", file, line, open, fn,
                    close, size, st->count, avg);
  ll_format_size(diff, sizeof diff, (double)st->size_diff, 1);
  return snprintf(buf, len, "%s:%u%s%s%s: size=%s (%s), count=%" PRIu64 " (%+" PRId64 ")%s", file,
                  line, open, fn, close, size, diff, st->count, st->count_diff, avg);
}

int ll_format_parse(const char *name) {
  if (name == NULL) return -1;
  if (strcmp(name, "text") == 0) return LL_FORMAT_TEXT;
  if (strcmp(name, "json") == 0) return LL_FORMAT_JSON;
  if (strcmp(name, "massif") == 0) return LL_FORMAT_MASSIF;
  if (strcmp(name, "folded") == 0) return LL_FORMAT_FOLDED;
  if (strcmp(name, "pprof") == 0) return LL_FORMAT_PPROF;
  if (strcmp(name, "html") == 0) return LL_FORMAT_HTML;
  return -1;
}
