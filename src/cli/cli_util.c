/* cli_util.c - what every verb shares: one-line errors, option parsing, SIZE and integer values, -o. */
#include "cli.h"
#include "errors.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
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

int ll__parse_scale(const char *text) {
  char *end;
  errno = 0;
  double f = strtod(text, &end);
  return errno == 0 && end != text && *end == '\0' && f > 0 && f <= 1 ? 0 : -1;
}

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
  if (f == NULL) ll__runtime_error(path, LL__ERR(errno), NULL);
  return f;
}

int ll__close_output(FILE *f, const char *path) {
  if (f == stdout) {
    if (fflush(stdout) != 0) return ll__runtime_error("<stdout>", LL__ERR(errno), NULL);
    return LL__EXIT_OK;
  }
  if (fclose(f) != 0) return ll__runtime_error(path, LL__ERR(errno), NULL);
  return LL__EXIT_OK;
}
