/* symbolize_reuse.c - the last symboliser freed is kept for the next one asked for the same module map: a report opens each module and debug file once, not once per moment. */
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

/* The idle one (NULL: none). An HTML report loads up to a dozen moments and sections of one
 * capture, each with its own symboliser: re-reading libc's compressed DWARF for each took
 * 0.5 s of the 0.6 s a churn capture's page took to write. */
static ll_symbolizer_t *g_idle;
static int g_at_exit;

static void drop_idle(void) {
  ll__symbolizer_close(g_idle);
  g_idle = NULL;
}

static int same_map(const ll_cap_module_t *a, size_t na, const ll_cap_module_t *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].bias != b[i].bias || a[i].lo != b[i].lo || a[i].hi != b[i].hi ||
        a[i].flags != b[i].flags || a[i].build_id_len != b[i].build_id_len ||
        strcmp(a[i].path, b[i].path) != 0 ||
        (a[i].build_id_len > 0 && memcmp(a[i].build_id, b[i].build_id, a[i].build_id_len) != 0))
      return 0;
  return 1;
}

int ll_symbolizer_new(const ll_cap_module_t *mods, size_t nmod, ll_symbolizer_t **out) {
  if (g_idle != NULL) {
    size_t n;
    const ll_cap_module_t *kept = ll__symbolizer_map(g_idle, &n);
    if (same_map(kept, n, mods, nmod)) {
      *out = g_idle;
      g_idle = NULL;
      return 0;
    }
  }
  return ll__symbolizer_open(mods, nmod, out);
}

void ll_symbolizer_free(ll_symbolizer_t *s) {
  if (s == NULL) return;
  if (!g_at_exit) g_at_exit = atexit(drop_idle) == 0 ? 1 : -1;
  if (g_at_exit < 0) { /* nobody would free it at exit: not kept */
    ll__symbolizer_close(s);
    return;
  }
  drop_idle();
  g_idle = s;
}
