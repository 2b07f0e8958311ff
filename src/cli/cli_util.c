/* cli_util.c - what every verb shares: one-line errors, option parsing, SIZE and integer values, -o. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* ---- errors --------------------------------------------------------------------------------- */

int ll__usage_error(const char *verb, const char *fmt, ...) {
  va_list ap;
  fputs("leaklab: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (verb != NULL)
    fprintf(stderr, " (try 'leaklab %s --help')\n", verb);
  else
    fputs(" (try 'leaklab --help')\n", stderr);
  return LL__EXIT_USAGE;
}

/* -errno for the last failed libc call; EIO when it left none. */
static int last_errno(void) { return errno != 0 ? -errno : LL_EIO; }

int ll__runtime_error(const char *what, int err, const char *extra) {
  fprintf(stderr, "leaklab: %s: %s%s\n", what, ll_strerror(err), extra != NULL ? extra : "");
  return LL__EXIT_RUNTIME;
}

/* ---- option parsing ------------------------------------------------------------------------- */

void ll__opt_init(ll__optstate_t *st, const char *verb, int argc, char **argv) {
  st->argc = argc;
  st->argv = argv;
  st->next = 1;
  st->positional = 0;
  st->verb = verb;
}

static const ll__opt_t *find_long(const ll__opt_t *opts, const char *name, size_t len) {
  for (; opts->name != NULL; opts++)
    if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0) return opts;
  return NULL;
}

static const ll__opt_t *find_short(const ll__opt_t *opts, char c) {
  for (; opts->name != NULL; opts++)
    if (opts->short_name != 0 && opts->short_name == c) return opts;
  return NULL;
}

/* The value of an option that takes one: the rest of the argument, or the next argument. */
static int take_value(ll__optstate_t *st, const ll__opt_t *o, const char *inline_value,
                      const char *shown, const char **arg) {
  if (inline_value != NULL) {
    *arg = inline_value;
    return o->id;
  }
  if (st->next >= st->argc) {
    ll__usage_error(st->verb, "option '%s' needs a value", shown);
    return LL__OPT_ERROR;
  }
  *arg = st->argv[st->next++];
  return o->id;
}

int ll__opt_next(ll__optstate_t *st, const ll__opt_t *opts, const char **arg) {
  *arg = NULL;
  if (st->next >= st->argc) return LL__OPT_END;

  const char *a = st->argv[st->next++];
  /* "-" alone is a positional (stdout/stdin by convention), as is everything after "--". */
  if (st->positional || a[0] != '-' || a[1] == '\0') {
    *arg = a;
    return LL__OPT_POSITIONAL;
  }
  if (strcmp(a, "--") == 0) {
    st->positional = 1;
    return ll__opt_next(st, opts, arg);
  }
  if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return LL__OPT_HELP;

  if (a[1] == '-') {
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const ll__opt_t *o = find_long(opts, name, len);
    if (o == NULL) {
      ll__usage_error(st->verb, "unknown option '%.*s'", (int)(len + 2), a);
      return LL__OPT_ERROR;
    }
    if (!o->has_arg) {
      if (eq != NULL) {
        ll__usage_error(st->verb, "option '--%s' takes no value (got '%s')", o->name, a);
        return LL__OPT_ERROR;
      }
      return o->id;
    }
    return take_value(st, o, eq != NULL ? eq + 1 : NULL, a, arg);
  }

  const ll__opt_t *o = find_short(opts, a[1]);
  if (o == NULL) {
    ll__usage_error(st->verb, "unknown option '%s'", a);
    return LL__OPT_ERROR;
  }
  if (!o->has_arg) {
    if (a[2] != '\0') {
      ll__usage_error(st->verb, "unknown option '%s'", a);
      return LL__OPT_ERROR;
    }
    return o->id;
  }
  char shown[3] = {'-', a[1], '\0'};
  return take_value(st, o, a[2] != '\0' ? a + 2 : NULL, shown, arg);
}

/* ---- values --------------------------------------------------------------------------------- */

int ll__parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  const char *p = text;

  if (text == NULL || !isdigit((unsigned char)*p)) return -1;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  if (*p != '\0' || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int unit_shift(const char *u, unsigned *shift) {
  static const struct {
    const char *name;
    unsigned shift;
  } units[] = {{"", 0},    {"b", 0},     {"kb", 10},  {"kib", 10}, {"mb", 20}, {"mib", 20},
               {"gb", 30}, {"gib", 30}, {"tb", 40},  {"tib", 40}};
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

/* floor(0.<digits> * 2^shift), exactly: double the decimal fraction `shift` times, each carry
 * out of the first digit being the next bit of the result. No floating point, no rounding. */
static uint64_t fraction_times_pow2(const char *digits, size_t ndigit, unsigned shift) {
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

int ll__parse_size(const char *text, uint64_t *out) {
  const char *p = text, *frac = NULL;
  size_t nfrac = 0;
  uint64_t whole = 0;
  unsigned shift;

  if (text == NULL || !isdigit((unsigned char)*p)) return -1; /* also rejects signs, blanks */
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (whole > (UINT64_MAX - d) / 10) return -1;
    whole = whole * 10 + d;
  }
  if (*p == '.') {
    frac = ++p;
    while (isdigit((unsigned char)*p)) p++;
    nfrac = (size_t)(p - frac);
    if (nfrac == 0 || nfrac > 64) return -1; /* "1." is a typo; 64 digits is past any meaning */
  }
  while (*p == ' ') p++;
  if (unit_shift(p, &shift) != 0) return -1;
  if (shift > 0 && whole > (UINT64_MAX >> shift)) return -1;
  uint64_t bytes = whole << shift;
  uint64_t extra = frac != NULL ? fraction_times_pow2(frac, nfrac, shift) : 0;
  if (bytes > UINT64_MAX - extra) return -1;
  *out = bytes + extra;
  return 0;
}

int ll__parse_at(const char *text) {
  for (int at = 0; at < LL_AT__COUNT; at++) {
    const char *name = ll_at_name((ll_at_t)at);
    if (name != NULL && strcmp(name, text) == 0) return at;
  }
  return -1;
}

int ll__parse_group(const char *text) {
  static const ll_group_t groups[] = {LL_GROUP_LINENO, LL_GROUP_FILENAME, LL_GROUP_TRACEBACK};
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    const char *name = ll_group_name(groups[i]);
    if (name != NULL && strcmp(name, text) == 0) return (int)groups[i];
  }
  return -1;
}

/* ---- output --------------------------------------------------------------------------------- */

FILE *ll__open_output(const char *path) {
  if (path == NULL || strcmp(path, "-") == 0) return stdout;
  FILE *f = fopen(path, "w");
  if (f == NULL) ll__runtime_error(path, last_errno(), NULL);
  return f;
}

int ll__close_output(FILE *f, const char *path) {
  if (f == stdout) {
    if (fflush(stdout) != 0) return ll__runtime_error("<stdout>", last_errno(), NULL);
    return LL__EXIT_OK;
  }
  if (fclose(f) != 0) return ll__runtime_error(path, last_errno(), NULL);
  return LL__EXIT_OK;
}
