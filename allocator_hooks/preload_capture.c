/* preload_capture.c - what the capture holds: snapshots, leaks, memory over time, the process chain, jemalloc's figures; and writing it. */
#include "preload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "engine.h"
#include "snapfile.h"

/* ---- memory over time ---------------------------------------------------------------------- */
/*
 * A bounded timeline: a point every `interval` (first 1 ms, on the coarse clock the kernel keeps
 * for free); when the buffer fills, neighbouring points merge pairwise (keeping the later time
 * and current value and the larger `high`) and the interval doubles. `high` is the current
 * value, or the tracker's peak when it rose since the previous point: so the point where the
 * peak was reached always carries it, exactly, however coarse the timeline gets.
 */
#define TL_MAX 4096

typedef struct tl_point {
  uint64_t t, cur, high;
} tl_point_t;

static pthread_mutex_t tl_lock = PTHREAD_MUTEX_INITIALIZER;
static tl_point_t tl[TL_MAX];
static size_t tl_n;
static uint64_t tl_interval = 1000000;
static uint64_t tl_next; /* read without the lock: a stale value only delays a sample */
static uint64_t tl_last_peak;
static uint64_t tl_t0;

static uint64_t coarse_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tl_add_locked(uint64_t now) {
  size_t cur, peak;
  ll_get_traced_memory(&cur, &peak);
  uint64_t high = cur;
  if (peak > tl_last_peak) {
    high = peak;
    tl_last_peak = peak;
  }
  if (tl_n == TL_MAX) {
    for (size_t i = 0; i < TL_MAX / 2; i++) {
      tl_point_t a = tl[2 * i], b = tl[2 * i + 1];
      tl[i] = (tl_point_t){b.t, b.cur, a.high > b.high ? a.high : b.high};
    }
    tl_n = TL_MAX / 2;
    tl_interval *= 2;
  }
  tl[tl_n++] = (tl_point_t){now - tl_t0, cur, high};
  __atomic_store_n(&tl_next, now + tl_interval, __ATOMIC_RELAXED);
}

/* The clock is read every 16th event of a thread: the kernel's coarse clock ticks every few
 * milliseconds anyway, and the peak itself never depends on sampling. */
static __thread unsigned t_tick __attribute__((tls_model("initial-exec")));

void ll__pl_timeline_tick(void) {
  if ((++t_tick & 15) != 0) return;
  uint64_t now = coarse_ns();
  if (now < __atomic_load_n(&tl_next, __ATOMIC_RELAXED)) return;
  if (pthread_mutex_trylock(&tl_lock) != 0) return; /* another thread is sampling */
  if (now >= tl_next) tl_add_locked(now);
  pthread_mutex_unlock(&tl_lock);
}

void ll__pl_timeline_reset(void) {
  pthread_mutex_init(&tl_lock, NULL); /* after fork the lock may be a dead thread's */
  tl_n = 0;
  tl_interval = 1000000;
  tl_t0 = coarse_ns();
  tl_next = 0;
  tl_last_peak = 0;
}

/* Timeline section bytes into buf (room for 16 + TL_MAX * 24); its length. */
static size_t tl_encode(unsigned char *buf, int final_point, int locked) {
  if (final_point && locked) tl_add_locked(coarse_ns());
  ll__put_u64(buf, tl_interval);
  ll__put_u32(buf + 8, (uint32_t)tl_n);
  ll__put_u32(buf + 12, 0);
  for (size_t i = 0; i < tl_n; i++) {
    ll__put_u64(buf + 16 + 24 * i, tl[i].t);
    ll__put_u64(buf + 24 + 24 * i, tl[i].cur);
    ll__put_u64(buf + 32 + 24 * i, tl[i].high);
  }
  return 16 + 24 * tl_n;
}

/* ---- the process and its exec chain -------------------------------------------------------- */

#define MAX_STAGES 16
#define PROG_MAX 256

typedef struct stage {
  uint32_t pid;
  uint64_t peak, end, allocs, bytes;
  char program[PROG_MAX + 1];
} stage_t;

static stage_t g_stages[MAX_STAGES]; /* earlier images, oldest first */
static size_t g_nstage;
static char g_path[4096];
static char g_program[1024];
static uint32_t g_flags;

