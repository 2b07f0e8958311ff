/* preload_modules.c - the loaded modules: own-code lookup for the stack walk, and the map saved in the capture. */
#include "preload_modules.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "capture_write.h"
#include "preload_state.h"
#include <leaklab/leaklab.h>

/*
 * Two views of dl_iterate_phdr, both rebuilt under one mutex and never freed while the process
 * may read them (old lookup tables stay mapped; they are small and rebuilt only when the set of
 * loaded modules changed):
 * - a sorted table of executable segments, read without a lock by the allocation hooks;
 * - the union of every module seen during the run (path, load bias, address range, build-id),
 *   encoded as the capture's MODULES section. A module dlclose'd before the end stays in it
 *   because the dlclose hook (preload_process.c) refreshes first.
 */

typedef struct seg {
  uintptr_t lo, hi; /* [lo, hi) */
  int own;
} seg_t;

typedef struct segtab {
  size_t n;
  seg_t s[];
} segtab_t;

typedef struct mod {
  uint64_t bias, lo, hi;
  uint32_t flags;
  uint16_t path_len, bid_len;
  char path[4096];
  unsigned char bid[64];
} mod_t;

static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static segtab_t *volatile g_segs;
static mod_t *g_mods;  /* union over the run */
static size_t g_nmod, g_mod_cap;
static unsigned long long g_adds = ~0ull, g_subs = ~0ull;
static unsigned char *g_enc; /* encoded MODULES section */
static size_t g_enc_len, g_enc_cap;
static char g_exe[4096];

static __thread uintptr_t t_hit_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t t_hit_hi __attribute__((tls_model("initial-exec")));
static __thread int t_hit_own __attribute__((tls_model("initial-exec")));

/* Absolute path of the running executable (from /proc/self/exe), "" when unknown. */
static const char *exe_path(void) {
  if (g_exe[0] == '\0') {
    ssize_t n = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
    g_exe[n > 0 ? n : 0] = '\0';
  }
  return g_exe;
}

/* Grow an mmap'd buffer to hold `need` bytes (contents kept). */
static int grow(void **buf, size_t *cap, size_t need, size_t used) {
  if (need <= *cap) return 0;
  size_t ncap = *cap ? *cap : 4096;
  while (ncap < need) ncap *= 2;
  void *nb = ll__mmap_alloc(ncap);
  if (nb == NULL) return -1;
  if (*buf != NULL) {
    memcpy(nb, *buf, used);
    ll__mmap_free(*buf, *cap);
  }
  *buf = nb;
  *cap = ncap;
  return 0;
}

static uint32_t flags_of(const char *path, int is_main) {
  if (is_main) return LL_CAP_MOD_MAIN;
  if (strcmp(path, ll__pl_self_path()) == 0) return LL_CAP_MOD_LEAKLAB | LL_CAP_MOD_SYSTEM;
  return ll_cap_path_is_system(path) ? LL_CAP_MOD_SYSTEM : 0;
}

static size_t build_id(const struct dl_phdr_info *info, unsigned char *out, size_t max) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
    const unsigned char *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
      size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
      const unsigned char *name = p + sizeof *nh, *desc = name + name_sz;
      if (desc + desc_sz > end) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
        size_t n = nh->n_descsz < max ? nh->n_descsz : max;
        memcpy(out, desc, n);
        return n;
      }
      p = desc + desc_sz;
    }
  }
  return 0;
}

typedef struct scan {
  seg_t *segs;
  size_t nseg, seg_cap;
  int oom;
  unsigned long long adds, subs;
} scan_t;

static int on_module(struct dl_phdr_info *info, size_t size, void *arg) {
  scan_t *sc = arg;
  if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
    sc->adds = info->dlpi_adds;
    sc->subs = info->dlpi_subs;
  }
  int is_main = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
  const char *path = is_main ? exe_path() : info->dlpi_name;
  uint32_t flags = flags_of(path, is_main);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
    if (a < lo) lo = a;
    if (b > hi) hi = b;
    if (!(ph->p_flags & PF_X)) continue;
    size_t used = sc->nseg * sizeof(seg_t), cap = sc->seg_cap * sizeof(seg_t);
    if (grow((void **)&sc->segs, &cap, used + sizeof(seg_t), used) != 0) {
      sc->oom = 1;
      continue;
    }
    sc->seg_cap = cap / sizeof(seg_t);
    sc->segs[sc->nseg++] = (seg_t){a, b, ll_cap_module_is_own(flags)};
  }
  if (hi == 0) return 0;
  /* Into the union, unless this exact module (path and bias) is there already. */
  for (size_t i = 0; i < g_nmod; i++)
    if (g_mods[i].bias == info->dlpi_addr && strcmp(g_mods[i].path, path) == 0) return 0;
  size_t used = g_nmod * sizeof(mod_t), cap = g_mod_cap * sizeof(mod_t);
  if (grow((void **)&g_mods, &cap, used + sizeof(mod_t), used) != 0) {
    sc->oom = 1;
    return 0;
  }
  g_mod_cap = cap / sizeof(mod_t);
  mod_t *m = &g_mods[g_nmod++];
  m->bias = info->dlpi_addr;
  m->lo = lo;
  m->hi = hi;
  m->flags = flags;
  size_t plen = strlen(path);
  if (plen >= sizeof m->path) plen = sizeof m->path - 1;
  memcpy(m->path, path, plen);
  m->path[plen] = '\0';
  m->path_len = (uint16_t)plen;
  m->bid_len = (uint16_t)build_id(info, m->bid, sizeof m->bid);
  return 0;
}

