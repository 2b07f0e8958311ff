/* floor_preload.c - bench probe: the cheapest LD_PRELOAD recorders of each kind, the floor leaklab is measured against. */
/*
 * LD_PRELOAD=libllfloor.so LL_FLOOR=MODE PROGRAM...
 *
 * Not a tool: a yardstick. Each mode is the least a recorder of one kind must do on every
 * malloc and free, written as tightly as we can, so `make bench` can print, in the same session
 * as leaklab, how much of the cost is the kind of recorder rather than leaklab's code:
 *
 *   interpose  resolve the real functions, forward every call (recursion guard, errno kept):
 *              what any interposing recorder pays before it records anything.
 *   emit       + append one event per call to a per-thread buffer (malloc: pointer, size,
 *              caller's address; free: pointer): the producer side of the cheapest
 *              asynchronous recorder (heaptrack's and memray's shape). The buffer wraps and is
 *              never read, so a consumer's own cost and the cache-line transfers to it come on
 *              top: a lower bound.
 *   emit_seq   emit + one number per event from a counter all threads share (a plain
 *              increment while the process has one thread, an atomic add after), stored in
 *              the event: what one global order of events costs the program's threads by
 *              itself (leaklab's async recorder numbers every event this way).
 *   emit16     + a frame-pointer walk of up to 16 frames (bounded by the thread's stack), the
 *              frames hashed into the event: the same for full stacks.
 *   exact      synchronous, in the program's thread: a live table (pointer -> size, site; open
 *              addressing, linear probing, backward-shift deletion), per-site current bytes with
 *              the lazy peak leaklab uses, the global current and peak. Exact line-level
 *              figures and nothing else: no usable sizes, histogram, temporaries, timeline,
 *              stack cache or capture. A lower bound for leaklab's synchronous design.
 *   exact16    the same with 16-frame stacks: the walk of emit16, its hash as the site key (a
 *              real recorder must also keep the frames; this one trusts a 64-bit hash).
 *   async      exact's bookkeeping moved to another process (forked at start, so the program's
 *              second core does it): the program's thread stores emit's events into a shared
 *              1 MiB ring (publishing its head every 64 words, claiming the line 32 words on
 *              for writing with PREFETCHW, as leaklab does) and waits only when the ring
 *              is full; the consumer applies them to the same live table and per-site
 *              accounting in batches, sleeping 20 us whenever it has caught up, and prints the
 *              peak when the program ends. (A consumer that polls the head instead keeps
 *              pulling its cache line away from the producer: on this 2-core VM that alone
 *              cost 2.5x with the events dropped unread.) The cheapest exact asynchronous
 *              recorder: emit plus the transfer and whatever of the consumer's time the ring
 *              cannot hide.
 *   async16    the same with exact16's walk. Events from several
 *              threads go through one mutex (skipped while single-threaded); a forked child of
 *              the program stops recording; the consumer is the program's child.
 *
 * The exact and async modes print one line to stderr at exit, "llfloor: peak_bytes=N sites=N
 * live_blocks=N", so the bench can check it against the program's own count: the yardstick is
 * exact, not just cheap.
 *
 * malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and free are recorded
 * (valloc, pvalloc and reallocarray are forwarded only). `exact` locks one mutex while the process has more than
 * one thread. The program's output and exit status are unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __attribute__((tls_model("initial-exec")))

enum { M_INTERPOSE, M_EMIT, M_EMIT_SEQ, M_EMIT16, M_EXACT, M_EXACT16, M_ASYNC, M_ASYNC16 };

static void *(*r_malloc)(size_t);
static void (*r_free)(void *);
static void *(*r_calloc)(size_t, size_t);
static void *(*r_realloc)(void *, size_t);
static int (*r_posix_memalign)(void **, size_t, size_t);
static void *(*r_aligned_alloc)(size_t, size_t);
static void *(*r_memalign)(size_t, size_t);
static int mode = M_INTERPOSE;

static __thread int t_guard TLS;     /* inside the probe: allocations are forwarded only */
static __thread int t_resolving TLS; /* inside dlsym: allocations come from the boot pool */

/* ---- boot pool: dlsym may allocate before the real functions are known ---------------------- */
static _Alignas(16) char boot[64 * 1024];
static size_t boot_used;