void ll__pl_capture_set_path(const char *path) {
  size_t n = strlen(path);
  if (n >= sizeof g_path) n = sizeof g_path - 1;
  memcpy(g_path, path, n);
  g_path[n] = '\0';
}

const char *ll__pl_capture_path(void) { return g_path; }

void ll__pl_capture_set_flags(uint32_t flags) { g_flags = flags; }

void ll__pl_capture_set_program(const char *program) {
  size_t n = strlen(program);
  if (n >= sizeof g_program) n = sizeof g_program - 1;
  memcpy(g_program, program, n);
  g_program[n] = '\0';
}

const char *ll__pl_capture_program(void) { return g_program; }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Environment value: "PID|" then per stage "pid,peak,end,allocs,bytes,HEXPROGRAM;". Hex keeps
 * any byte of a command line out of the separators' way. */
void ll__pl_chain_load(const char *v, long pid) {
  char *end;
  g_nstage = 0;
  if (v == NULL) return;
  if (strtol(v, &end, 10) != pid || *end != '|') return; /* another process's chain */
  const char *p = end + 1;
  while (*p != '\0') {
    stage_t st;
    unsigned long long f[5];
    for (int i = 0; i < 5; i++) {
      f[i] = strtoull(p, &end, 10);
      if (end == p || *end != ',') return;
      p = end + 1;
    }
    size_t n = 0;
    while (p[0] != ';' && p[0] != '\0' && p[1] != '\0') {
      int hi = hexval(p[0]), lo = hexval(p[1]);
      if (hi < 0 || lo < 0) return;
      if (n < PROG_MAX) st.program[n++] = (char)(hi * 16 + lo);
      p += 2;
    }
    if (*p != ';') return;
    p++;
    st.program[n] = '\0';
    st.pid = (uint32_t)f[0];
    st.peak = f[1], st.end = f[2], st.allocs = f[3], st.bytes = f[4];
    if (g_nstage == MAX_STAGES) { /* keep the newest: drop the oldest */
      memmove(&g_stages[0], &g_stages[1], (MAX_STAGES - 1) * sizeof g_stages[0]);
      g_nstage--;
    }
    g_stages[g_nstage++] = st;
  }
}

static int append(char *buf, size_t len, size_t *at, const char *s) {
  size_t n = strlen(s);
  if (*at + n + 1 > len) return -1;
  memcpy(buf + *at, s, n + 1);
  *at += n;
  return 0;
}

static int append_stage(char *buf, size_t len, size_t *at, const stage_t *st) {
  char num[128];
  static const char hex[] = "0123456789abcdef";
  snprintf(num, sizeof num, "%u,%llu,%llu,%llu,%llu,", st->pid, (unsigned long long)st->peak,
           (unsigned long long)st->end, (unsigned long long)st->allocs,
           (unsigned long long)st->bytes);
  if (append(buf, len, at, num) != 0) return -1;
  for (const char *c = st->program; *c != '\0'; c++) {
    char h[3] = {hex[(unsigned char)*c >> 4], hex[(unsigned char)*c & 15], '\0'};
    if (append(buf, len, at, h) != 0) return -1;
  }
  return append(buf, len, at, ";");
}

static void current_stage(stage_t *st) {
  size_t cur, peak;
  ll_counters_t c;
  ll_get_traced_memory(&cur, &peak);
  ll_get_counters(&c);
  st->pid = (uint32_t)getpid();
  st->peak = peak;
  st->end = cur;
  st->allocs = c.total_allocations;
  st->bytes = c.total_bytes;
  size_t n = strlen(g_program);
  if (n > PROG_MAX) n = PROG_MAX;
  memcpy(st->program, g_program, n);
  st->program[n] = '\0';
}

int ll__pl_chain_encode_next(char *buf, size_t len, long pid, const char *next_program) {
  (void)next_program;
  size_t at = 0;
  char head[32];
  stage_t me;
  snprintf(head, sizeof head, "%ld|", pid);
  if (append(buf, len, &at, head) != 0) return -1;
  /* Keep the newest MAX_STAGES - 1 earlier stages plus this one. */
  size_t first = g_nstage >= MAX_STAGES ? g_nstage - (MAX_STAGES - 1) : 0;
  for (size_t i = first; i < g_nstage; i++)
    if (append_stage(buf, len, &at, &g_stages[i]) != 0) return -1;
  current_stage(&me);
  if (append_stage(buf, len, &at, &me) != 0) return -1;
  return (int)at;
}