static int counters_only(struct dl_phdr_info *info, size_t size, void *arg) {
  scan_t *sc = arg;
  if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
    sc->adds = info->dlpi_adds;
    sc->subs = info->dlpi_subs;
  }
  return 1; /* the counters are the same in every entry: one is enough */
}

static void refresh_locked(int force) {
  scan_t sc = {0};
  if (!force) {
    /* Cheap check first: the loader's counters say whether anything was (un)loaded since. */
    dl_iterate_phdr(counters_only, &sc);
    if (sc.adds == g_adds && sc.subs == g_subs) return;
    memset(&sc, 0, sizeof sc);
  }
  dl_iterate_phdr(on_module, &sc);
  /* Insertion sort: a few hundred segments at most, nearly sorted already. */
  for (size_t i = 1; i < sc.nseg; i++) {
    seg_t v = sc.segs[i];
    size_t j = i;
    while (j > 0 && sc.segs[j - 1].lo > v.lo) {
      sc.segs[j] = sc.segs[j - 1];
      j--;
    }
    sc.segs[j] = v;
  }
  segtab_t *t = ll__mmap_alloc(sizeof(segtab_t) + sc.nseg * sizeof(seg_t));
  if (t != NULL) {
    t->n = sc.nseg;
    if (sc.nseg > 0) memcpy(t->s, sc.segs, sc.nseg * sizeof(seg_t));
    /* The old table stays mapped: another thread may be reading it without the lock. */
    __atomic_store_n(&g_segs, t, __ATOMIC_RELEASE);
    if (!sc.oom) {
      g_adds = sc.adds;
      g_subs = sc.subs;
    }
  }
  ll__mmap_free(sc.segs, sc.seg_cap * sizeof(seg_t));
}

void ll__pl_modules_refresh(void) {
  pthread_mutex_lock(&mod_lock);
  refresh_locked(0);
  pthread_mutex_unlock(&mod_lock);
}

static const seg_t *lookup(uintptr_t ip) {
  const segtab_t *t = __atomic_load_n(&g_segs, __ATOMIC_ACQUIRE);
  if (t == NULL) return NULL;
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ip < t->s[mid].lo)
      hi = mid;
    else if (ip >= t->s[mid].hi)
      lo = mid + 1;
    else
      return &t->s[mid];
  }
  return NULL;
}

int ll__pl_ip_is_code(uintptr_t ip) {
  if (ip >= t_hit_lo && ip < t_hit_hi) return 1;
  const seg_t *s = lookup(ip);
  if (s == NULL) return 0;
  t_hit_lo = s->lo;
  t_hit_hi = s->hi;
  t_hit_own = s->own;
  return 1;
}

int ll__pl_ip_is_own(uintptr_t ip) {
  if (ip >= t_hit_lo && ip < t_hit_hi) return t_hit_own;
  if (!ll__pl_ip_is_code(ip)) {
    ll__pl_modules_refresh(); /* code loaded since the last look (dlopen) */
    if (!ll__pl_ip_is_code(ip)) return 0;
  }
  return t_hit_own;
}

static int encode_locked(const void **data, size_t *len) {
  size_t need = 8;
  for (size_t i = 0; i < g_nmod; i++) need += ll_cap_module_size(g_mods[i].path_len, g_mods[i].bid_len);
  if (grow((void **)&g_enc, &g_enc_cap, need, 0) != 0) return LL_ENOMEM;
  unsigned char *p = ll_cap_modules_put_head(g_enc, (uint32_t)g_nmod);
  for (size_t i = 0; i < g_nmod; i++) {
    const mod_t *m = &g_mods[i]; /* path NUL-terminated at path_len */
    p = ll_cap_modules_put(p, &(ll_cap_module_t){m->bias, m->lo, m->hi, m->flags, m->path, m->bid,
                                                 m->bid_len});
  }
  g_enc_len = need;
  *data = g_enc;
  *len = g_enc_len;
  return 0;
}

/* The crash path: a thread may be refreshing the table (an allocation hook's stack walk met new
 * code): wait for it a little, then encode what is there rather than hang. */
int ll__pl_modules_encode(const void **data, size_t *len) {
  int locked = 0;
  for (int i = 0; i < 200 && !(locked = pthread_mutex_trylock(&mod_lock) == 0); i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  int rc = encode_locked(data, len);
  if (locked) pthread_mutex_unlock(&mod_lock);
  return rc;
}

/* Refresh then encode, for a normal end (not from a crash: the loader's lock may be held). */
int ll__pl_modules_snapshot(const void **data, size_t *len) {
  pthread_mutex_lock(&mod_lock);
  refresh_locked(0);
  int rc = encode_locked(data, len);
  pthread_mutex_unlock(&mod_lock);
  return rc;
}

/* The first module dl_iterate_phdr reports is the main program: look for Go's build-id note
 * (owner "Go", type 4) in its PT_NOTE segments, in memory (no file read, no allocation). */
static int go_note_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  int *is_go = data;
  for (int i = 0; i < info->dlpi_phnum && !*is_go; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
      const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
      size_t name = (n->n_namesz + 3u) & ~(size_t)3, desc = (n->n_descsz + 3u) & ~(size_t)3;
      if (name > left - sizeof *n || desc > left - sizeof *n - name) break;
      if (n->n_type == 4 && (n->n_namesz == 3 || n->n_namesz == 4) &&
          memcmp(p + sizeof *n, "Go", 3) == 0)
        *is_go = 1;
      p += sizeof *n + name + desc;
      left -= sizeof *n + name + desc;
    }
  }
  return 1; /* the main program only */
}

int ll__pl_main_is_go(void) {
  int is_go = 0;
  dl_iterate_phdr(go_note_cb, &is_go);
  return is_go;
}