static void *boot_alloc(size_t n) {
  size_t at = __atomic_fetch_add(&boot_used, (n + 15) & ~(size_t)15, __ATOMIC_RELAXED);
  return at + n <= sizeof boot ? boot + at : NULL;
}
static int is_boot(const void *p) {
  return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

static void *map(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void resolve(void) {
  t_resolving = 1;
  r_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  r_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  r_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  r_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  r_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  r_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  void *(*m)(size_t) = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  t_resolving = 0;
  if (m == NULL || r_free == NULL || r_calloc == NULL || r_realloc == NULL) {
    static const char msg[] = "libllfloor: cannot find the real allocator (dlsym RTLD_NEXT)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    abort();
  }
  const char *e = getenv("LL_FLOOR");
  if (e == NULL || strcmp(e, "interpose") == 0) mode = M_INTERPOSE;
  else if (strcmp(e, "emit") == 0) mode = M_EMIT;
  else if (strcmp(e, "emit_seq") == 0) mode = M_EMIT_SEQ;
  else if (strcmp(e, "emit16") == 0) mode = M_EMIT16;
  else if (strcmp(e, "exact") == 0) mode = M_EXACT;
  else if (strcmp(e, "exact16") == 0) mode = M_EXACT16;
  else if (strcmp(e, "async") == 0) mode = M_ASYNC;
  else if (strcmp(e, "async16") == 0) mode = M_ASYNC16;
  else {
    static const char msg[] = "libllfloor: LL_FLOOR must be interpose, emit, emit_seq, emit16, exact, exact16, async or async16\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(2);
  }
  __atomic_store_n(&r_malloc, m, __ATOMIC_RELEASE);
}

#define RESOLVED() __builtin_expect(__atomic_load_n(&r_malloc, __ATOMIC_ACQUIRE) != NULL, 1)

/* ---- emit: per-thread event buffer ----------------------------------------------------------- */
#define BUF_WORDS (1u << 17) /* 1 MiB per thread, wraps */
static __thread uint64_t *t_buf TLS;
static __thread uint32_t t_pos TLS;

static inline void emit(uint64_t a, uint64_t b, uint64_t c, int words) {
  if (__builtin_expect(t_buf == NULL, 0)) {
    t_buf = map(BUF_WORDS * sizeof(uint64_t));
    if (t_buf == NULL) return;
  }
  uint32_t i = t_pos;
  if (i > BUF_WORDS - 3) i = 0;
  t_buf[i] = a;
  if (words > 1) {
    t_buf[i + 1] = b;
    t_buf[i + 2] = c;
  }
  t_pos = i + (uint32_t)words;
}

/* The shared counter on a line of its own (no false sharing with anything else). */
static struct {
  _Alignas(64) uint64_t n;
} e_seq;
static inline uint64_t take_seq(void) {
  if (__libc_single_threaded) {
    uint64_t q = __atomic_load_n(&e_seq.n, __ATOMIC_RELAXED);
    __atomic_store_n(&e_seq.n, q + 1, __ATOMIC_RELAXED);
    return q;
  }
  return __atomic_fetch_add(&e_seq.n, 1, __ATOMIC_RELAXED);
}

/* ---- emit16: frame-pointer walk inside the thread's stack ------------------------------------- */
static __thread uintptr_t t_stack_lo TLS, t_stack_hi TLS;

static void stack_bounds(void) {
  pthread_attr_t a;
  void *lo;
  size_t len;
  t_stack_lo = 1; /* tried: never again, even on failure (then hi stays 0: no walk) */
  if (pthread_getattr_np(pthread_self(), &a) != 0) return;
  if (pthread_attr_getstack(&a, &lo, &len) == 0) {
    t_stack_lo = (uintptr_t)lo;
    t_stack_hi = (uintptr_t)lo + len;
  }
  pthread_attr_destroy(&a);
}

static inline uint64_t walk16(void *fp) {
  if (__builtin_expect(t_stack_lo == 0, 0)) stack_bounds();
  uint64_t h = 0xcbf29ce484222325ull;
  uintptr_t f = (uintptr_t)fp, lo = t_stack_lo, hi = t_stack_hi;
  for (int n = 0; n < 16 && f >= lo && f + 16 <= hi && (f & 7) == 0; n++) {
    const uintptr_t *fr = (const uintptr_t *)f;
    uintptr_t ret = fr[1], next = fr[0];
    if (ret == 0) break;
    h = (h ^ ret) * 0x100000001b3ull;
    if (next <= f) break;
    f = next;
  }
  return h;
}

/* ---- exact: live table and per-site accounting ------------------------------------------------ */
typedef struct ent {
  uint64_t key; /* pointer; 0: empty */
  uint64_t val; /* size in the low 40 bits, site id above */
} ent_t;
typedef struct site {
  uintptr_t ip; /* 0: empty slot of the site index */
  uint32_t id;
} site_t;
typedef struct acct {
  uint64_t cur, pk, gen;
} acct_t;

static pthread_mutex_t x_lock = PTHREAD_MUTEX_INITIALIZER;
static ent_t *x_tab;
static size_t x_cap, x_count; /* power of two; load <= 1/2 */
static site_t *x_sites;
static size_t x_site_cap, x_nsite;
#define MAX_SITES (1u << 20)
static acct_t *x_acct; /* MAX_SITES, reserved once, touched as used */
static uint64_t x_cur, x_peak, x_gen = 1;
static __thread uintptr_t t_last_ip TLS;
static __thread uint32_t t_last_id TLS;

static inline size_t hash(uint64_t k, size_t cap) {
  return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static int tab_grow(void) {
  size_t ncap = x_cap ? x_cap * 2 : 4096;
  ent_t *n = map(ncap * sizeof *n);
  if (n == NULL) return -1;
  for (size_t i = 0; i < x_cap; i++) {
    if (x_tab[i].key == 0) continue;
    size_t h = hash(x_tab[i].key, ncap);
    while (n[h].key != 0) h = (h + 1) & (ncap - 1);
    n[h] = x_tab[i];
  }
  if (x_tab != NULL) munmap(x_tab, x_cap * sizeof *x_tab);
  x_tab = n;
  x_cap = ncap;
  return 0;
}

static int sites_grow(void) {
  size_t ncap = x_site_cap ? x_site_cap * 2 : 1024;
  site_t *n = map(ncap * sizeof *n);
  if (n == NULL) return -1;
  for (size_t i = 0; i < x_site_cap; i++) {
    if (x_sites[i].ip == 0) continue;
    size_t h = hash(x_sites[i].ip, ncap);
    while (n[h].ip != 0) h = (h + 1) & (ncap - 1);
    n[h] = x_sites[i];
  }
  if (x_sites != NULL) munmap(x_sites, x_site_cap * sizeof *x_sites);
  x_sites = n;
  x_site_cap = ncap;
  return 0;
}

/* Site id of a caller's address; UINT32_MAX when out of room. */
static inline uint32_t site_of(uintptr_t ip) {
  if (ip == t_last_ip) return t_last_id; /* a hot site: one compare */
  if ((x_nsite + 1) * 2 > x_site_cap && (x_nsite >= MAX_SITES || sites_grow() != 0)) return UINT32_MAX;
  if (x_acct == NULL && (x_acct = map(MAX_SITES * sizeof *x_acct)) == NULL) return UINT32_MAX;
  size_t h = hash(ip, x_site_cap);
  while (x_sites[h].ip != 0 && x_sites[h].ip != ip) h = (h + 1) & (x_site_cap - 1);
  if (x_sites[h].ip == 0) {
    x_sites[h].ip = ip;
    x_sites[h].id = (uint32_t)x_nsite++;
  }
  t_last_ip = ip;
  t_last_id = x_sites[h].id;
  return t_last_id;
}

/* Keep a site's current bytes as its peak bytes if the peak was reached since it last changed. */
static inline acct_t *touch(uint32_t id) {
  acct_t *a = &x_acct[id];
  if (a->gen != x_gen) {
    a->pk = a->cur;
    a->gen = x_gen;
  }
  return a;
}

/* Record p at the site of ip, or (ip 0) at site id `site` (a failed realloc's old block). */
static inline void exact_alloc(void *p, size_t size, uintptr_t ip, uint32_t site) {
  int locked = !__libc_single_threaded && pthread_mutex_lock(&x_lock) == 0;
  uint32_t id = ip != 0 ? site_of(ip) : site;
  if (id != UINT32_MAX && size < (1ull << 40) &&
      ((x_count + 1) * 2 <= x_cap || tab_grow() == 0)) {
    uint64_t k = (uintptr_t)p;
    size_t h = hash(k, x_cap);
    while (x_tab[h].key != 0 && x_tab[h].key != k) h = (h + 1) & (x_cap - 1);
    if (x_tab[h].key == 0) {
      x_count++;
    } else { /* a block whose free was not seen (realloc is not recorded): it is gone */
      uint64_t v = x_tab[h].val, old = v & ((1ull << 40) - 1);
      touch((uint32_t)(v >> 40))->cur -= old;
      x_cur -= old;
    }
    x_tab[h].key = k;
    x_tab[h].val = size | (uint64_t)id << 40;
    touch(id)->cur += size;
    x_cur += size;
    if (x_cur > x_peak) {
      x_peak = x_cur;
      x_gen++;
    }
  }
  if (locked) pthread_mutex_unlock(&x_lock);
}

/* Forget p; its record's value (size | site << 40) or 0 when it had none. */
static inline uint64_t exact_free(void *p) {
  uint64_t removed = 0;
  int locked = !__libc_single_threaded && pthread_mutex_lock(&x_lock) == 0;
  uint64_t k = (uintptr_t)p;
  if (x_cap != 0) {
    size_t h = hash(k, x_cap);
    while (x_tab[h].key != 0 && x_tab[h].key != k) h = (h + 1) & (x_cap - 1);
    if (x_tab[h].key == k) {
      uint64_t v = x_tab[h].val, size = v & ((1ull << 40) - 1);
      removed = v;
      touch((uint32_t)(v >> 40))->cur -= size;
      x_cur -= size;
      /* Backward shift: move later entries of the run into the hole when their home allows. */
      size_t i = h, j = h;
      for (;;) {
        j = (j + 1) & (x_cap - 1);
        if (x_tab[j].key == 0) break;
        size_t home = hash(x_tab[j].key, x_cap);
        if (((j - home) & (x_cap - 1)) >= ((j - i) & (x_cap - 1))) {
          x_tab[i] = x_tab[j];
          i = j;
        }
      }
      x_tab[i].key = 0;
      x_count--;
    }
  }
  if (locked) pthread_mutex_unlock(&x_lock);
  return removed;
}

/* The exact modes' figures: at exit (after the program's own atexit handlers ran), or when the
 * async consumer has drained the ring. */
static void print_figures(void) {
  char line[160], *e = line + sizeof line, *q = line;
  const char *part[] = {"llfloor: peak_bytes=", " sites=", " live_blocks="};
  uint64_t val[] = {x_peak, x_nsite, x_count};
  for (int k = 0; k < 3; k++) {
    for (const char *c = part[k]; *c != '\0' && q < e; c++) *q++ = *c;
    char digits[24];
    int n = 0;
    uint64_t v = val[k];
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0 && n < 24);
    while (n > 0 && q < e) *q++ = digits[--n];
  }
  if (q < e) *q++ = '\n';
  ssize_t w = write(2, line, (size_t)(q - line)); /* no stdio: it may be gone */
  (void)w;
}

/* ---- async: the exact bookkeeping in a consumer process -------------------------------------- */
#define RING_WORDS (1u << 17)
#define PUBLISH_WORDS 64
typedef struct ring {
  _Alignas(64) uint64_t head; /* words written, published by the producer */
  _Alignas(64) uint64_t tail; /* words applied, published by the consumer */
  _Alignas(64) int done;      /* the program is exiting: drain, report, exit */
  _Alignas(64) uint64_t w[RING_WORDS];
} ring_t;
static ring_t *a_ring;
static pid_t a_pid;
static int a_on;                           /* recording into the ring */
static uint64_t a_head, a_published, a_tail; /* producer side: its head, last published, tail seen */
static pthread_mutex_t a_lock = PTHREAD_MUTEX_INITIALIZER;

/* The producer's wait for room: a short spin, then sleeps. */
static inline void relax(unsigned *spins) {
  if (++*spins < 64) {
    __builtin_ia32_pause();
  } else {
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
  }
}

static __attribute__((noreturn)) void consume(void) {
  t_guard = 1; /* the consumer's own calls are never recorded */
  uint64_t tail = 0;
  for (;;) {
    uint64_t head = __atomic_load_n(&a_ring->head, __ATOMIC_ACQUIRE);
    if (tail == head) {
      if (__atomic_load_n(&a_ring->done, __ATOMIC_ACQUIRE) &&
          __atomic_load_n(&a_ring->head, __ATOMIC_ACQUIRE) == tail)
        break;
      struct timespec ts = {0, 20000}; /* caught up: sleep, then take what came in one batch */
      nanosleep(&ts, NULL);
      continue;
    }
    while (tail != head) {
      uint64_t a = a_ring->w[tail % RING_WORDS];
      if (a & 2) {
        uint64_t size = a_ring->w[(tail + 1) % RING_WORDS], ip = a_ring->w[(tail + 2) % RING_WORDS];
        exact_alloc((void *)(uintptr_t)(a & ~(uint64_t)3), size, ip, 0);
        tail += 3;
      } else {
        exact_free((void *)(uintptr_t)(a & ~(uint64_t)3));
        tail += 1;
      }
    }
    __atomic_store_n(&a_ring->tail, tail, __ATOMIC_RELEASE);
  }
  print_figures();
  _exit(0);
}

static inline void async_put(uint64_t a, uint64_t b, uint64_t c, unsigned words) {
  int locked = !__libc_single_threaded && pthread_mutex_lock(&a_lock) == 0;
  if (a_on) {
    if (a_head + words - a_tail > RING_WORDS) { /* full as far as we know: look, then wait */
      unsigned spins = 0;
      __atomic_store_n(&a_ring->head, a_head, __ATOMIC_RELEASE);
      a_published = a_head;
      while (a_head + words - (a_tail = __atomic_load_n(&a_ring->tail, __ATOMIC_ACQUIRE)) > RING_WORDS)
        relax(&spins);
    }
    a_ring->w[a_head % RING_WORDS] = a;
    if (words > 1) {
      a_ring->w[(a_head + 1) % RING_WORDS] = b;
      a_ring->w[(a_head + 2) % RING_WORDS] = c;
    }
    a_head += words;
    /* The line a few events on, writable before the stores reach it (as leaklab's producer:
     * allocator_hooks/preload_ring.h, ll__ring_claim_ahead). */
    __asm__ volatile("prefetchw %0" ::"m"(a_ring->w[(a_head + 32) % RING_WORDS]));
    if (a_head - a_published >= PUBLISH_WORDS) {
      __atomic_store_n(&a_ring->head, a_head, __ATOMIC_RELEASE);
      a_published = a_head;
    }
  }
  if (locked) pthread_mutex_unlock(&a_lock);
}

static void async_child(void) { a_on = 0; } /* a forked child of the program: not recorded */

__attribute__((constructor)) static void async_start(void) {
  if (!RESOLVED()) resolve();
  if (mode != M_ASYNC && mode != M_ASYNC16) return;
  t_guard = 1;
  a_ring = mmap(NULL, sizeof *a_ring, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (a_ring != MAP_FAILED) {
    pid_t pid = fork();
    if (pid == 0) consume();
    if (pid > 0) {
      a_pid = pid;
      pthread_atfork(NULL, NULL, async_child);
      a_on = 1;
    }
  }
  t_guard = 0;
}

__attribute__((destructor)) static void finish(void) {
  if (mode == M_EXACT || mode == M_EXACT16) print_figures();
  if (a_pid <= 0 || !a_on) return; /* not async, or nothing started */
  int locked = !__libc_single_threaded && pthread_mutex_lock(&a_lock) == 0;
  a_on = 0;
  __atomic_store_n(&a_ring->head, a_head, __ATOMIC_RELEASE);
  __atomic_store_n(&a_ring->done, 1, __ATOMIC_RELEASE);
  if (locked) pthread_mutex_unlock(&a_lock);
  while (waitpid(a_pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

/* ---- the hooks: resolve, call, record (frees before the real free) ---------------------------- */
static inline void after_alloc(void *p, size_t size, void *fp) {
  int saved = errno;
  t_guard = 1;
  uintptr_t ip = ((const uintptr_t *)fp)[1];
  switch (mode) {
  case M_EMIT: emit((uintptr_t)p | 2, size, ip, 3); break;
  case M_EMIT_SEQ: emit((uintptr_t)p | 2, size ^ take_seq() << 32, ip, 3); break;
  case M_EMIT16: emit((uintptr_t)p | 2, size, walk16(fp), 3); break;
  case M_EXACT: exact_alloc(p, size, ip, 0); break;
  case M_EXACT16: exact_alloc(p, size, (uintptr_t)(walk16(fp) | 1), 0); break; /* never 0 */
  case M_ASYNC: async_put((uintptr_t)p | 2, size, ip, 3); break;
  case M_ASYNC16: async_put((uintptr_t)p | 2, size, walk16(fp) | 1, 3); break;
  default: break;
  }
  t_guard = 0;
  errno = saved;
}

/* The removed record's value in exact mode (see exact_free), else 0. */
static inline uint64_t before_free(void *p) {
  int saved = errno;
  uint64_t removed = 0;
  t_guard = 1;
  switch (mode) {
  case M_EMIT:
  case M_EMIT16: emit((uintptr_t)p | 1, 0, 0, 1); break;
  case M_EMIT_SEQ: emit((uintptr_t)p | 1, take_seq(), 0, 3); break;
  case M_EXACT:
  case M_EXACT16: removed = exact_free(p); break;
  case M_ASYNC:
  case M_ASYNC16: async_put((uintptr_t)p | 1, 0, 0, 1); break;
  default: break;
  }
  t_guard = 0;
  errno = saved;
  return removed;
}

#define RECORDING() (!t_guard && mode != M_INTERPOSE)
#define HOOK_FP __builtin_frame_address(0)

EXPORT void *malloc(size_t size) {
  if (!RESOLVED()) {
    if (t_resolving) return boot_alloc(size);
    resolve();
  }
  void *p = r_malloc(size);
  if (p != NULL && RECORDING()) after_alloc(p, size, HOOK_FP);
  return p;
}

EXPORT void free(void *p) {
  if (p == NULL || is_boot(p)) return;
  if (!RESOLVED()) resolve();
  if (RECORDING()) before_free(p);
  r_free(p);
}

EXPORT void *calloc(size_t n, size_t size) {
  if (!RESOLVED()) {
    size_t total;
    if (t_resolving) return __builtin_mul_overflow(n, size, &total) ? NULL : boot_alloc(total);
    resolve(); /* the boot pool is static: already zero */
  }
  void *p = r_calloc(n, size);
  if (p != NULL && RECORDING()) after_alloc(p, n * size, HOOK_FP); /* non-NULL: no overflow */
  return p;
}

EXPORT void *realloc(void *old, size_t size) {
  if (!RESOLVED()) resolve();
  if (old != NULL && is_boot(old)) {
    /* A boot block's size is not kept: copy what the pool holds from it, at most size. */
    size_t avail = (size_t)(boot + sizeof boot - (char *)old);
    void *p = r_malloc(size);
    if (p != NULL) memcpy(p, old, avail < size ? avail : size);
    return p;
  }
  if (!RECORDING()) return r_realloc(old, size);
  if (mode == M_ASYNC || mode == M_ASYNC16) { /* the consumer cannot give a record back: announce success only */
    void *q = r_realloc(old, size);
    if (q != NULL) {
      if (old != NULL) before_free(old);
      after_alloc(q, size, HOOK_FP);
    }
    return q;
  }
  /* The old record goes first (another thread may get the address as soon as it is freed) and
   * comes back if the real realloc fails. */
  uint64_t had = old != NULL ? before_free(old) : 0;
  void *q = r_realloc(old, size);
  if (q != NULL) {
    after_alloc(q, size, HOOK_FP);
  } else if (had != 0 && size != 0) { /* only exact modes return a record */
    int saved = errno;
    t_guard = 1;
    exact_alloc(old, had & ((1ull << 40) - 1), 0, (uint32_t)(had >> 40));
    t_guard = 0;
    errno = saved;
  }
  return q;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  if (!RESOLVED()) resolve();
  int rc = r_posix_memalign(out, align, size);
  if (rc == 0 && RECORDING()) after_alloc(*out, size, HOOK_FP);
  return rc;
}

EXPORT void *aligned_alloc(size_t align, size_t size) {
  if (!RESOLVED()) resolve();
  void *p = r_aligned_alloc(align, size);
  if (p != NULL && RECORDING()) after_alloc(p, size, HOOK_FP);
  return p;
}

EXPORT void *memalign(size_t align, size_t size) {
  if (!RESOLVED()) resolve();
  void *p = r_memalign(align, size);
  if (p != NULL && RECORDING()) after_alloc(p, size, HOOK_FP);
  return p;
}
