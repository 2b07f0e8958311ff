/* main.c - method_cache lesson program: count last digits of factorial_plus over two runs. */
#include <inttypes.h>
#include <stdio.h>

#include "method_cache.h"
#include "scenario_args.h"

/* The module's state. Not static on purpose: like a module-level functools.cache it must stay
 * referenced until the process ends, and a static that is never read again could be dropped by
 * the optimiser, turning "still reachable" into "lost" under memcheck. */
mc_world *method_cache_module;

static void print_run(unsigned long plus_range, unsigned long factorial_range,
                      const uint64_t counts[10])
{
  printf("last digits (%lu, %lu):", plus_range, factorial_range);
  for (unsigned d = 0; d < 10; d++)
    printf(" %u=%" PRIu64, d, counts[d]);
  printf("\n");
}

int main(int argc, char **argv)
{
  static const struct scenario_info info = {
    .name = "method_cache",
    .summary = "memray exercise 3 in C: a memoised factorial_plus whose cache pins its instances",
    .variants = mc_variant_names,
    .variant_count = MC_VARIANT_COUNT,
  };
  struct scenario_args args;
  int status = scenario_parse_args(&info, argc, argv, &args);
  if (status >= 0)
    return status;

  method_cache_module = mc_world_new((enum mc_variant)args.variant);
  const unsigned long ranges[2] = {MC_RUN1_RANGE, MC_RUN2_RANGE};
  for (int run = 0; run < 2; run++) {
    unsigned long r = scenario_scaled(ranges[run], args.scale);
    uint64_t counts[10] = {0};
    mc_count_last_digits(method_cache_module, r, r, counts);
    print_run(r, r, counts);
  }
  /* The module-level cache is deliberately not freed: it lives until exit, as in Python. */
  return fflush(stdout) == 0 ? 0 : 3;
}
