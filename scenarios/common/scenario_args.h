/* scenario_args.h - the command line every lesson program shares (--variant, --scale, --help), plus each lesson's own options. */
#ifndef LL_SCENARIO_ARGS_H
#define LL_SCENARIO_ARGS_H

#include <stddef.h>

/* One option of a single lesson (beyond the shared ones): a whole number, or a flag. */
struct scenario_option {
  const char *name;     /* "--chunk" */
  const char *arg;      /* "N": takes a whole number >= min; NULL: a flag, which stores 1 */
  const char *help;     /* one line for --help */
  unsigned long min;    /* smallest accepted number */
  unsigned long *value; /* where it goes; the program sets the default before parsing */
};

/* What a lesson program tells the parser about itself. */
struct scenario_info {
  const char *name;            /* program name used in messages */
  const char *summary;         /* one line for --help */
  const char *const *variants; /* variant names; variants[0] is the default */
  size_t variant_count;
  const struct scenario_option *options; /* the lesson's own options, or NULL */
  size_t option_count;
};

/* What the parser found. */
struct scenario_args {
  size_t variant; /* index into info->variants */
  double scale;   /* 0 < scale <= 1; 1 unless --scale was given */
};

/* Parse argv. Returns -1 when the program should go on, else the exit status to return now:
 * 0 after --help or --list-variants (printed on stdout), 2 after a one-line error on stderr. */
int scenario_parse_args(const struct scenario_info *info, int argc, char **argv,
                        struct scenario_args *out);

/* base * scale rounded to the nearest integer, never below 1: how a range shrinks with --scale. */
unsigned long scenario_scaled(unsigned long base, double scale);

#endif
