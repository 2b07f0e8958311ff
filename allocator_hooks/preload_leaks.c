/* preload_leaks.c - the leak rule: which blocks live at exit are the program's leaks (the LEAKS snapshot). */
#include "preload_leaks.h"

#include <stdio.h>

#include "preload_modules.h"
#include "preload_state.h"
#include "snapshot.h"

/* A trace leaks when any frame of its stack is the program's own code: blocks only the C
 * runtime, the loader or a library's own start-up ever touched are theirs, not the program's. */
static int trace_is_own(const ll_trace_t *t) {
  for (uint32_t i = 0; i < t->traceback->nframe; i++) {
    uintptr_t ip = (uintptr_t)t->traceback->frames[i].ip;
    if (ip != 0 && ll__pl_ip_is_code(ip) && ll__pl_ip_is_own(ip)) return 1;
  }
  return 0;
}

static int same_frames(const ll_traceback_t *tb, const ll_frame_t *fr, int n) {
  if ((int)tb->nframe != n) return 0;
  for (int i = 0; i < n; i++)
    if (tb->frames[i].ip != fr[i].ip) return 0;
  return 1;
}

/* The standard streams' buffers belong to the C runtime, which never frees them, even though
 * the program's first printf made them: taken out of the leaks, block by block. */
static void drop_stdio_buffers(ll_trace_t *traces, size_t n) {
  FILE *streams[3] = {stdin, stdout, stderr};
  ll_frame_t fr[LL__PL_MAX_FRAMES];
  for (int s = 0; s < 3; s++) {
    char *base = streams[s]->_IO_buf_base, *end = streams[s]->_IO_buf_end;
    if (base == NULL || end <= base) continue;
    uint64_t size = (uint64_t)(end - base);
    int nf = ll_get_object_traceback(base, fr, LL__PL_MAX_FRAMES);
    if (nf <= 0) continue;
    for (size_t i = 0; i < n; i++) {
      if (traces[i].count == 0 || traces[i].size < size || !same_frames(traces[i].traceback, fr, nf))
        continue;
      traces[i].count--;
      traces[i].size -= size;
      traces[i].usable -= traces[i].usable >= size ? size : traces[i].usable;
      break;
    }
  }
}

int ll__pl_leaks_snapshot(const ll_snapshot_t *end, ll_snapshot_t **out) {
  ll_snapshot_t *s;
  ll_trace_t *tr;
  int rc = ll__snapshot_derive(end, LL_AT_LEAKS, &s, &tr);
  if (rc != 0) return rc;
  size_t k = 0;
  for (size_t i = 0; i < end->ntraces; i++)
    if (trace_is_own(&end->traces[i])) tr[k++] = end->traces[i];
  drop_stdio_buffers(tr, k);
  size_t j = 0;
  for (size_t i = 0; i < k; i++)
    if (tr[i].count > 0) tr[j++] = tr[i];
  s->ntraces = j;
  *out = s;
  return 0;
}
