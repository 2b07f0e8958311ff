/* preload_scan.c - the exit scan's roots (module globals, thread stacks, thread-local storage, registers) and its REACH section and lost/reachable views. */
#include "preload_scan.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "arena.h"
#include "capture_reach.h"
#include "engine.h"
#include "preload_stack.h"
#include "preload_state.h"
#include "reach.h"
#include "snapshot.h"

/*
 * Roots, as memcheck and LeakSanitizer take them, minus leaklab's own memory:
 * - globals: every writable PT_LOAD segment of every loaded module (.data, .bss, the GOT), but
 *   not libleaklab-preload's (its globals, the boot pool, the thread registry);
 * - the thread that ends the program: its general registers where it entered leaklab's ending
 *   path (ll__pl_scan_regs: the signal's context, or getcontext first thing in at_exit_end,
 *   _exit, the exec hooks) and its stack from that frame (ll__pl_scan_from) up; its static
 *   and dynamic TLS blocks (dl_iterate_phdr's dlpi_tls_data);
 * - every other live thread (/proc/self/task): its stack from the stack pointer the kernel
 *   shows in /proc/self/task/TID/syscall when it is blocked in a system call, else its whole
 *   stack as preload_stack's registry knows it; up to the end of that mapping, which holds
 *   its static TLS and thread descriptor too (glibc puts them at the top of a thread's stack).
 *   Their registers are not read: that needs a signal the program could see, so a pointer held
 *   only in another thread's register is missed (the REACH section's flags say so).
 * Tracker memory, the helper's ring and the scan's own tables are mmap'd, outside all of those.
 * The ranges are only named here; reach.c reads them in ll__reach_finish (while this frame and
 * the stack above ll__pl_scan_from stay as they are), globals first, then TLS, stacks and
 * registers, so a block's first holder does not depend on what a register or stack slot held
 * by chance at exit. Globals come in dl_iterate_phdr's order (the program, then its libraries
 * as loaded), threads in /proc's: the same from run to run.
 */

uintptr_t ll__pl_scan_from;
const ucontext_t *ll__pl_scan_regs;

static int gettid_(void) { return (int)syscall(SYS_gettid); }

/* ---- small readers without malloc or stdio (this runs at exit and from fatal signals) ------ */

static ssize_t read_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  ssize_t n;
  while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0) got += (size_t)n;
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

static uint64_t parse_num(const char **s, int base) {
  uint64_t v = 0;
  const char *p = *s;
  if (base == 16 && p[0] == '0' && p[1] == 'x') p += 2;
  for (;; p++) {
    int d = *p >= '0' && *p <= '9' ? *p - '0' : base == 16 && *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  *s = p;
  return v;
}

/* A blocked thread's stack pointer: "nr arg1..arg6 sp pc" in /proc/self/task/TID/syscall
 * (the 8th field); 0 when running or unknown. */
static uintptr_t thread_sp(int tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  if (read_file(path, buf, sizeof buf) <= 0 || buf[0] < '0' || buf[0] > '9') return 0;
  const char *p = buf;
  for (int field = 0; field < 7; field++) {
    while (*p != ' ' && *p != '\0') p++;
    if (*p == '\0') return 0;
    p++;
  }
  return (uintptr_t)parse_num(&p, 16);
}

/* The readable, writable mapping holding addr (from /proc/self/maps, read in pieces). */
static int mapping_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  char buf[8192];
  size_t have = 0;
  int found = 0;
  if (fd < 0) return 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) break;
    have += (size_t)n;
    buf[have] = '\0';
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
      const char *p = line;
      uint64_t a = parse_num(&p, 16);
      p++;
      uint64_t b = parse_num(&p, 16);
      if (addr >= a && addr < b && p[1] == 'r' && p[2] == 'w') {
        *lo = (uintptr_t)a, *hi = (uintptr_t)b;
        found = 1;
      }
      line = nl + 1;
    }
    have = (size_t)(buf + have - line);
    memmove(buf, line, have);
    if (found) break;
  }
  close(fd);
  return found;
}

/* ---- roots ---------------------------------------------------------------------------------- */

typedef struct gctx {
  ll__reach_t *r;
  uintptr_t self_lo, self_hi; /* a word of ours: the module holding it is leaklab's */
  uintptr_t tls_lo;           /* lowest static TLS block of this thread */
} gctx_t;

static int globals_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  gctx_t *g = arg;
  (void)size;
  int ours = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t a = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && g->self_lo >= a && g->self_lo < a + ph->p_memsz) ours = 1;
  }
  if (ours) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t a = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
      ll__reach_root(g->r, a, a + ph->p_memsz, LL__ROOT_GLOBAL, 0);
    if (ph->p_type == PT_TLS && info->dlpi_tls_data != NULL) {
      uintptr_t t = (uintptr_t)info->dlpi_tls_data;
      ll__reach_root(g->r, t, t + ph->p_memsz, LL__ROOT_TLS, 0);
      uintptr_t tp = (uintptr_t)pthread_self();
      if (t < tp && tp - t < ((uintptr_t)1 << 20) && t < g->tls_lo) g->tls_lo = t;
    }
  }
  return 0;
}

