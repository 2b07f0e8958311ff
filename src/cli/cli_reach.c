/* cli_reach.c - the exit scan of a capture for reports: its REACH section against the symbolised end snapshot, the roots named. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "capture_format.h"
#include "capture_reach.h"
#include "capture_read.h"
#include "snapfile.h"
#include "symbolize.h"

static const char *const root_kind[] = {"global", "stack", "tls", "register"};

/* "global g_memo (method_cache.c)", "stack of thread 0 in main", ... into the arena. */
static const char *root_text(ll__arena_t *a, ll_symbolizer_t *s, const ll_cap_reach_root_t *r) {
  char what[512], name[400];
  switch (r->kind) {
  case LL_CAP_ROOT_GLOBAL:
    if (s != NULL) ll_symbolize_global(s, r->addr, name, sizeof name);
    else snprintf(name, sizeof name, "0x%" PRIx64, r->addr);
    snprintf(what, sizeof what, "global %s", name);
    break;
  case LL_CAP_ROOT_STACK:
    if (r->ip != 0 && s != NULL && ll_symbolize_function(s, r->ip, name, sizeof name) == 0)
      snprintf(what, sizeof what, "stack of thread %" PRIu32 " in %s", r->thread, name);
    else
      snprintf(what, sizeof what, "stack of thread %" PRIu32, r->thread);
    break;
  case LL_CAP_ROOT_TLS:
    snprintf(what, sizeof what, "thread-local storage of thread %" PRIu32, r->thread);
    break;
  default:
    snprintf(what, sizeof what, "a register of thread %" PRIu32, r->thread);
    break;
  }
  return ll__arena_strdup(a, what);
}

int ll__load_reach(const char *path, int native, ll__reach_load_t *out) {
  ll_capture_t *cap = NULL;
  int rc = ll_capture_open(path, &cap);
  memset(out, 0, sizeof *out);
  if (rc != 0) return ll__runtime_error(path, rc, NULL);
  int status = ll__load_reach_cap(path, cap, native, out);
  ll_capture_close(cap);
  return status;
}

int ll__load_reach_cap(const char *path, const ll_capture_t *cap, int native,
                       ll__reach_load_t *out) {
  ll_symbolizer_t *s = NULL;
  const void *data;
  size_t len;
  ll_cap_reach_t h;
  int rc, status = 0;

  memset(out, 0, sizeof *out);
  if (ll_capture_section(cap, LL_CAP_SEC_REACH, &data, &len) != 0) goto cleanup; /* no scan */
  if ((out->arena = ll__arena_new()) == NULL) {
    status = ll__runtime_error(path, LL_ENOMEM, NULL);
    goto cleanup;
  }
  if ((rc = ll_symbolize_capture(cap, LL_AT_END, native, &out->end)) != 0 ||
      (rc = ll_cap_decode_reach(data, len, out->end->ntraces, out->arena, &h)) != 0) {
    status = ll__runtime_error(path, rc, " (exit scan)");
    goto cleanup;
  }
  const ll_cap_module_t *cm;
  size_t ncm;
  if (ll_capture_modules(cap, &cm, &ncm) == 0)
    ll_symbolizer_new(cm, ncm, &s); /* roots unnamed when it fails */
  ll_reach_kinds_t *tr = ll__arena_alloc(out->arena, (h.ntrace + 1) * sizeof *tr);
  ll_reach_edge_t *ed = ll__arena_alloc(out->arena, (h.nedge + 1) * sizeof *ed);
  ll_reach_root_t *ro = ll__arena_alloc(out->arena, (h.nroot + 1) * sizeof *ro);
  if (tr == NULL || ed == NULL || ro == NULL) {
    status = ll__runtime_error(path, LL_ENOMEM, NULL);
    goto cleanup;
  }
  for (uint32_t i = 0; i < h.ntrace; i++)
    for (int k = 0; k < LL_REACH_KINDS; k++) {
      tr[i].bytes[k] = h.trace_bytes[i][k];
      tr[i].blocks[k] = h.trace_blocks[i][k];
    }
  for (uint32_t i = 0; i < h.nedge; i++)
    ed[i] = (ll_reach_edge_t){h.edges[i].holder, h.edges[i].held, h.edges[i].blocks, h.edges[i].bytes};
  for (uint32_t i = 0; i < h.nroot; i++) {
    const ll_cap_reach_root_t *r = &h.roots[i];
    ro[i] = (ll_reach_root_t){r->held, root_kind[r->kind], root_text(out->arena, s, r), r->blocks, r->bytes};
    if (ro[i].what == NULL) {
      status = ll__runtime_error(path, LL_ENOMEM, NULL);
      goto cleanup;
    }
  }
  out->info.end = out->end;
  out->info.traces = tr;
  for (int k = 0; k < LL_REACH_KINDS; k++) {
    out->info.total.bytes[k] = h.bytes[k];
    out->info.total.blocks[k] = h.blocks[k];
  }
  out->info.nedge = h.nedge;
  out->info.edges = ed;
  out->info.nroot = h.nroot;
  out->info.roots = ro;
  out->info.scan_ns = h.scan_ns;
  out->info.cpu_ns = h.cpu_ns;
  out->info.heap_read = h.heap_scanned;
  out->info.root_read = h.root_scanned;
  out->info.threads = h.nthread;
  out->found = 1;
cleanup:
  ll_symbolizer_free(s);
  if (status != 0) ll__reach_load_free(out);
  return status;
}

void ll__reach_load_free(ll__reach_load_t *r) {
  ll_snapshot_free(r->end);
  ll__arena_free(r->arena);
  memset(r, 0, sizeof *r);
}