/* PROCESS section into buf; its length, or 0 when it does not fit. */
static size_t process_encode(unsigned char *buf, size_t len, int how, int sig, int partial,
                             const stage_t *me) {
  size_t need = 40, n = g_nstage + 1;
  for (size_t i = 0; i <= g_nstage; i++) {
    const stage_t *st = i < g_nstage ? &g_stages[i] : me;
    need += 40 + ((strlen(st->program) + 7) & ~(size_t)7);
  }
  if (need > len) return 0;
  memset(buf, 0, need);
  ll__put_u32(buf, 1);
  ll__put_u32(buf + 4, (uint32_t)getpid());
  ll__put_u32(buf + 8, (uint32_t)getppid());
  ll__put_u32(buf + 12, (uint32_t)how);
  ll__put_u32(buf + 16, (uint32_t)sig);
  ll__put_u32(buf + 20, g_flags | (partial ? LL_CAP_F_PARTIAL : 0) |
                            (ll__pl_async_lost() ? LL_CAP_F_HELPER_LOST | LL_CAP_F_PARTIAL : 0));
  ll__put_u32(buf + 24, (uint32_t)ll__pl_stack_frames());
  ll__put_u32(buf + 28, (uint32_t)ll__pl_unwind_mode());
  ll__put_u32(buf + 32, (uint32_t)n);
  unsigned char *p = buf + 40;
  for (size_t i = 0; i < n; i++) {
    const stage_t *st = i < g_nstage ? &g_stages[i] : me;
    size_t plen = strlen(st->program);
    ll__put_u32(p, st->pid);
    ll__put_u32(p + 4, (uint32_t)plen);
    ll__put_u64(p + 8, st->peak);
    ll__put_u64(p + 16, st->end);
    ll__put_u64(p + 24, st->allocs);
    ll__put_u64(p + 32, st->bytes);
    memcpy(p + 40, st->program, plen);
    p += 40 + ((plen + 7) & ~(size_t)7);
  }
  return need;
}

/* ---- leaks --------------------------------------------------------------------------------- */

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

/* LEAKS: the end set restricted to own-code traces, minus the runtime's stdio buffers. Shares
 * the end snapshot's tracebacks (the end snapshot must outlive it). */
static int make_leaks(const ll_snapshot_t *end, ll_snapshot_t **out) {
  ll__arena_t *a = ll__arena_new();
  if (a == NULL) return LL_ENOMEM;
  ll_snapshot_t *s = ll__arena_alloc(a, sizeof *s);
  ll_trace_t *tr = ll__arena_alloc(a, (end->ntraces + 1) * sizeof *tr);
  if (s == NULL || tr == NULL) {
    ll__arena_free(a);
    return LL_ENOMEM;
  }
  *s = *end;
  s->at = LL_AT_LEAKS;
  s->ll__arena = a;
  size_t k = 0;
  for (size_t i = 0; i < end->ntraces; i++)
    if (trace_is_own(&end->traces[i])) tr[k++] = end->traces[i];
  drop_stdio_buffers(tr, k);
  size_t j = 0;
  for (size_t i = 0; i < k; i++)
    if (tr[i].count > 0) tr[j++] = tr[i];
  s->traces = tr;
  s->ntraces = j;
  *out = s;
  return 0;
}

/* ---- jemalloc's own figures ----------------------------------------------------------------- */

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

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

/* ---- writing ------------------------------------------------------------------------------- */

/* Static: a crash on a small stack must still be able to write; one writer at a time. */
static unsigned char tl_buf[16 + TL_MAX * 24];
static unsigned char proc_buf[40 + (MAX_STAGES + 1) * (40 + PROG_MAX + 8)];
static unsigned char hist_buf[8 + 16 * LL_CAP_HIST_BUCKETS];
static unsigned char jemalloc_buf[LL_CAP_JEMALLOC_LEN];

