/* symbolize.c - native frames to function (file:line) with libdw, inlined frames expanded, then attributed. */
#include "symbolize.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "capture_format.h"
#include "symbolize_debuginfo.h"
#include "symbolize_pmap.h"
#include "symbolize_priv.h"

struct ll_symbolizer {
  ll__arena_t *arena;
  const ll_cap_module_t *mods; /* a copy of the capture's, in arena */
  size_t nmod;
  unsigned char *usable; /* per module: symbolise it (file present, same build) */
  Dwfl *dwfl;
  ll__pmap_t units; /* CU DIE address -> fn_index_t (built on first use) */
};

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = ll__find_debuginfo, /* separate -dbgsym files; never a FIFO */
    .section_address = NULL,
    .debuginfo_path = NULL,
};

static int same_build(Dwfl_Module *m, const ll_cap_module_t *cm) {
  const unsigned char *bits;
  GElf_Addr vaddr;
  if (cm->build_id_len == 0) return 1; /* nothing recorded to compare with */
  int n = dwfl_module_build_id(m, &bits, &vaddr);
  return n == (int)cm->build_id_len && memcmp(bits, cm->build_id, (size_t)n) == 0;
}

/* A module's file, opened for libdw, or -1 when it is gone or not a regular file: a capture may
 * name a path that is now a FIFO or a device, which must not be waited on or read. */
static int open_module(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The module map, copied into the symboliser's arena: it may outlive the capture (reuse). */
static ll_cap_module_t *copy_map(ll__arena_t *a, const ll_cap_module_t *mods, size_t nmod) {
  ll_cap_module_t *m = ll__arena_alloc(a, (nmod + 1) * sizeof *m);
  for (size_t i = 0; m != NULL && i < nmod; i++) {
    unsigned char *id = ll__arena_alloc(a, mods[i].build_id_len + 1);
    m[i] = mods[i];
    m[i].path = ll__arena_strdup(a, mods[i].path);
    if (id == NULL || m[i].path == NULL) return NULL;
    if (mods[i].build_id_len > 0) memcpy(id, mods[i].build_id, mods[i].build_id_len);
    m[i].build_id = id;
  }
  return m;
}

static uint64_t g_opens;
uint64_t ll__symbolizer_opens(void) { return g_opens; }

int ll__symbolizer_open(const ll_cap_module_t *mods, size_t nmod, ll_symbolizer_t **out) {
  ll_symbolizer_t *s = NULL;
  g_opens++;
  ll__arena_t *a = ll__arena_new();
  int rc = LL_ENOMEM;
  if (a == NULL) return LL_ENOMEM;
  if ((s = ll__arena_alloc(a, sizeof *s)) == NULL) goto cleanup;
  s->arena = a;
  if ((s->mods = copy_map(a, mods, nmod)) == NULL) goto cleanup;
  s->nmod = nmod;
  if ((s->usable = ll__arena_alloc(a, s->nmod + 1)) == NULL) goto cleanup;
  if ((s->dwfl = dwfl_begin(&callbacks)) == NULL) goto cleanup;
  dwfl_report_begin(s->dwfl);
  for (size_t i = 0; i < s->nmod; i++) {
    const ll_cap_module_t *m = &s->mods[i];
    int fd = m->path[0] == '/' ? open_module(m->path) : -1; /* not the vdso */
    if (fd < 0) continue;
    Dwfl_Module *dm = dwfl_report_elf(s->dwfl, m->path, m->path, fd, m->bias, false);
    if (dm == NULL) close(fd); /* libdw owns it only on success */
    /* Overlapping ranges (a module unloaded and another loaded in its place) are refused by
     * libdw: the later one stays unsymbolised rather than guessed. */
    if (dm != NULL && same_build(dm, m)) s->usable[i] = 1;
  }
  dwfl_report_end(s->dwfl, NULL, NULL);
  *out = s;
  return 0;
cleanup:
  if (s != NULL && s->dwfl != NULL) dwfl_end(s->dwfl);
  ll__arena_free(a);
  return rc;
}

void ll__symbolizer_close(ll_symbolizer_t *s) {
  if (s == NULL) return;
  ll__pmap_free(&s->units);
  dwfl_end(s->dwfl);
  ll__arena_free(s->arena);
}

const ll_cap_module_t *ll__symbolizer_map(const ll_symbolizer_t *s, size_t *nmod) {
  *nmod = s->nmod;
  return s->mods;
}

/* ---- per unit: its functions' address ranges -------------------------------------------------- */

/* dwarf_getscopes walks the whole compilation unit from its start for every address: with
 * many addresses in one large unit that is quadratic (12,000 addresses in a 3000-function unit:
 * 27 s). So each unit's out-of-line functions are listed once, sorted by address, and an
 * address then costs a binary search plus a walk of its own function's DIEs only. */
typedef struct fn_range {
  Dwarf_Addr lo, hi; /* hi exclusive */
  Dwarf_Die die;     /* the DW_TAG_subprogram */
} fn_range_t;

typedef struct fn_index {
  fn_range_t *r;
  size_t n;
} fn_index_t;

typedef struct fn_collect {
  fn_range_t *r;
  size_t n, cap;
  int failed;
} fn_collect_t;

static int collect_fn(Dwarf_Die *die, void *arg) {
  fn_collect_t *c = arg;
  Dwarf_Addr base, lo, hi;
  /* Declarations and abstract (inline) definitions have no ranges; a function split into hot
   * and cold parts has two. */
  for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0;) {
    if (lo >= hi) continue;
    if (c->n == c->cap) {
      size_t cap = c->cap ? c->cap * 2 : 256;
      fn_range_t *r = realloc(c->r, cap * sizeof *r);
      if (r == NULL) {
        c->failed = 1;
        return DWARF_CB_ABORT;
      }
      c->r = r;
      c->cap = cap;
    }
    c->r[c->n++] = (fn_range_t){.lo = lo, .hi = hi, .die = *die};
  }
  return DWARF_CB_OK;
}

