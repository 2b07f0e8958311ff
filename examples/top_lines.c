/* top_lines.c - the hooks header in ten lines: which lines hold memory now, and at the peak. */
#include <stdio.h>

#include <leaklab/hooks.h> /* routes malloc & co. through leaklab, with __FILE__:__LINE__ */
#include <leaklab/report.h>

static char *names[1000];

static void print_top(const char *title, ll_snapshot_t *snap) {
  ll_stats_t *stats = NULL;
  char line[512];
  printf("%s\n", title);
  if (ll_snapshot_statistics(snap, LL_GROUP_LINENO, 0, &stats) == 0) {
    for (size_t i = 0; i < stats->len && i < 3; i++) {
      ll_format_stat(line, sizeof line, &stats->items[i], 0);
      printf("  %s\n", line);
    }
  }
  ll_stats_free(stats);
  ll_snapshot_free(snap);
}

int main(void) {
  ll_start(1);
  for (int i = 0; i < 1000; i++) {
    names[i] = malloc(32);                       /* kept: 32000 bytes */
    snprintf(names[i], 32, "name-%d", i);
  }
  char *scratch = malloc(100000);                /* a big temporary buffer */
  free(scratch);
  char *copy = strdup("still here at the end"); /* 22 bytes, never freed */
  (void)copy;

  size_t current, peak;
  ll_get_traced_memory(&current, &peak);
  printf("current=%zu B peak=%zu B\n", current, peak);
  ll_snapshot_t *now = NULL, *at_peak = NULL;
  ll_take_snapshot(&now);
  ll_take_peak_snapshot(&at_peak);
  print_top("[ top lines now ]", now);
  print_top("[ top lines at the peak ]", at_peak);
  for (int i = 0; i < 1000; i++) free(names[i]);
  return 0;
}
