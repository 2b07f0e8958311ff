/* main.c - chunked lesson program: the sum of inverse squares over N terms, three ways. */
#include <stdio.h>

#include "chunked.h"
#include "scenario_args.h"

int main(int argc, char **argv)
{
  static unsigned long chunk = CK_DEFAULT_CHUNK;
  static const struct scenario_option options[] = {
    {"--chunk", "N", "terms per chunk, variant chunked (default 4096)", 1, &chunk},
  };
  static const struct scenario_info info = {
    .name = "chunked",
    .summary = "sum of 1/k^2 over N terms: full-size temporary arrays vs chunks vs a stream",
    .variants = ck_variant_names,
    .variant_count = CK_VARIANT_COUNT,
    .options = options,
    .option_count = 1,
  };
  struct scenario_args args;
  int status = scenario_parse_args(&info, argc, argv, &args);
  if (status >= 0)
    return status;

  enum ck_variant v = (enum ck_variant)args.variant;
  size_t n = scenario_scaled(CK_DEFAULT_TERMS, args.scale);
  /* Every variant prints the same lines: the result must not depend on how it was computed. */
  printf("terms: %zu (1/1^2 + ... + 1/%zu^2, smallest term added first)\n", n, n);
  double sum = ck_basel(v, n, chunk);
  const double pi = 3.14159265358979323846;
  printf("sum: %.17g\n", sum);
  printf("pi^2/6 - sum: %.6e (the tail, about 1/N = %.6e)\n", pi * pi / 6.0 - sum, 1.0 / (double)n);
  return fflush(stdout) == 0 ? 0 : 3;
}