/* The exiting thread's frames (stack pointer, instruction pointer), innermost first: a stack
 * root names the function whose frame holds it. */
#define MAX_FRAMES 512
static uintptr_t g_fsp[MAX_FRAMES], g_fip[MAX_FRAMES];
static int g_nframe;

static void own_frames(void) {
  unw_context_t ctx;
  unw_cursor_t cur;
  g_nframe = 0;
  if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) return;
  while (g_nframe < MAX_FRAMES) {
    unw_word_t ip, sp;
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) != 0) break;
    g_fsp[g_nframe] = sp, g_fip[g_nframe] = ip;
    g_nframe++;
    if (unw_step(&cur) <= 0) break;
  }
}

static uintptr_t frame_ip(uintptr_t addr) {
  uintptr_t ip = 0;
  for (int i = 0; i < g_nframe && g_fsp[i] <= addr; i++) ip = g_fip[i];
  return ip;
}

/* Another thread's stack from sp (or all of it) up, its top part as TLS. */
static void other_thread(ll__reach_t *r, int tid, uint32_t index, uintptr_t tls_span) {
  uintptr_t sp = thread_sp(tid), lo = 0, hi = 0, self = 0;
  int known = ll__pl_stack_of_thread(tid, &lo, &hi, &self) == 0;
  if (known) {
    uintptr_t mlo, mhi; /* the descriptor and TLS sit above the usable stack, in its mapping */
    if (mapping_of(hi - 1, &mlo, &mhi) && mhi > hi) hi = mhi;
  }
  if (sp != 0 && (!known || sp < lo || sp >= hi)) {
    if (!mapping_of(sp, &lo, &hi)) return;
  }
  if (lo == 0 && hi == 0) return;
  /* memcheck's rule: the 128-byte red zone below the stack pointer is live on x86-64. */
  if (sp != 0 && sp >= lo + 128 && sp < hi) lo = sp - 128;
  uintptr_t tls = self != 0 && self > lo && self < hi && self - lo > tls_span ? self - tls_span : hi;
  ll__reach_root(r, lo, tls, LL__ROOT_STACK, index);
  ll__reach_root(r, tls, hi, LL__ROOT_TLS, index);
}

/* Every other thread of the process, numbered 1.. in /proc's order; returns how many. */
static uint32_t other_threads(ll__reach_t *r, uintptr_t tls_span) {
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int self = gettid_();
  uint32_t index = 0;
  char buf[4096];
  long n;
  if (fd < 0) return 0;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *p = d->d_name;
      if (*p < '0' || *p > '9') continue;
      int tid = (int)parse_num(&p, 10);
      if (tid == self) continue;
      other_thread(r, tid, ++index, tls_span);
    }
  }
  close(fd);
  return index;
}

/* ---- the section and the views ------------------------------------------------------------- */

static unsigned char *g_sec;
static size_t g_sec_len;
static ll__reach_t *g_reach;

void ll__pl_scan_release(void) {
  ll__mmap_free(g_sec, g_sec_len);
  g_sec = NULL;
  g_sec_len = 0;
  ll__reach_free(g_reach);
  g_reach = NULL;
}

static int encode(const ll__reach_t *r, uint32_t nthread, uint32_t flags, uint64_t ns, uint64_t cpu) {
  ll_cap_reach_t h;
  memset(&h, 0, sizeof h);
  h.ntrace = r->nend;
  h.nedge = (uint32_t)r->nedge;
  h.nroot = (uint32_t)r->nroot;
  h.nthread = nthread;
  h.flags = flags;
  h.scan_ns = ns;
  h.cpu_ns = cpu;
  h.heap_scanned = r->heap_scanned;
  h.root_scanned = r->root_scanned;
  for (int k = 0; k < LL_CAP_REACH_KINDS; k++) h.bytes[k] = r->total_bytes[k], h.blocks[k] = r->total_blocks[k];
  g_sec_len = ll_cap_reach_size(&h);
  if ((g_sec = ll__mmap_alloc(g_sec_len)) == NULL) return LL_ENOMEM;
  unsigned char *p = ll_cap_reach_put_head(g_sec, &h);
  for (size_t tb = 0; tb < r->ntb; tb++) {
    if (r->end_index[tb] == UINT32_MAX) continue;
    p = ll_cap_reach_put_trace(p, r->tbs[tb].bytes, r->tbs[tb].blocks);
  }
  for (size_t i = 0; i < r->nedge; i++) {
    const ll__reach_edge_t *e = &r->edges[i];
    p = ll_cap_reach_put_edge(p, &(ll_cap_reach_edge_t){r->end_index[e->holder], r->end_index[e->held],
                                                        e->blocks, e->bytes});
  }
  for (size_t i = 0; i < r->nroot; i++) {
    const ll__reach_root_t *o = &r->roots[i];
    uintptr_t ip = o->kind == LL__ROOT_STACK && o->thread == 0 ? frame_ip(o->addr) : 0;
    p = ll_cap_reach_put_root(p, &(ll_cap_reach_root_t){r->end_index[o->held], o->kind, o->thread,
                                                        o->addr, ip, o->blocks, o->bytes});
  }
  return 0;
}