static int fn_range_cmp(const void *a, const void *b) {
  const fn_range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The index of the unit `cu` (NULL only when out of memory). */
static const fn_index_t *unit_index(ll_symbolizer_t *s, Dwarf_Die *cu) {
  uint64_t key = (uint64_t)(uintptr_t)cu->addr;
  fn_index_t *ix = ll__pmap_get(&s->units, key);
  if (ix != NULL) return ix;
  fn_collect_t c = {0};
  dwarf_getfuncs(cu, collect_fn, &c, 0);
  if (!c.failed && (ix = ll__arena_alloc(s->arena, sizeof *ix)) != NULL &&
      (ix->r = ll__arena_alloc(s->arena, (c.n ? c.n : 1) * sizeof *ix->r)) != NULL) {
    if (c.n) memcpy(ix->r, c.r, c.n * sizeof *ix->r);
    ix->n = c.n;
    qsort(ix->r, ix->n, sizeof *ix->r, fn_range_cmp);
    if (ll__pmap_put(&s->units, key, ix) != 0) ix = NULL;
  } else {
    ix = NULL;
  }
  free(c.r);
  return ix;
}

/* The out-of-line function whose code holds pc (a unit-relative address), or NULL. */
static Dwarf_Die *fn_lookup(const fn_index_t *ix, Dwarf_Addr pc) {
  size_t lo = 0, hi = ix->n; /* first range starting above pc */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->r[mid].lo <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && pc < ix->r[lo - 1].hi ? &ix->r[lo - 1].die : NULL;
}

/* Below `parent`, the inlined subroutines whose code holds pc, outermost first, into chain[*n..].
 * Lexical blocks are walked through; one with no address attributes at all may still hold
 * inlined code, so it is searched too. Returns 1 once the innermost scope is reached. */
static int inline_chain(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int *n, int max,
                        int depth) {
  Dwarf_Die child;
  if (depth > 256 || dwarf_child(parent, &child) != 0) return 0;
  do {
    int tag = dwarf_tag(&child);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block &&
        tag != DW_TAG_try_block && tag != DW_TAG_catch_block)
      continue;
    if (dwarf_haspc(&child, pc) > 0) {
      if (tag == DW_TAG_inlined_subroutine && *n < max) chain[(*n)++] = child;
      inline_chain(&child, pc, chain, n, max, depth + 1);
      return 1;
    }
    if (tag != DW_TAG_inlined_subroutine && !dwarf_hasattr(&child, DW_AT_low_pc) &&
        !dwarf_hasattr(&child, DW_AT_ranges) && inline_chain(&child, pc, chain, n, max, depth + 1))
      return 1;
  } while (dwarf_siblingof(&child, &child) == 0);
  return 0;
}

