/* scenario_args.c - parse the lesson programs' shared options; errors are one line, exit 2. */
#include "scenario_args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(const struct scenario_info *info)
{
  printf("usage: %s [--variant NAME] [--scale F]", info->name);
  for (size_t i = 0; i < info->option_count; i++)
    printf(info->options[i].arg ? " [%s %s]" : " [%s]", info->options[i].name, info->options[i].arg);
  printf(" [--list-variants] [--help]\n");
  printf("%s\n\n", info->summary);
  printf("  --variant NAME   which version of the code to run (default: %s)\n", info->variants[0]);
  printf("  --scale F        shrink the problem, 0 < F <= 1 (default 1), e.g. 0.1 under valgrind\n");
  for (size_t i = 0; i < info->option_count; i++) {
    const struct scenario_option *o = &info->options[i];
    int width = 16 - (int)strlen(o->name) - (o->arg ? 1 + (int)strlen(o->arg) : 0);
    printf("  %s%s%s%*s %s\n", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
           width > 0 ? width : 0, "", o->help);
  }
  printf("  --list-variants  print the variant names, one per line\n");
  printf("  --help           print this help\n\nvariants:");
  for (size_t i = 0; i < info->variant_count; i++)
    printf(" %s", info->variants[i]);
  printf("\n");
}

static int usage_error(const struct scenario_info *info, const char *what, const char *arg)
{
  fprintf(stderr, "%s: %s '%s' (try --help)\n", info->name, what, arg);
  return 2;
}

/* "--opt VALUE" or "--opt=VALUE": the value, or NULL when this argument is not that option. */
static const char *option_value(const char *opt, int argc, char **argv, int *i, int *missing)
{
  size_t len = strlen(opt);
  *missing = 0;
  if (strncmp(argv[*i], opt, len) != 0)
    return NULL;
  if (argv[*i][len] == '=')
    return argv[*i] + len + 1;
  if (argv[*i][len] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

/* argv[*i] as one of the lesson's own options: 1 when it was one (stored), 0 when it is not,
 * -1 after a one-line error. */
static int lesson_option(const struct scenario_info *info, int argc, char **argv, int *i)
{
  for (size_t k = 0; k < info->option_count; k++) {
    const struct scenario_option *o = &info->options[k];
    if (!o->arg) {
      if (strcmp(argv[*i], o->name) != 0)
        continue;
      *o->value = 1;
      return 1;
    }
    int missing;
    const char *value = option_value(o->name, argc, argv, i, &missing);
    if (missing) {
      usage_error(info, "missing number after", argv[*i]);
      return -1;
    }
    if (!value)
      continue;
    char *end;
    errno = 0;
    unsigned long n = strtoul(value, &end, 10);
    int digits = value[0] >= '0' && value[0] <= '9'; /* strtoul would take " 5", "+5", "-5" */
    if (end == value || *end != '\0' || errno != 0 || !digits || n < o->min) {
      char what[96];
      snprintf(what, sizeof what, "%s wants a whole number >= %lu, got", o->name, o->min);
      usage_error(info, what, value);
      return -1;
    }
    *o->value = n;
    return 1;
  }
  return 0;
}

int scenario_parse_args(const struct scenario_info *info, int argc, char **argv,
                        struct scenario_args *out)
{
  out->variant = 0;
  out->scale = 1.0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value;
    int missing;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      print_help(info);
      return 0;
    }
    if (strcmp(arg, "--list-variants") == 0) {
      for (size_t v = 0; v < info->variant_count; v++)
        printf("%s\n", info->variants[v]);
      return 0;
    }
    if ((value = option_value("--variant", argc, argv, &i, &missing)) != NULL || missing) {
      if (missing)
        return usage_error(info, "missing variant name after", arg);
      size_t v = 0;
      while (v < info->variant_count && strcmp(info->variants[v], value) != 0)
        v++;
      if (v == info->variant_count)
        return usage_error(info, "unknown variant (see --list-variants):", value);
      out->variant = v;
      continue;
    }
    if ((value = option_value("--scale", argc, argv, &i, &missing)) != NULL || missing) {
      if (missing)
        return usage_error(info, "missing number after", arg);
      char *end;
      errno = 0;
      double f = strtod(value, &end);
      if (end == value || *end != '\0' || errno != 0 || !isfinite(f) || !(f > 0.0) || f > 1.0)
        return usage_error(info, "--scale wants a number with 0 < F <= 1, got", value);
      out->scale = f;
      continue;
    }
    int taken = lesson_option(info, argc, argv, &i);
    if (taken > 0)
      continue;
    if (taken < 0)
      return 2;
    return usage_error(info, "unknown argument", arg);
  }
  return -1;
}

unsigned long scenario_scaled(unsigned long base, double scale)
{
  double v = nearbyint((double)base * scale);
  return v < 1.0 ? 1UL : (unsigned long)v;
}