int ll__pl_scan(int from_signal, const void **data, size_t *len) {
  uint64_t t0 = ll__pl_clock_ns(CLOCK_MONOTONIC), c0 = ll__pl_clock_ns(CLOCK_THREAD_CPUTIME_ID);
  ll__reach_t *r = NULL;
  int rc;
  if (ll__pl_helper) return LL_ENOVIEW; /* the program's memory is gone: nothing to scan */
  if ((rc = ll__reach_begin(&r)) != 0) return rc;
  /* The general registers only: the rest of mcontext is a pointer to the FPU state and
   * reserved words (an uninitialised one held a stale start pointer into a perl block: one
   * block still reachable that memcheck called possibly lost). Not this frame's registers
   * either: by now they hold leaklab's values (the scan's own, a block it just indexed). */
  if (ll__pl_scan_regs != NULL) {
#ifdef REG_EFL
    size_t nreg = REG_EFL; /* r8 to rip: not the flags, error and trap numbers, mask, fault address */
#else
    size_t nreg = NGREG;
#endif
    uintptr_t g = (uintptr_t)ll__pl_scan_regs->uc_mcontext.gregs;
    ll__reach_root(r, g, g + nreg * sizeof(greg_t), LL__ROOT_REGISTER, 0);
  }
  /* This thread's stack: from the outermost leaklab frame (below it, leaklab's own frames and
   * whatever earlier calls left there) to the top. */
  uintptr_t lo = 0, hi = 0, from = ll__pl_scan_from;
  if (ll__pl_stack_bounds(&lo, &hi) == 0) {
    if (from < lo || from >= hi) from = lo; /* on an alternate signal stack: all of it */
    own_frames();
    ll__reach_root(r, from, hi, LL__ROOT_STACK, 0);
  }
  gctx_t g = {r, (uintptr_t)&ll__pl_scan_from, 0, (uintptr_t)pthread_self()};
  dl_iterate_phdr(globals_cb, &g);
  uintptr_t tp = (uintptr_t)pthread_self();
  uint32_t others = other_threads(r, tp - g.tls_lo + 64);
  if ((rc = ll__reach_finish(r)) != 0) goto fail;
  uint32_t flags = (others > 0 ? LL_CAP_REACH_F_NO_OTHER_REGS : 0) |
                   (from_signal ? LL_CAP_REACH_F_SIGNAL : 0);
  if ((rc = encode(r, others + 1, flags, ll__pl_clock_ns(CLOCK_MONOTONIC) - t0,
                    ll__pl_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0)) != 0) goto fail;
  g_reach = r;
  *data = g_sec;
  *len = g_sec_len;
  return 0;
fail:
  ll__reach_free(r);
  return rc;
}

/* A view of the end snapshot with each traceback's blocks of the given kinds only. */
static int view(const ll_snapshot_t *end, unsigned kinds, ll_at_t at, ll_snapshot_t **out) {
  const ll__reach_t *r = g_reach;
  ll_snapshot_t *s;
  ll_trace_t *tr;
  int rc = ll__snapshot_derive(end, at, &s, &tr);
  if (rc != 0) return rc;
  size_t k = 0;
  for (size_t tb = 0; tb < r->ntb; tb++) {
    uint32_t i = r->end_index[tb];
    if (i == UINT32_MAX) continue;
    ll_trace_t t = end->traces[i];
    t.size = t.usable = t.count = 0;
    for (int kind = 0; kind < LL__REACH_KINDS; kind++) {
      if (!(kinds & (1u << kind))) continue;
      t.size += r->tbs[tb].bytes[kind];
      t.usable += r->tbs[tb].usable[kind];
      t.count += r->tbs[tb].blocks[kind];
    }
    if (t.count > 0) tr[k++] = t;
  }
  s->ntraces = k;
  *out = s;
  return 0;
}

int ll__pl_scan_views(const ll_snapshot_t *end, ll_snapshot_t **lost, ll_snapshot_t **reachable) {
  const ll__reach_t *r = g_reach;
  if (r == NULL) return LL_EINVAL;
  /* The scan's tracebacks must be the end snapshot's, one for one and block for block. */
  if (end->ntraces != r->nend) return LL_EINVAL;
  for (size_t tb = 0; tb < r->ntb; tb++) {
    uint32_t i = r->end_index[tb];
    if (i == UINT32_MAX) continue;
    uint64_t n = 0;
    for (int kind = 0; kind < LL__REACH_KINDS; kind++) n += r->tbs[tb].blocks[kind];
    if (n != end->traces[i].count) return LL_EINVAL;
  }
  int rc = view(end, 1u << LL__REACH_DEFINITE | 1u << LL__REACH_INDIRECT, LL_AT_LOST, lost);
  if (rc == 0 && (rc = view(end, 1u << LL__REACH_REACHABLE, LL_AT_REACHABLE, reachable)) != 0) {
    ll_snapshot_free(*lost);
    *lost = NULL;
  }
  return rc;
}
