/* preload_jemalloc.c - jemalloc's own figures at the end of the run (the JEMALLOC section). */
#include "preload_jemalloc.h"

#include <dlfcn.h>
#include <stdint.h>

#include "capture_write.h"
#include "preload_state.h"

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static unsigned char g_section[LL_CAP_JEMALLOC_LEN];

/* The mallctl of the allocator the hooks pass calls on to, or NULL. Looked up here, when the
 * capture is written, never on the allocation path; kept only when it lives in the same module
 * as the next malloc, so a jemalloc that is loaded but not the program's allocator (a library
 * dlopen'd late) is never asked about memory it did not hand out. */
static mallctl_fn find_mallctl(void) {
  void *f = dlsym(RTLD_DEFAULT, "mallctl");
  Dl_info a, b;
  if (f == NULL || ll__pl_real.malloc == NULL) return NULL;
  if (dladdr(f, &a) == 0 || dladdr((void *)(uintptr_t)ll__pl_real.malloc, &b) == 0) return NULL;
  return a.dli_fbase == b.dli_fbase ? (mallctl_fn)(uintptr_t)f : NULL;
}

/* stats.allocated, .active, .resident, .mapped after refreshing them (writing "epoch": they are
 * cached until then). 0, or -1 when the allocator is not jemalloc or has no statistics. */
static int read_jemalloc(ll_cap_jemalloc_t *j) {
  static const char *const names[4] = {"stats.allocated", "stats.active", "stats.resident",
                                       "stats.mapped"};
  uint64_t *dst[4] = {&j->allocated, &j->active, &j->resident, &j->mapped};
  mallctl_fn ctl = find_mallctl();
  uint64_t epoch = 1;
  size_t sz = sizeof epoch;
  if (ctl == NULL || ctl("epoch", &epoch, &sz, &epoch, sz) != 0) return -1;
  for (int i = 0; i < 4; i++) {
    size_t v = 0;
    sz = sizeof v;
    if (ctl(names[i], &v, &sz, NULL, 0) != 0 || sz != sizeof v) return -1;
    *dst[i] = v;
  }
  return 0;
}

int ll__pl_jemalloc_section(const void **data, size_t *len) {
  ll_cap_jemalloc_t je;
  if (read_jemalloc(&je) != 0) return -1;
  ll_cap_encode_jemalloc(g_section, &je);
  *data = g_section;
  *len = sizeof g_section;
  return 0;
}
