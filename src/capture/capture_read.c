/* capture_read.c - the capture reader: one verified file image, each extra section decoded once at open. */
#include "capture_read.h"

#include <stdlib.h>

#include "arena.h"
#include "snapfile.h"

struct ll_capture {
  ll__snapfile_t *file;
  ll__arena_t *arena; /* decoded sections */
  int modules_rc, process_rc, timeline_rc, histogram_rc, jemalloc_rc, lines_rc,
      budget_rc;
  ll_cap_module_t *mods;
  size_t nmod;
  ll_cap_process_t process;
  ll_cap_timeline_t timeline;
  ll_cap_histogram_t histogram;
  ll_cap_jemalloc_t jemalloc;
  ll_cap_lines_t lines;
  ll_cap_budget_t budget;
};

/* The first section of `type`: 0, or LL_ENOVIEW when the file has none. */
static int section(const ll_capture_t *c, uint32_t type, const void **data, size_t *len) {
  return ll__snapfile_section(c->file, type, 0, data, len);
}

/* Decode every known section; only running out of memory fails (a bad section keeps its rc). */
static int decode_all(ll_capture_t *c) {
  const void *d;
  size_t n;
  if ((c->modules_rc = section(c, LL_CAP_SEC_MODULES, &d, &n)) == 0)
    c->modules_rc = ll_cap_decode_modules(d, n, c->arena, &c->mods, &c->nmod);
  if ((c->process_rc = section(c, LL_CAP_SEC_PROCESS, &d, &n)) == 0)
    c->process_rc = ll_cap_decode_process(d, n, c->arena, &c->process);
  if ((c->timeline_rc = section(c, LL_CAP_SEC_TIMELINE, &d, &n)) == 0)
    c->timeline_rc = ll_cap_decode_timeline(d, n, c->arena, &c->timeline);
  if ((c->histogram_rc = section(c, LL_CAP_SEC_HISTOGRAM, &d, &n)) == 0)
    c->histogram_rc = ll_cap_decode_histogram(d, n, &c->histogram);
  if ((c->jemalloc_rc = section(c, LL_CAP_SEC_JEMALLOC, &d, &n)) == 0)
    c->jemalloc_rc = ll_cap_decode_jemalloc(d, n, &c->jemalloc);
  if ((c->lines_rc = section(c, LL_CAP_SEC_LINES, &d, &n)) == 0)
    c->lines_rc = ll_cap_decode_lines(d, n, c->arena, &c->lines);
  if ((c->budget_rc = section(c, LL_CAP_SEC_BUDGET, &d, &n)) == 0)
    c->budget_rc = ll_cap_decode_budget(d, n, &c->budget);
  int rcs[] = {c->modules_rc,   c->process_rc,  c->timeline_rc, c->histogram_rc,
               c->jemalloc_rc, c->lines_rc,    c->budget_rc};
  for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
    if (rcs[i] == LL_ENOMEM) return LL_ENOMEM;
  return 0;
}

/* Takes `file` (closed on failure). */
static int finish_open(ll__snapfile_t *file, ll_capture_t **out) {
  ll_capture_t *c = calloc(1, sizeof *c);
  int rc = LL_ENOMEM;
  if (c == NULL) goto fail;
  c->file = file;
  file = NULL;
  if ((c->arena = ll__arena_new()) == NULL) goto fail;
  if ((rc = decode_all(c)) != 0) goto fail;
  *out = c;
  return 0;
fail:
  ll__snapfile_close(file);
  ll_capture_close(c);
  return rc;
}

int ll_capture_open(const char *path, ll_capture_t **out) {
  ll__snapfile_t *f = NULL;
  if (path == NULL || out == NULL) return LL_EINVAL;
  int rc = ll__snapfile_open(path, &f);
  return rc != 0 ? rc : finish_open(f, out);
}

int ll_capture_open_buffer(const void *buf, size_t len, ll_capture_t **out) {
  ll__snapfile_t *f = NULL;
  if (buf == NULL || out == NULL) return LL_EINVAL;
  int rc = ll__snapfile_open_buffer(buf, len, &f);
  return rc != 0 ? rc : finish_open(f, out);
}

void ll_capture_close(ll_capture_t *c) {
  if (c == NULL) return;
  ll__arena_free(c->arena);
  ll__snapfile_close(c->file);
  free(c);
}

int ll_capture_section(const ll_capture_t *c, uint32_t type, const void **data, size_t *len) {
  return section(c, type, data, len);
}

unsigned ll_capture_views(const ll_capture_t *c) { return ll__snapfile_views(c->file); }

int ll_capture_load(const ll_capture_t *c, ll_at_t at, ll_snapshot_t **out) {
  return ll__snapfile_load(c->file, at, out);
}

int ll_capture_load_many(const ll_capture_t *c, const ll_at_t *at, size_t n, ll_snapshot_t **out) {
  return ll__snapfile_load_many(c->file, at, n, out);
}

int ll_capture_modules(const ll_capture_t *c, const ll_cap_module_t **mods, size_t *n) {
  *mods = c->modules_rc == 0 ? c->mods : NULL;
  *n = c->modules_rc == 0 ? c->nmod : 0;
  return c->modules_rc;
}

int ll_capture_process(const ll_capture_t *c, const ll_cap_process_t **out) {
  *out = c->process_rc == 0 ? &c->process : NULL;
  return c->process_rc;
}

int ll_capture_timeline(const ll_capture_t *c, const ll_cap_timeline_t **out) {
  *out = c->timeline_rc == 0 ? &c->timeline : NULL;
  return c->timeline_rc;
}

int ll_capture_histogram(const ll_capture_t *c, const ll_cap_histogram_t **out) {
  *out = c->histogram_rc == 0 ? &c->histogram : NULL;
  return c->histogram_rc;
}

int ll_capture_jemalloc(const ll_capture_t *c, const ll_cap_jemalloc_t **out) {
  *out = c->jemalloc_rc == 0 ? &c->jemalloc : NULL;
  return c->jemalloc_rc;
}

int ll_capture_lines(const ll_capture_t *c, const ll_cap_lines_t **out) {
  *out = c->lines_rc == 0 ? &c->lines : NULL;
  return c->lines_rc;
}

int ll_capture_budget(const ll_capture_t *c, const ll_cap_budget_t **out) {
  *out = c->budget_rc == 0 ? &c->budget : NULL;
  return c->budget_rc;
}

int ll_capture_native(const ll_capture_t *c) {
  return c->process_rc == 0 && (c->process.flags & LL_CAP_F_NATIVE) != 0;
}
