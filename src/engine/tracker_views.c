/* tracker_views.c - snapshot traces and frames built from the interned tracebacks' counters (current, peak, temporary, allocations). */
#include <string.h>

#include "tracker_views.h"

void ll__view_frame(const ll__intern_t *in, uint64_t key, ll_frame_t *f) {
  if (key & LL__KEY_SYM) {
    const ll__loc_t *loc = &in->locs[key & ~LL__KEY_SYM];
    f->filename = loc->file->s;
    f->function = loc->func->s;
    f->lineno = loc->line;
    f->ip = 0;
  } else {
    f->filename = "<unknown>";
    f->function = "";
    f->lineno = 0;
    f->ip = key;
  }
}

static void tb_value(const ll__tb_t *tb, ll__view_t v, uint64_t gen, uint64_t *size,
                     uint64_t *usable, uint64_t *count) {
  if (v == LL__VIEW_TEMPORARY) {
    *size = tb->tmp_size, *usable = tb->tmp_usable, *count = tb->tmp_count;
  } else if (v == LL__VIEW_ALLOCATIONS) {
    *size = tb->all_size, *usable = tb->all_usable, *count = tb->all_count;
  } else if (v == LL__VIEW_PEAK && tb->pk_gen == gen) {
    *size = tb->pk_size, *usable = tb->pk_usable, *count = tb->pk_count;
  } else {
    *size = tb->cur_size, *usable = tb->cur_usable, *count = tb->cur_count;
  }
}

/* A string copied into the snapshot arena once, however many frames name it. */
static const char *snap_str(ll__arena_t *a, const char **copies, const ll__str_t *s) {
  if (copies[s->id] == NULL) {
    char *d = ll__arena_alloc(a, (size_t)s->len + 1);
    if (d == NULL) return NULL;
    memcpy(d, s->s, (size_t)s->len + 1);
    copies[s->id] = d;
  }
  return copies[s->id];
}

static int build(const ll__intern_t *in, ll__view_t view, uint64_t gen, ll__arena_t *a,
                 const char **copies, ll_snapshot_t *snap) {
  size_t n = 0;
  uint64_t size, usable, count;
  const char *unknown = NULL, *empty = NULL;
  for (size_t i = 0; i < in->ntb; i++) {
    tb_value(&in->tbs[i], view, gen, &size, &usable, &count);
    n += count > 0;
  }
  ll_trace_t *traces = ll__arena_alloc(a, n * sizeof *traces);
  if (traces == NULL) return LL_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < in->ntb; i++) {
    const ll__tb_t *tb = &in->tbs[i];
    tb_value(tb, view, gen, &size, &usable, &count);
    if (count == 0) continue;
    ll_traceback_t *t = ll__arena_alloc(a, sizeof *t);
    ll_frame_t *frames = ll__arena_alloc(a, tb->nframe * sizeof *frames);
    if (t == NULL || frames == NULL) return LL_ENOMEM;
    for (uint32_t j = 0; j < tb->nframe; j++) {
      ll__view_frame(in, tb->keys[j], &frames[j]);
      if (tb->keys[j] & LL__KEY_SYM) {
        const ll__loc_t *loc = &in->locs[tb->keys[j] & ~LL__KEY_SYM];
        frames[j].filename = snap_str(a, copies, loc->file);
        frames[j].function = snap_str(a, copies, loc->func);
        if (frames[j].filename == NULL || frames[j].function == NULL) return LL_ENOMEM;
      } else { /* even constant strings live in the arena: a snapshot is one arena */
        if (unknown == NULL && ((unknown = ll__arena_strdup(a, "<unknown>")) == NULL ||
                                (empty = ll__arena_strdup(a, "")) == NULL))
          return LL_ENOMEM;
        frames[j].filename = unknown;
        frames[j].function = empty;
      }
    }
    t->nframe = tb->nframe;
    t->total_nframe = tb->total_nframe;
    t->frames = frames;
    traces[k].traceback = t;
    traces[k].size = size;
    traces[k].usable = usable;
    traces[k].count = count;
    k++;
  }
  snap->ntraces = n;
  snap->traces = traces;
  return 0;
}

int ll__view_traces(const ll__intern_t *in, ll__view_t view, uint64_t gen, ll__arena_t *a,
                    ll_snapshot_t *snap) {
  /* One slot per interned string, freed right after: transient, not tracker memory. */
  size_t copies_len = (in->str_count ? in->str_count : 1) * sizeof(const char *);
  const char **copies = ll__mmap_alloc(copies_len);
  if (copies == NULL) return LL_ENOMEM;
  int rc = build(in, view, gen, a, copies, snap);
  ll__mmap_free((void *)copies, copies_len);
  return rc;
}
