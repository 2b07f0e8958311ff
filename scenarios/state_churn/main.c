/* main.c - state_churn lesson program: the first delay at which a packet crosses the firewall. */
#include <inttypes.h>
#include <stdio.h>

#include "scenario_args.h"
#include "state_churn.h"

int main(int argc, char **argv)
{
  static const struct scenario_info info = {
    .name = "state_churn",
    .summary = "a packet crossing moving scanners: copy the state every step, advance it in place, or compute",
    .variants = sc_variant_names,
    .variant_count = SC_VARIANT_COUNT,
  };
  struct scenario_args args;
  int status = scenario_parse_args(&info, argc, argv, &args);
  if (status >= 0)
    return status;

  sc_firewall *fw = sc_firewall_lesson(scenario_scaled(SC_DEFAULT_LAYERS, args.scale));
  /* Every variant prints the same lines: how it searched is for leaklab to show. */
  printf("firewall: %zu scanners over %u depths, ranges:", fw->count, fw->depths);
  for (size_t i = 0; i < fw->count; i++)
    printf(" %u", fw->layers[i].range);
  printf("\n");
  struct sc_result r;
  sc_find_delay((enum sc_variant)args.variant, fw, UINT64_C(1) << 40, &r);
  sc_firewall_free(fw);
  if (!r.found) {
    fputs("state_churn: no delay gets through\n", stderr);
    return 3;
  }
  printf("first safe delay: %" PRIu64 "\n", r.delay);
  return fflush(stdout) == 0 ? 0 : 3;
}