/* ---- one address ----------------------------------------------------------------------------- */


static const ll_cap_module_t *module_of(const ll_symbolizer_t *s, uint64_t ip, size_t *index) {
  for (size_t i = 0; i < s->nmod; i++)
    if (ip >= s->mods[i].lo && ip < s->mods[i].hi) {
      *index = i;
      return &s->mods[i];
    }
  return NULL;
}

static const char *die_name(Dwarf_Die *die) {
  Dwarf_Attribute attr;
  const char *n = dwarf_diename(die);
  /* Inlined instances and out-of-line copies name their function through abstract_origin. */
  if (n == NULL && dwarf_attr_integrate(die, DW_AT_name, &attr) != NULL) n = dwarf_formstring(&attr);
  return n;
}

/* Up to `max` frames for one inline chain; strings are copied into the output arena. */
typedef struct emit {
  ll__arena_t *arena;
  ll_frame_t tmp[LL__SYM_IP_MAX];
  uint32_t n;
} emit_t;

/* C++ names from a symbol table (no DWARF: libstdc++ itself, most system libraries) are
 * mangled; libstdc++'s own demangler turns them back, found at run time so that leaklab does not
 * link the C++ runtime. NULL when the name is not mangled or no demangler is there; else a
 * malloc'd string. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

static char *demangle(const char *name) {
  static demangle_fn fn;
  static int looked;
  if (name == NULL || name[0] != '_' || name[1] != 'Z') return NULL;
  if (!looked) {
    looked = 1;
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (h != NULL) fn = (demangle_fn)dlsym(h, "__cxa_demangle"); /* kept open: fn lives in it */
  }
  int status = -1;
  char *out = fn != NULL ? fn(name, NULL, NULL, &status) : NULL;
  if (status != 0) {
    free(out);
    return NULL;
  }
  return out;
}

static int emit(emit_t *e, const char *file, int line, const char *func, uint64_t ip) {
  if (e->n == sizeof e->tmp / sizeof e->tmp[0]) return 0;
  ll_frame_t *f = &e->tmp[e->n];
  char *plain = demangle(func);
  f->filename = ll__arena_strdup(e->arena, file != NULL ? file : "<unknown>");
  f->function = ll__arena_strdup(e->arena, plain != NULL ? plain : func != NULL ? func : "");
  free(plain);
  if (f->filename == NULL || f->function == NULL) return LL_ENOMEM;
  f->lineno = line > 0 ? (uint32_t)line : 0;
  f->ip = ip;
  e->n++;
  return 0;
}

/* A frame of a module with neither line nor symbol for its address (a stripped binary): named
 * MODULE+0xOFFSET, its address in the module's own terms (what `addr2line -e MODULE` takes),
 * as heaptrack and memray name them. Unlike the address, the name is the same from run to run
 * (load addresses move), so reports group by it and `diff` matches it; and two call sites in
 * one stripped module stay two lines rather than merging into one MODULE:0. */
static int emit_offset(emit_t *e, const ll_cap_module_t *cm, const char *name, uint64_t ip) {
  if (name != NULL && name[0] != '\0') return emit(e, cm->path, 0, name, ip);
  const char *base = strrchr(cm->path, '/');
  char buf[320];
  snprintf(buf, sizeof buf, "%s+0x%" PRIx64, base != NULL ? base + 1 : cm->path, ip - cm->bias);
  return emit(e, cm->path, 0, buf, ip);
}

