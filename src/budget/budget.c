/* budget.c - memory budgets: SIZE parsing, a block's own peak and leaks, pytest-memray-shaped limit messages. */
#include <leaklab/budget.h>
#include <leaklab/report.h>

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- SIZE --------------------------------------------------------------------------------- */

static int unit_shift(const char *u, unsigned *shift) {
  static const struct {
    const char *name;
    unsigned shift;
  } units[] = {{"", 0},     {"b", 0},   {"kb", 10},  {"kib", 10}, {"mb", 20},
               {"mib", 20}, {"gb", 30}, {"gib", 30}, {"tb", 40},  {"tib", 40}};
  char low[8];
  size_t n = strlen(u);

  if (n >= sizeof low) return -1;
  for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)u[i]);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(low, units[i].name) == 0) {
      *shift = units[i].shift;
      return 0;
    }
  }
  return -1;
}

/* floor(0.<digits> * 2^shift) without floating point: each doubling of the decimal fraction
 * carries the next binary digit of the result out of its first digit. */
static uint64_t frac_bits(const char *digits, size_t ndigit, unsigned shift) {
  unsigned char d[64];
  uint64_t bits = 0;

  for (size_t i = 0; i < ndigit; i++) d[i] = (unsigned char)(digits[i] - '0');
  for (unsigned s = 0; s < shift; s++) {
    unsigned carry = 0;
    for (size_t i = ndigit; i-- > 0;) {
      unsigned v = d[i] * 2u + carry;
      d[i] = (unsigned char)(v % 10);
      carry = v / 10;
    }
    bits = bits * 2 + carry;
  }
  return bits;
}

int ll_parse_size(const char *text, uint64_t *out) {
  const char *p = text, *frac = NULL;
  size_t nfrac = 0;
  uint64_t whole = 0;
  unsigned shift;

  if (text == NULL || out == NULL || !isdigit((unsigned char)*p)) return LL_EINVAL;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (whole > (UINT64_MAX - d) / 10) return LL_EINVAL;
    whole = whole * 10 + d;
  }
  if (*p == '.') {
    frac = ++p;
    while (isdigit((unsigned char)*p)) p++;
    nfrac = (size_t)(p - frac);
    /* "1." is a typo, and 64 digits are past any byte. */
    if (nfrac == 0 || nfrac > 64) return LL_EINVAL;
  }
  while (*p == ' ') p++;
  if (unit_shift(p, &shift) != 0) return LL_EINVAL;
  if (shift > 0 && whole > (UINT64_MAX >> shift)) return LL_EINVAL;
  uint64_t bytes = whole << shift;
  uint64_t extra = frac != NULL ? frac_bits(frac, nfrac, shift) : 0;
  if (bytes > UINT64_MAX - extra) return LL_EINVAL;
  *out = bytes + extra;
  return 0;
}

int ll_format_memray_size(char *buf, size_t len, double bytes) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  const size_t nunit = sizeof units / sizeof units[0];
  size_t i = 0;

  for (; i + 1 < nunit; i++) {
    double mag = bytes < 0 ? -bytes : bytes;
    if (mag < 1024) break;
    bytes /= 1024;
  }
  return snprintf(buf, len, "%.1f%s", bytes, units[i]);
}

/* ---- messages ------------------------------------------------------------------------------ */

static const char truncated_note[] = "[message truncated]\n";

/* Whole lines into a caller's buffer: a line that does not fit is dropped with every later one,
 * and the note says so, so a cut message never ends mid-line. */
typedef struct msgbuf {
  char *buf;
  size_t len, pos;
  int full;
} msgbuf_t;