int ll__pl_write_capture(int how, int sig, int partial) {
  ll_snapshot_t *peak = NULL, *end = NULL, *leaks = NULL, *tmp = NULL;
  const ll_snapshot_t *snaps[4];
  ll__section_t sec[5];
  size_t nsnap = 0, nsec = 0;
  stage_t me;
  int rc;

  memset(&me, 0, sizeof me);
  if (!partial) {
    if ((rc = ll_take_peak_snapshot(&peak)) != 0) goto cleanup;
    if ((rc = ll_take_snapshot(&end)) != 0) goto cleanup;
    end->at = LL_AT_END;
    if ((rc = make_leaks(end, &leaks)) != 0) goto cleanup;
    if ((rc = ll__take_temporary_snapshot(&tmp)) != 0) goto cleanup;
    snaps[nsnap++] = peak;
    snaps[nsnap++] = end;
    snaps[nsnap++] = leaks;
    snaps[nsnap++] = tmp;
    current_stage(&me);

    uint64_t counts[LL__HIST_BUCKETS], bytes[LL__HIST_BUCKETS];
    ll__get_size_histogram(counts, bytes);
    ll__put_u32(hist_buf, LL_CAP_HIST_BUCKETS);
    ll__put_u32(hist_buf + 4, 0);
    for (int i = 0; i < LL_CAP_HIST_BUCKETS; i++) {
      ll__put_u64(hist_buf + 8 + 8 * i, counts[i]);
      ll__put_u64(hist_buf + 8 + 8 * LL_CAP_HIST_BUCKETS + 8 * i, bytes[i]);
    }
    sec[nsec++] = (ll__section_t){LL_CAP_SEC_HISTOGRAM, 0, hist_buf, sizeof hist_buf};

    /* Not from a signal handler: mallctl takes jemalloc's locks. */
    ll_cap_jemalloc_t je;
    if (how != LL_CAP_END_SIGNAL && read_jemalloc(&je) == 0) {
      ll_cap_encode_jemalloc(jemalloc_buf, &je);
      sec[nsec++] = (ll__section_t){LL_CAP_SEC_JEMALLOC, 0, jemalloc_buf, sizeof jemalloc_buf};
    }
  } else {
    me.pid = (uint32_t)getpid();
    size_t n = strlen(g_program);
    if (n > PROG_MAX) n = PROG_MAX;
    memcpy(me.program, g_program, n);
    me.program[n] = '\0';
  }

  /* The timeline's lock may be held by the thread that crashed: wait a little, then go without
   * the final point rather than hang. */
  int locked = 0;
  for (int i = 0; i < 200 && !(locked = pthread_mutex_trylock(&tl_lock) == 0); i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  sec[nsec++] = (ll__section_t){LL_CAP_SEC_TIMELINE, 0, tl_buf, tl_encode(tl_buf, !partial, locked)};
  if (locked) pthread_mutex_unlock(&tl_lock);

  const void *mods;
  size_t mods_len;
  rc = how == LL_CAP_END_SIGNAL ? ll__pl_modules_encode(&mods, &mods_len)
                                : ll__pl_modules_snapshot(&mods, &mods_len);
  if (rc != 0) goto cleanup;
  sec[nsec++] = (ll__section_t){LL_CAP_SEC_MODULES, 0, mods, mods_len};

  size_t plen = process_encode(proc_buf, sizeof proc_buf, how, sig, partial, &me);
  if (plen == 0) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  sec[nsec++] = (ll__section_t){LL_CAP_SEC_PROCESS, 0, proc_buf, plen};

  rc = ll__snapfile_write(g_path, snaps, nsnap, sec, nsec);

cleanup:
  if (rc != 0) {
    char msg[512];
    int n = snprintf(msg, sizeof msg, "leaklab: could not write the capture %s: %s\n", g_path,
                     ll_strerror(rc));
    if (n > 0) {
      ssize_t w = write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
      (void)w;
    }
  }
  ll_snapshot_free(leaks);
  ll_snapshot_free(tmp);
  ll_snapshot_free(end);
  ll_snapshot_free(peak);
  return rc;
}
