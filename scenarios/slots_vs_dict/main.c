/* main.c - slots_vs_dict lesson program: a million two-attribute objects, kept, summed, freed. */
#include <inttypes.h>
#include <stdio.h>

#include "scenario_args.h"
#include "slots_vs_dict.h"

int main(int argc, char **argv)
{
  static const struct scenario_info info = {
    .name = "slots_vs_dict",
    .summary = "a million two-attribute objects: attribute dict vs __slots__ vs a plain struct",
    .variants = sv_variant_names,
    .variant_count = SV_VARIANT_COUNT,
  };
  struct scenario_args args;
  int status = scenario_parse_args(&info, argc, argv, &args);
  if (status >= 0)
    return status;

  enum sv_variant v = (enum sv_variant)args.variant;
  size_t n = scenario_scaled(SV_DEFAULT_OBJECTS, args.scale);
  struct sv_layout l;
  sv_layout_of(v, &l);

  printf("variant: %s, objects: %zu\n", sv_variant_names[v], n);
  printf("sizeof: header %zu B, attribute dict %zu B, boxed int %zu B\n", l.header_bytes,
         l.dict_bytes, l.box_bytes);
  /* The breakdown names only the parts this variant has. */
  printf("per object: %zu heap block%s, %zu B requested = %zu B header", l.allocations,
         l.allocations == 1 ? "" : "s", l.requested_bytes, l.header_bytes);
  if (l.dict_bytes)
    printf(" + %zu B dict", l.dict_bytes);
  if (l.boxes)
    printf(" + %zu x %zu B boxed int", l.boxes, l.box_bytes);
  printf("\n");
  printf("array of references: %zu B\n", n * sizeof(void *));
  printf("requested while all objects live: %zu B\n", n * l.requested_bytes + n * sizeof(void *));
  int64_t sum = sv_run(v, n);
  printf("sum of _a + _b: %" PRId64 "\n", sum);
  return fflush(stdout) == 0 ? 0 : 3;
}