static int resolve_ip(ll_symbolizer_t *s, uint64_t ip, emit_t *e, int *own) {
  size_t mi = 0;
  const ll_cap_module_t *cm = module_of(s, ip, &mi);
  *own = cm != NULL && ll_cap_module_is_own(cm->flags);
  if (cm == NULL) return emit(e, "<unknown>", 0, "", ip);
  if (!s->usable[mi]) return emit_offset(e, cm, NULL, ip);

  /* A return address points after the call: look up the call instruction itself. */
  Dwarf_Addr pc = ip - 1, bias = 0;
  Dwfl_Module *m = dwfl_addrmodule(s->dwfl, pc);
  if (m == NULL) return emit_offset(e, cm, NULL, ip);
  /* The symbol table is a fallback only: libdw searches it linearly for every address. */
  Dwarf_Die *cu = dwfl_module_addrdie(m, pc, &bias);
  if (cu == NULL) return emit_offset(e, cm, dwfl_module_addrname(m, pc), ip); /* no DWARF */

  const char *file = NULL;
  int line = 0;
  Dwfl_Line *ln = dwfl_module_getsrc(m, pc);
  if (ln != NULL) file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);

  /* The scopes holding pc, innermost first: inlined subroutines, then the real function. */
  enum { MAX_INLINE = 63 };
  Dwarf_Die local[MAX_INLINE + 1], *scopes = local, *heap = NULL;
  int nscopes = 0;
  const fn_index_t *ix = unit_index(s, cu);
  Dwarf_Die *fn = ix != NULL ? fn_lookup(ix, pc - bias) : NULL;
  if (fn != NULL) {
    Dwarf_Die outer_first[MAX_INLINE];
    int n = 0;
    inline_chain(fn, pc - bias, outer_first, &n, MAX_INLINE, 0);
    for (int i = 0; i < n; i++) local[i] = outer_first[n - 1 - i];
    local[n] = *fn;
    nscopes = n + 1;
  } else {
    /* Not in the index (a nested function, a unit libdw could not list): the generic walk.
     * dwarf_getscopes leaves an inlined instance for its abstract definition's scopes (what
     * variable lookup wants), so the functions it was inlined into would be missing; the
     * DIE's own parents, from dwarf_getscopes_die, are the concrete chain. */
    nscopes = dwarf_getscopes(cu, pc - bias, &heap);
    for (int i = 0; i < nscopes; i++) {
      int tag = dwarf_tag(&heap[i]);
      if (tag == DW_TAG_subprogram) break;
      if (tag != DW_TAG_inlined_subroutine) continue;
      Dwarf_Die *chain = NULL;
      int nchain = dwarf_getscopes_die(&heap[i], &chain);
      if (nchain > 0) {
        free(heap);
        heap = chain;
        nscopes = nchain;
      }
      break;
    }
    scopes = heap;
  }
  int rc = 0;
  uint32_t before = e->n;
  /* Innermost first: each inlined_subroutine is a frame whose caller's line is its call site. */
  for (int i = 0; i < nscopes && rc == 0; i++) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
    const char *name = die_name(&scopes[i]);
    if (name == NULL) name = dwfl_module_addrname(m, pc);
    rc = emit(e, file != NULL ? file : cm->path, line, name, ip);
    if (tag == DW_TAG_subprogram) break;
    Dwarf_Attribute attr;
    Dwarf_Word call_file = 0, call_line = 0;
    if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &call_file) != 0)
      call_file = 0;
    if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line) != 0)
      call_line = 0;
    /* call_file indexes the file table of the unit holding this DIE (not always `cu`: dwz
     * moves shared DIEs into partial units). */
    Dwarf_Die unit;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if ((dwarf_diecu(&scopes[i], &unit, NULL, NULL) == NULL ||
         dwarf_getsrcfiles(&unit, &files, &nfiles) != 0) &&
        dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
      files = NULL;
    file = files != NULL && call_file < nfiles ? dwarf_filesrc(files, call_file, NULL, NULL) : NULL;
    line = (int)call_line;
  }
  free(heap); /* libdw's own allocation */
  if (rc == 0 && e->n == before) {
    const char *name = dwfl_module_addrname(m, pc);
    rc = file == NULL && line == 0 ? emit_offset(e, cm, name, ip)
                                   : emit(e, file != NULL ? file : cm->path, line, name, ip);
  }
  return rc;
}

/* ---- for symbolize_snapshot.c ---------------------------------------------------------------- */

int ll__symbolize_ip(ll_symbolizer_t *s, uint64_t ip, ll__arena_t *arena, ll__sym_ip_t *out) {
  emit_t e = {.arena = arena};
  int rc = resolve_ip(s, ip, &e, &out->own);
  if (rc != 0) return rc;
  memcpy(out->frames, e.tmp, e.n * sizeof *e.tmp);
  out->n = e.n;
  return 0;
}

int ll__symbolizer_owns(const ll_symbolizer_t *s, uint64_t ip) {
  size_t mi;
  const ll_cap_module_t *cm = module_of(s, ip, &mi);
  return cm != NULL && ll_cap_module_is_own(cm->flags);
}

Dwfl *ll__symbolizer_dwfl(ll_symbolizer_t *s) { return s->dwfl; }