static void msg_init(msgbuf_t *m, char *buf, size_t len) {
  m->buf = buf;
  m->len = buf != NULL ? len : 0;
  m->pos = 0;
  m->full = 0;
  if (m->len > 0) buf[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void msg_line(msgbuf_t *m, const char *fmt, ...) {
  char line[2048];
  va_list ap;

  if (m->full || m->len == 0) return;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t ln = (size_t)n < sizeof line - 2 ? (size_t)n : sizeof line - 2;
  line[ln++] = '\n';
  line[ln] = '\0';
  if (m->pos + ln + sizeof truncated_note <= m->len) {
    memcpy(m->buf + m->pos, line, ln + 1);
    m->pos += ln;
    return;
  }
  m->full = 1;
  if (m->pos + sizeof truncated_note <= m->len) {
    memcpy(m->buf + m->pos, truncated_note, sizeof truncated_note);
    m->pos += sizeof truncated_note - 1;
  }
}

/* One frame as pytest-memray lists it: "function at file:line"; what symbolisation could not
 * tell is left out rather than shown as zeros. */
static void msg_frame(msgbuf_t *m, const ll_frame_t *f) {
  const char *fn = f->function != NULL ? f->function : "";
  const char *file = f->filename != NULL ? f->filename : "<unknown>";
  if (f->lineno != 0 && fn[0] != '\0')
    msg_line(m, "        %s at %s:%" PRIu32, fn, file, f->lineno);
  else if (f->lineno != 0)
    msg_line(m, "        %s:%" PRIu32, file, f->lineno);
  else if (fn[0] != '\0')
    msg_line(m, "        %s in %s", fn, file);
  else
    msg_line(m, "        0x%" PRIx64 " in %s", f->ip, file);
}

/* ---- lines behind a figure -------------------------------------------------------------------- */

/* What a snapshot holds beyond a base (or all of it): per line, and per call stack so each line
 * can show its largest stack. Only positive amounts count: a line that shrank holds nothing. */
typedef struct lines {
  ll_stats_t *by_line;
  ll_stats_t *by_stack;
  int diff;
} lines_t;

static int lines_make(lines_t *ls, const ll_snapshot_t *snap, const ll_snapshot_t *base) {
  int rc;
  memset(ls, 0, sizeof *ls);
  ls->diff = base != NULL;
  if (base != NULL) {
    rc = ll_snapshot_compare(snap, base, LL_GROUP_LINENO, 0, &ls->by_line);
    if (rc == 0) rc = ll_snapshot_compare(snap, base, LL_GROUP_TRACEBACK, 0, &ls->by_stack);
  } else {
    rc = ll_snapshot_statistics(snap, LL_GROUP_LINENO, 0, &ls->by_line);
    if (rc == 0) rc = ll_snapshot_statistics(snap, LL_GROUP_TRACEBACK, 0, &ls->by_stack);
  }
  if (rc != 0) {
    ll_stats_free(ls->by_line);
    ll_stats_free(ls->by_stack);
    memset(ls, 0, sizeof *ls);
  }
  return rc;
}

static void lines_free(lines_t *ls) {
  ll_stats_free(ls->by_line);
  ll_stats_free(ls->by_stack);
  memset(ls, 0, sizeof *ls);
}

/* The bytes a statistic stands for: its growth over the base, or its size. Both orders the
 * engine sorts in put the positive amounts in descending order, so callers only skip zeros. */
static uint64_t stat_amount(const ll_stats_t *s, const ll_stat_t *st) {
  if (s->is_diff) return st->size_diff > 0 ? (uint64_t)st->size_diff : 0;
  return st->size;
}

static int same_line(const ll_frame_t *a, const ll_frame_t *b) {
  if (a->lineno != b->lineno || strcmp(a->filename, b->filename) != 0 ||
      strcmp(a->function, b->function) != 0)
    return 0;
  /* Unsymbolised frames are told apart by address only, as the engine's line keys are. */
  return a->lineno != 0 || a->function[0] != '\0' || a->ip == b->ip;
}

static const ll_frame_t *key_frame(const ll_stat_t *st) {
  if (st->traceback == NULL || st->traceback->nframe == 0) return NULL;
  return &st->traceback->frames[0];
}

/* The largest call stack (by amount) made at the line of `line`. */
static const ll_traceback_t *largest_stack(const lines_t *ls, const ll_stat_t *line) {
  const ll_frame_t *key = key_frame(line);
  if (key == NULL) return NULL;
  for (size_t i = 0; i < ls->by_stack->len; i++) {
    const ll_stat_t *st = &ls->by_stack->items[i];
    const ll_frame_t *f = key_frame(st);
    if (f != NULL && stat_amount(ls->by_stack, st) > 0 && same_line(f, key)) return st->traceback;
  }
  return NULL;
}

/* "    - <size> <verb> here:" and the frames of the line's largest stack, for the lines whose
 * amount is at least `min`, the first LL_LIMIT_TOP of them, then "...and N more". */
static void msg_lines(msgbuf_t *m, const lines_t *ls, uint64_t min, const char *verb) {
  size_t shown = 0, more = 0;
  for (size_t i = 0; i < ls->by_line->len; i++) {
    const ll_stat_t *st = &ls->by_line->items[i];
    uint64_t amount = stat_amount(ls->by_line, st);
    if (amount == 0 || amount < min) continue;
    if (shown == LL_LIMIT_TOP) {
      more++;
      continue;
    }
    shown++;
    char size[64];
    ll_format_size(size, sizeof size, (double)amount, 0);
    msg_line(m, "    - %s %s here:", size, verb);
    const ll_traceback_t *tb = largest_stack(ls, st);
    if (tb == NULL) tb = st->traceback;
    uint32_t n = tb != NULL ? tb->nframe : 0;
    for (uint32_t j = 0; j < n && j < LL_LIMIT_FRAMES; j++) msg_frame(m, &tb->frames[j]);
    if (n > LL_LIMIT_FRAMES || (tb != NULL && tb->total_nframe > n)) msg_line(m, "        ...");
  }
  if (more > 0) msg_line(m, "...and %zu more", more);
}

/* ---- limits --------------------------------------------------------------------------------- */

int ll_limit_memory(uint64_t limit, uint64_t peak, const ll_snapshot_t *at_peak,
                    const ll_snapshot_t *base, char *msg, size_t len) {
  char lim[48], got[48];
  msgbuf_t m;
  lines_t ls;

  if (at_peak == NULL) return LL_EINVAL;
  msg_init(&m, msg, len);
  ll_format_memray_size(lim, sizeof lim, (double)limit);
  ll_format_memray_size(got, sizeof got, (double)peak);
  if (peak < limit) {
    msg_line(&m, "peak %s (%" PRIu64 " B) is below the limit %s", got, peak, lim);
    return LL_LIMIT_OK;
  }
  int rc = lines_make(&ls, at_peak, base);
  if (rc != 0) return rc;
  msg_line(&m, "Test was limited to %s but allocated %s", lim, got);
  msg_line(&m, "List of allocations:");
  msg_lines(&m, &ls, 1, "allocated");
  lines_free(&ls);
  return LL_LIMIT_EXCEEDED;
}

int ll_limit_leaks(uint64_t limit, const ll_snapshot_t *leaks, const ll_snapshot_t *base,
                   uint64_t *largest, char *msg, size_t len) {
  char lim[48], got[48];
  uint64_t max = 0, over = 0;
  size_t nover = 0;
  msgbuf_t m;
  lines_t ls;

  if (leaks == NULL) return LL_EINVAL;
  msg_init(&m, msg, len);
  int rc = lines_make(&ls, leaks, base);
  if (rc != 0) return rc;
  for (size_t i = 0; i < ls.by_line->len; i++) {
    uint64_t a = stat_amount(ls.by_line, &ls.by_line->items[i]);
    if (a > max) max = a;
    /* A zero limit still lets a line that leaked nothing pass. */
    if (a > 0 && a >= limit) {
      nover++;
      over += a;
    }
  }
  if (largest != NULL) *largest = max;
  ll_format_memray_size(lim, sizeof lim, (double)limit);
  if (nover == 0) {
    ll_format_memray_size(got, sizeof got, (double)max);
    msg_line(&m, "no line leaked %s or more (largest: %s)", lim, got);
    lines_free(&ls);
    return LL_LIMIT_OK;
  }
  ll_format_memray_size(got, sizeof got, (double)over);
  msg_line(&m, "Test was limited to leaking %s per line but leaked %s at %zu line%s", lim, got,
           nover, nover == 1 ? "" : "s");
  msg_line(&m, "List of leaks:");
  msg_lines(&m, &ls, limit, "leaked");
  lines_free(&ls);
  return LL_LIMIT_EXCEEDED;
}

/* ---- budgets ---------------------------------------------------------------------------------- */

/* The open block lives here, not in the caller's struct: a block abandoned by a longjmp leaves
 * nothing dangling for ll_budget_abort to touch. `owner` is only compared, never read. */
static pthread_mutex_t budget_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  const ll_budget_t *owner;
  int started; /* begin started tracing, so end stops it */
  ll_snapshot_t *begin;
} open_block;

static void close_locked(void) {
  ll_snapshot_free(open_block.begin);
  if (open_block.started) ll_stop();
  memset(&open_block, 0, sizeof open_block);
}

int ll_budget_begin(ll_budget_t *b) {
  int rc = 0;

  if (b == NULL) return LL_EINVAL;
  pthread_mutex_lock(&budget_lock);
  if (open_block.owner != NULL) {
    rc = LL_EINVAL;
    goto cleanup;
  }
  memset(b, 0, sizeof *b);
  if (!ll_is_tracing()) {
    /* The compile-time hooks give one frame; a program that wants more starts tracing itself. */
    if ((rc = ll_start(1)) != 0) goto cleanup;
    open_block.started = 1;
  }
  ll_reset_peak();
  if ((rc = ll_take_snapshot(&open_block.begin)) != 0) {
    if (open_block.started) ll_stop();
    memset(&open_block, 0, sizeof open_block);
    goto cleanup;
  }
  b->begin_bytes = open_block.begin->current_bytes;
  open_block.owner = b;
cleanup:
  pthread_mutex_unlock(&budget_lock);
  return rc;
}

int ll_budget_end(ll_budget_t *b) {
  int rc = 0;
  ll_snapshot_t *peak = NULL, *end = NULL;

  if (b == NULL) return LL_EINVAL;
  pthread_mutex_lock(&budget_lock);
  if (open_block.owner != b) {
    rc = LL_EINVAL;
    goto unlock;
  }
  if (!ll_is_tracing()) {
    rc = LL_ENOTRACING;
    goto close;
  }
  if ((rc = ll_take_snapshot(&end)) != 0) goto close;
  if ((rc = ll_take_peak_snapshot(&peak)) != 0) goto close;
  end->at = LL_AT_END;
  b->end_bytes = end->current_bytes;
  /* The peak was reset at begin, so it can only be below the start if traces were cleared. */
  b->peak_bytes = peak->peak_bytes > b->begin_bytes ? peak->peak_bytes - b->begin_bytes : 0;
  b->begin = open_block.begin;
  b->peak = peak;
  b->end = end;
  open_block.begin = NULL; /* now b's */
  peak = end = NULL;
close:
  close_locked();
unlock:
  pthread_mutex_unlock(&budget_lock);
  ll_snapshot_free(peak);
  ll_snapshot_free(end);
  return rc;
}

int ll_budget_is_open(void) {
  pthread_mutex_lock(&budget_lock);
  int open = open_block.owner != NULL;
  pthread_mutex_unlock(&budget_lock);
  return open;
}

void ll_budget_abort(void) {
  pthread_mutex_lock(&budget_lock);
  if (open_block.owner != NULL) close_locked();
  pthread_mutex_unlock(&budget_lock);
}

void ll_budget_free(ll_budget_t *b) {
  if (b == NULL) return;
  ll_snapshot_free(b->begin);
  ll_snapshot_free(b->peak);
  ll_snapshot_free(b->end);
  memset(b, 0, sizeof *b);
}

int ll_budget_limit_memory(const ll_budget_t *b, uint64_t limit, char *msg, size_t len) {
  if (b == NULL || b->peak == NULL || b->begin == NULL) return LL_EINVAL;
  return ll_limit_memory(limit, b->peak_bytes, b->peak, b->begin, msg, len);
}

int ll_budget_limit_leaks(const ll_budget_t *b, uint64_t limit, char *msg, size_t len) {
  if (b == NULL || b->end == NULL || b->begin == NULL) return LL_EINVAL;
  return ll_limit_leaks(limit, b->end, b->begin, NULL, msg, len);
}
