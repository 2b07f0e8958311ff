/* main.c - memo_tables lesson program: Fibonacci and a config validator, three ways each. */
#include <inttypes.h>
#include <stdio.h>

#include "memo_tables.h"
#include "scenario_args.h"

static void print_memo(const char *what, const struct mt_memo_stats *m)
{
  printf("%s memo: %zu entries x %zu B = %zu B, + %zu buckets x %zu B = %zu B; "
         "%zu B in all, %.1f B per entry\n",
         what, m->entries, m->entry_bytes, m->entries * m->entry_bytes, m->buckets,
         m->bucket_bytes / (m->buckets ? m->buckets : 1), m->bucket_bytes,
         m->entries * m->entry_bytes + m->bucket_bytes,
         m->entries ? (double)(m->entries * m->entry_bytes + m->bucket_bytes) / (double)m->entries
                    : 0.0);
}

/* The validator's memo under --keep-memo: a cache that lives as long as the program (a
 * module-level @lru_cache), reachable from here until exit. */
static mt_memo *kept_memo;

int main(int argc, char **argv)
{
  static unsigned long memo_size = 0, keep_memo = 0;
  static const struct scenario_option options[] = {
    {"--memo-size", "N", "memoized: bound the validator's memo to N entries (default 0: unbounded)",
     0, &memo_size},
    {"--keep-memo", NULL, "memoized: keep the validator's memo until exit instead of freeing it", 0,
     &keep_memo},
  };
  static const struct scenario_info info = {
    .name = "memo_tables",
    .summary = "Fibonacci and a config validator: recompute, memoise in a hash, or precompute a table",
    .variants = mt_variant_names,
    .variant_count = MT_VARIANT_COUNT,
    .options = options,
    .option_count = 2,
  };
  struct scenario_args args;
  int status = scenario_parse_args(&info, argc, argv, &args);
  if (status >= 0)
    return status;

  enum mt_variant v = (enum mt_variant)args.variant;
  unsigned n = (unsigned)scenario_scaled(MT_DEFAULT_FIB, args.scale);
  uint64_t events = scenario_scaled(MT_DEFAULT_EVENTS, args.scale);

  /* The "fib(" and "valid events:" lines are the results: the same for every variant. The
   * other lines say what each variant did to get them, and what it kept. */
  printf("variant: %s\n", mt_variant_names[v]);
  struct mt_fib_report fib;
  mt_fib(v, n, &fib);
  printf("fib(%u) = %" PRIu64 "\n", n, fib.value);
  if (v == MT_PRECOMPUTED)
    printf("fib work: %" PRIu64 " additions into a table of %u x 8 B = %zu B\n", fib.additions,
           n + 1, fib.table_bytes);
  else
    printf("fib work: %" PRIu64 " calls, %" PRIu64 " additions\n", fib.calls, fib.additions);
  if (v == MT_MEMOIZED)
    print_memo("fib", &fib.memo);

  struct mt_validation val;
  mt_validate(v, events, memo_size, keep_memo ? &kept_memo : NULL, &val);
  printf("validator: %u rules x %u values = %u possible keys, %" PRIu64 " events\n", MT_RULES,
         MT_VALUES, MT_RULES * MT_VALUES, events);
  printf("valid events: %" PRIu64 " of %" PRIu64 ", verdict checksum %016" PRIx64 "\n", val.valid,
         val.events, val.checksum);
  printf("validator work: %" PRIu64 " rule evaluations\n", val.evaluations);
  if (v == MT_MEMOIZED) {
    printf("memo hits: %" PRIu64 ", misses: %" PRIu64 "\n", val.memo.hits, val.memo.misses);
    print_memo("validator", &val.memo);
  }
  if (v == MT_PRECOMPUTED)
    printf("validator table: %u x %u x 1 B = %zu B, 1 B per possible key\n", MT_RULES, MT_VALUES,
           val.table_bytes);
  return fflush(stdout) == 0 ? 0 : 3;
}
