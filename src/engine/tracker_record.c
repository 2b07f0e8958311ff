/* tracker_record.c - the tracker's recording paths: allocations, frees and reallocs into the live table and the per-traceback accounting. */
#include <string.h>

#include <leaklab/leaklab.h>

#include "engine.h"
#include "intern.h"
#include "livetable.h"
#include "series.h"
#include "tracker_state.h"

/* Re-read under the lock (or with the lock skipped, single-threaded). */
static inline int is_tracing_locked(void) {
  return atomic_load_explicit(&ll__T.tracing, memory_order_relaxed);
}

/* ---- accounting ---------------------------------------------------------------------------- */

/* The recording path's pieces: always inlined into it (one function per event). */
#define HOT LL__HOT_INLINE

_Static_assert(LL__TBCACHE_ID_LIMIT <= LL__LT_TB_LIMIT, "a cached traceback id packs in a slot");

/* Before a traceback's current values change, keep them as its peak values if the peak was
 * reached since it last changed: O(1) per operation, and the peak snapshot stays exact. */
HOT ll__tb_t *tb_touch(uint32_t id) {
  ll__tb_t *tb = &ll__T.in.tbs[id];
  if (__builtin_expect(tb->pk_gen != ll__T.gen, 0)) { /* once per traceback after a new peak */
    tb->pk_size = tb->cur_size;
    tb->pk_usable = tb->cur_usable;
    tb->pk_count = tb->cur_count;
    tb->pk_gen = ll__T.gen;
  }
  return tb;
}

/* The current bytes passed the peak. */
static inline void peak_rose(void) {
  ll__T.peak = ll__T.current;
  ll__T.gen++; /* every traceback's current values are now its peak values */
  ll__T.peak_clock = ll__T.total_allocs;
  ll__T.series_thr = ll__T.peak / LL__SERIES_SHARE;
  /* Its time, for memory over time's peak point: read once per LL__SERIES_PEAK_DATE
   * allocations at most, so a peak the last allocations made is dated where they were made. */
  if (ll__T.peak_t == 0 || ll__T.total_allocs - ll__T.peak_t_clock >= LL__SERIES_PEAK_DATE) {
    ll__T.peak_t = ll__series_time();
    ll__T.peak_t_clock = ll__T.total_allocs;
  }
}

/* The traceback is returned for the caller's own counters. */
HOT ll__tb_t *account_add(uint32_t id, uint64_t size, uint64_t usable) {
  ll__tb_t *tb = tb_touch(id);
  tb->cur_size += size;
  tb->cur_usable += usable;
  tb->cur_count++;
  ll__T.current += size;
  if (__builtin_expect(ll__T.current > ll__T.peak, 0)) peak_rose();
  if (__builtin_expect(tb->cur_size > ll__T.series_thr && tb->col == 0, 0))
    ll__series_add_col(ll__T.series, &ll__T.in, id);
  return tb;
}

HOT void account_sub(uint32_t id, uint64_t size, uint64_t usable) {
  ll__tb_t *tb = tb_touch(id);
  tb->cur_size -= size;
  tb->cur_usable -= usable;
  tb->cur_count--;
  ll__T.current -= size;
}

/* A usable size below the requested one (a hook that does not know it passes 0) counts as the
 * requested size. */
HOT uint64_t usable_of(size_t size, size_t usable) { return usable < size ? size : usable; }

/* Every allocation seen, recorded or untracked: the histogram describes the program. */
HOT void hist_add(size_t size) {
  int b = size == 0 ? 0 : 64 - __builtin_clzll((unsigned long long)size);
  ll__T.hist_counts[b]++;
  ll__T.hist_bytes[b] += size;
}

/* hist_add for a size below 2^63 (one that packs): 2 * size + 1 has its highest bit at the
 * bucket's number, 0 included, with no branch. */
HOT void hist_add_small(uint64_t size) {
  int b = 63 - __builtin_clzll(2 * size + 1);
  ll__T.hist_counts[b]++;
  ll__T.hist_bytes[b] += size;
}

/* Where a traceback comes from: compile-time sites or native return addresses. */
typedef struct frames_src {
  const ll_site_t *sites;
  const uintptr_t *ips;
  int n;
  ll__tbcache_t *cache; /* with ips: the calling thread's last stack, or NULL */
} frames_src_t;

/* The cached id when the stack is the cached one, frame for frame (never a hash match). */
HOT int cache_hit(const ll__tbcache_t *c, const uintptr_t *ips, uint32_t n, uint32_t total,
              uint32_t *id) {
  if (c->gen != ll__T.tbgen || c->n != n || c->total != total) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (c->ips[i] != ips[i]) return 0;
  *id = c->id;
  return 1;
}

/* The per-thread cache's hit, inline (the hot path); everything else out of line. */
HOT int intern_frames(const frames_src_t *src, uint32_t *id) {
  const ll__tbcache_t *c = src->cache;
  int total = src->n;
  if (c != NULL && total >= 1 && src->sites == NULL && src->ips != NULL) {
    uint32_t n = (uint32_t)(total < ll__T.limit ? total : ll__T.limit);
    if (cache_hit(c, src->ips, n, (uint32_t)total, id)) return 0;
  }
  return ll__intern_stack(&ll__T.in, src->sites, src->ips, src->n, ll__T.limit, src->cache, ll__T.tbgen, id);
}

void ll__tracker_series_none(void) {
  ll__T.series_next = ll__T.series_w = UINT64_MAX;
  ll__T.series_lo = 0;
}

/* A point of memory over time (series.h), due or forced; the next one is due a stride later,
 * or once current moves a step (series.h) away from this one. */
void ll__tracker_series_sample(int force) {
  ll__series_now_t now = {ll__T.total_allocs, ll__T.current, ll__T.peak, ll__T.peak_clock,
                          ll__T.peak_t, ll__T.gen};
  ll__series_sample(ll__T.series, &ll__T.in, &now, force);
  if (ll__T.series == NULL) {
    ll__tracker_series_none();
    return;
  }
  uint64_t step = (ll__T.peak / LL__SERIES_STEP + 1) * ll__T.series->step_mul;
  ll__T.series_next = ll__T.series->next;
  ll__T.series_lo = ll__T.current > step ? ll__T.current - step : 0;
  ll__T.series_w = ll__T.current + step - ll__T.series_lo;
}

/* Current moved a step from the last point (either way). */
HOT int series_stepped(void) { return ll__T.current - ll__T.series_lo > ll__T.series_w; }

/* Record a new block (also the result of a realloc). Never fails the program: a block that
 * cannot be recorded is counted untracked. rc and id: what interning its traceback gave. */
HOT void alloc_rec_locked(uintptr_t p, size_t size, size_t usable, int rc, uint32_t id) {
  int had_old = 0;
  ll__rec_t old;
  if (rc == 0) {
    ll__rec_t r = {size, usable_of(size, usable), id};
    rc = ll__live_put_inl(&ll__T.live, p, &r, &old, &had_old);
  } else {
    had_old = ll__live_remove(&ll__T.live, p, &old);
  }
  /* A stale record at this address belongs to a block already gone. */
  if (__builtin_expect(had_old, 0)) account_sub(old.tb, old.size, old.usable);
  if (__builtin_expect(rc != 0, 0)) {
    ll__T.untracked_allocs++;
    ll__T.untracked_bytes += size;
    return;
  }
  ll__T.total_allocs++;
  ll__T.total_bytes += size;
  uint64_t u = usable_of(size, usable);
  ll__tb_t *tb = account_add(id, size, u);
  tb->all_size += size; /* every allocation, freed or not (a realloc's new block included) */
  tb->all_usable += u;
  tb->all_count++;
  if (__builtin_expect(ll__T.total_allocs >= ll__T.series_next || series_stepped(), 0))
    ll__tracker_series_sample(LL__SERIES_STEPPED);
}

/* The same, interning the traceback first. */
HOT void alloc_locked(void *ptr, size_t size, size_t usable, const frames_src_t *src) {
  uint32_t id;
  hist_add(size);
  ll__T.last_alloc = (uintptr_t)ptr;
  int rc = intern_frames(src, &id);
  alloc_rec_locked((uintptr_t)ptr, size, usable, rc, id);
}

HOT void track_alloc(void *ptr, size_t size, size_t usable, const frames_src_t *src) {
  if (!ll__tracing_fast() || ptr == NULL) return;
  int locked = ll__rec_lock();
  if (is_tracing_locked()) alloc_locked(ptr, size, usable, src);
  ll__rec_unlock(locked);
}

void ll_track_alloc(void *ptr, size_t size, size_t usable, const ll_site_t *sites, int nsite) {
  frames_src_t src = {sites, NULL, nsite, NULL};
  track_alloc(ptr, size, usable, &src);
}

/* A freed block's record is out of the table: its traceback's counters, and a temporary when it
 * was the most recent allocation (freed before any other). */
HOT void freed(uintptr_t p, uint32_t id, uint64_t size, uint64_t usable) {
  account_sub(id, size, usable);
  if (__builtin_expect(series_stepped(), 0)) ll__tracker_series_sample(LL__SERIES_STEPPED);
  if (p == ll__T.last_alloc) {
    ll__tb_t *tb = &ll__T.in.tbs[id];
    tb->tmp_size += size;
    tb->tmp_usable += usable;
    tb->tmp_count++;
    ll__T.last_alloc = 0;
  }
}

/* A free with the lock held (or not needed). */
HOT void free_locked(uintptr_t p) {
  ll__rec_t old;
  if (ll__live_remove_inl(&ll__T.live, p, &old)) freed(p, old.tb, old.size, old.usable);
}

/*
 * The fast paths: the usual native event of a single-threaded process, every event the helper
 * process applies (it is single-threaded, whatever the program), and with the lock held a
 * threaded process's native events (alloc_locked_fast, free_locked_fast). They give exactly what
 * the general paths above give (test_fastpath holds them to it): a case they do not handle (a
 * stack not the cached one, a record that does not pack) goes to the general path before
 * anything has changed, and the rare follow-ups of a change (a new peak, a new series column, a
 * due series point, a table to shrink) are out of line. The table part reads the key's home
 * bucket once; when that is not enough (a full bucket, a key further on, a stale record,
 * growth), livetable.c's whole-table put or remove runs in its place, out of line, and the
 * counters go on as the general path's would (a full home bucket is about one allocation in
 * seven in churn: sending those down the general path interned and looked up twice).
 */

/* The bucket (and in *k its empty slot) where key, nonzero, goes when it is certainly absent and
 * its home bucket has room; NULL: look further. Only a bucket no key passes (overflow count 0)
 * is taken here: the key is then absent unless the bucket holds it, and every slot's overflow
 * bits are 0, so the caller writes the slot whole (ll__lt_set_a, ll__lt_set_b; then count++).
 * The other cases (about one put in fifty in churn) are ll__live_put_main's. */
HOT ll__live_t *home_room(uint64_t key, unsigned *k) {
  ll__livetab_t *t = &ll__T.live;
  if (__builtin_expect(t->count >= t->put_at, 0)) return NULL; /* growth due, wide records, cap 0 */
  ll__live_t *s = &t->slots[ll__lt_home(key, t->cap / LL__LT_BUCKET) * LL__LT_BUCKET];
  unsigned fe, m = ll__lt_scan_put(s, key, &fe);
  if (__builtin_expect(m != 0 || fe == 0, 0)) return NULL;
  *k = (unsigned)__builtin_ctz(fe);
  return s;
}

/* Take key (nonzero; one of 2^45 or more is in no slot) out of its home bucket: 1 and *out; 0:
 * certainly absent; -1: look further. */
HOT int take_home(uint64_t key, ll__rec_t *out) {
  ll__livetab_t *t = &ll__T.live;
  if (__builtin_expect(t->cap == 0, 0)) return -1;
  ll__live_t *s = &t->slots[ll__lt_home(key, t->cap / LL__LT_BUCKET) * LL__LT_BUCKET];
  unsigned fe;
  int ovf;
  unsigned m = ll__lt_scan(s, key, &fe, &ovf);
  if (__builtin_expect(m == 0, 0)) return !ovf && t->wcount == 0 ? 0 : -1;
  unsigned k = (unsigned)__builtin_ctz(m);
  ll__lt_unpack(s, k, out);
  ll__lt_clear(s, k); /* in its home bucket: no overflow count to fix */
  t->count--;
  return 1;
}

/* The counters of a block just recorded (alloc_rec_locked's, in the same order); 1 when one of
 * the rare follow-ups is due (alloc_after). */
HOT int alloc_counted(uintptr_t p, uint64_t size, uint64_t u, uint32_t id) {
  hist_add_small(size); /* the record packs: size < 2^40 */
  ll__T.last_alloc = p;
  ll__T.total_allocs++;
  ll__T.total_bytes += size;
  ll__tb_t *tb = tb_touch(id);
  tb->cur_size += size;
  tb->cur_usable += u;
  tb->cur_count++;
  tb->all_size += size;
  tb->all_usable += u;
  tb->all_count++;
  ll__T.current += size;
  /* series_thr only rises with the peak: false here stays false after peak_rose. */
  return ll__T.current > ll__T.peak || (tb->cur_size > ll__T.series_thr && tb->col == 0) ||
         ll__T.total_allocs >= ll__T.series_next || series_stepped();
}

/* account_add's and alloc_rec_locked's rare cases, after the counters moved; then the state is
 * whole again (the fast path ends here: a tail call keeps it free of calls). */
__attribute__((noinline)) static void alloc_after(uint32_t id) {
  if (ll__T.current > ll__T.peak) peak_rose();
  ll__tb_t *tb = &ll__T.in.tbs[id];
  if (tb->cur_size > ll__T.series_thr && tb->col == 0) ll__series_add_col(ll__T.series, &ll__T.in, id);
  if (ll__T.total_allocs >= ll__T.series_next || series_stepped())
    ll__tracker_series_sample(LL__SERIES_STEPPED);
  ll__rec_busy(0);
}

/* home_room found no room: the whole table's put, then what alloc_rec_locked does around it (a stale
 * record's counters out; a block the table cannot take counted untracked, with the histogram
 * and last_alloc it sees first), the counters, and the state whole again. */
__attribute__((noinline)) static void alloc_further(uintptr_t p, uint64_t key, uint64_t size,
                                                    uint64_t u, uint32_t id) {
  ll__livetab_t *t = &ll__T.live;
  ll__rec_t r = {size, u, id}, old;
  int had_old = 0, rc = 0;
  if (t->wcount == 0 && t->count < t->grow_at) /* a full home bucket, a key further on */
    had_old = ll__live_put_main(t, key, &r, &old);
  else
    rc = ll__live_put(t, p, &r, &old, &had_old);
  if (had_old) account_sub(old.tb, old.size, old.usable);
  if (rc != 0) {
    hist_add(size);
    ll__T.last_alloc = p;
    ll__T.untracked_allocs++;
    ll__T.untracked_bytes += size;
  } else if (alloc_counted(p, size, u, id)) {
    alloc_after(id);
    return;
  }
  ll__rec_busy(0);
}

/* take_home could not tell: free_locked's whole-table removal (the main table beyond the home
 * bucket, then the wide table), then the table shrunk when it is due. */
__attribute__((noinline)) static void free_further(uintptr_t p, uint64_t key) {
  ll__livetab_t *t = &ll__T.live;
  ll__rec_t old;
  int got = key != 0 && t->cap != 0 ? ll__live_take_main(t, key, &old) : 0;
  if (!got && (key == 0 || t->wcount != 0)) {
    got = ll__live_remove(t, p, &old); /* shrinks the table itself */
  } else if (got && t->count < t->shrink_below) {
    ll__live_maybe_shrink(t);
  }
  if (got) freed(p, old.tb, old.size, old.usable);
  ll__rec_busy(0);
}

/* A freed block's rare follow-ups: a point of memory over time, a table to shrink. */
__attribute__((noinline)) static void free_after(void) {
  if (series_stepped()) ll__tracker_series_sample(LL__SERIES_STEPPED);
  if (ll__T.live.count < ll__T.live.shrink_below) ll__live_maybe_shrink(&ll__T.live);
  ll__rec_busy(0);
}

__attribute__((noinline)) static void free_general(void *ptr) {
  if (ptr == NULL) return; /* before the lock: free(NULL) is common */
  int locked = ll__rec_lock();
  if (is_tracing_locked()) free_locked((uintptr_t)ptr);
  ll__rec_unlock(locked);
}

__attribute__((noinline)) static void alloc_general(void *ptr, size_t size, size_t usable,
                                                    const uintptr_t *ips, int nip,
                                                    ll__tbcache_t *cache) {
  frames_src_t src = {NULL, ips, nip, cache};
  track_alloc(ptr, size, usable, &src);
}

/* cache_hit for the fast path: a cache of this traceback generation holds min(total, limit)
 * frames (the generation moves with the limit), so its total alone says whether n matches. */
HOT int cache_fast(const ll__tbcache_t *c, const uintptr_t *ips, int nip, uint32_t *id) {
  if (c->gen != ll__T.tbgen || c->total != (uint32_t)nip || c->ips[0] != ips[0]) return 0;
  for (uint32_t i = 1; i < c->n; i++) /* n >= 1: a filled cache holds min(total, limit) >= 1 */
    if (c->ips[i] != ips[i]) return 0;
  *id = c->id;
  return 1;
}

/* What the allocation's fast path takes (ll__lt_key, ll__lt_packs), in one test: the pointer
 * 8-aligned, nonzero and below 2^48 (p - 8 wraps for 0), size and slack small enough; the id
 * does (LL__TBCACHE_ID_LIMIT) when it comes from the cache. The slack wraps when usable < size
 * (a hook that does not know it passes 0): the general path counts that as usable = size. */
HOT int alloc_fits(uintptr_t p, uint64_t size, uint64_t slack, const ll__tbcache_t *cache,
                   const uintptr_t *ips, int nip, uint32_t *id) {
  return __builtin_expect(cache != NULL, 1) &&
         __builtin_expect(((p & 7) | ((p | (p - 8)) >> (LL__LT_KEY_BITS + 3)) | (size >> LL__LT_SIZE_BITS) |
                           (slack >> (64 - LL__LT_SLACK_SHIFT))) == 0, 1) &&
         __builtin_expect(cache_fast(cache, ips, nip, id), 1);
}

/* The fast paths' changes, from the busy mark that opens the event to the one that closes it:
 * without threads as they are, with threads inside the lock (alloc_locked_fast). Their rare
 * cases are tail calls that end the event (and clear busy): nothing stays live across a call. */
HOT void alloc_fast(uintptr_t p, uint64_t size, uint64_t slack, uint32_t id) {
  uint64_t key = p >> 3;
  ll__rec_busy(1);
  unsigned k;
  ll__live_t *s = home_room(key, &k);
  if (__builtin_expect(s == NULL, 0)) {
    alloc_further(p, key, size, size + slack, id);
    return;
  }
  ll__lt_set_a(s, k, key | slack << LL__LT_SLACK_SHIFT); /* ll__lt_pack */
  ll__lt_set_b(s, k, size | (uint64_t)id << LL__LT_SIZE_BITS);
  ll__T.live.count++;
  if (__builtin_expect(alloc_counted(p, size, size + slack, id), 0)) {
    alloc_after(id);
    return;
  }
  ll__rec_busy(0);
}

/* An 8-aligned pointer other than NULL is looked up by its key p >> 3. One at or above 2^48,
 * which never packs, has key bits no slot has: found in no bucket, it goes to the whole-table
 * removal, which finds it in the wide table. */
HOT void free_fast(uintptr_t p) {
  ll__rec_busy(1);
  uint64_t key = p >> 3;
  ll__rec_t r;
  int rc = take_home(key, &r);
  if (__builtin_expect(rc < 0, 0)) {
    free_further(p, key);
    return;
  }
  if (__builtin_expect(rc > 0, 1)) {
    account_sub(r.tb, r.size, r.usable);
    if (p == ll__T.last_alloc) { /* freed's temporary */
      ll__tb_t *tb = &ll__T.in.tbs[r.tb];
      tb->tmp_size += r.size;
      tb->tmp_usable += r.usable;
      tb->tmp_count++;
      ll__T.last_alloc = 0;
    }
    if (__builtin_expect(series_stepped() || ll__T.live.count < ll__T.live.shrink_below, 0)) {
      free_after();
      return;
    }
  }
  ll__rec_busy(0);
}

/* With threads: the same fast paths, with the lock held for the whole event (the events' order
 * is still the lock's); what they do not take goes the general way inside the same hold. The
 * general path took about 40 instructions more per event (cachegrind, engine_rate once a thread
 * was made), all of them with the lock held. */
__attribute__((noinline)) static void alloc_locked_fast(void *ptr, size_t size, size_t usable,
                                                        const uintptr_t *ips, int nip,
                                                        ll__tbcache_t *cache) {
  if (ptr == NULL) return;
  uintptr_t p = (uintptr_t)ptr;
  uint64_t slack = usable - size;
  uint32_t id;
  ll__lock_take(&ll__tlock);
  if (is_tracing_locked()) {
    if (alloc_fits(p, size, slack, cache, ips, nip, &id)) {
      alloc_fast(p, size, slack, id);
    } else {
      frames_src_t src = {NULL, ips, nip, cache};
      ll__rec_busy(1);
      alloc_locked(ptr, size, usable, &src);
      ll__rec_busy(0);
    }
  }
  ll__lock_give(&ll__tlock);
}

__attribute__((noinline)) static void free_locked_fast(void *ptr) {
  uintptr_t p = (uintptr_t)ptr;
  if (p == 0) return; /* before the lock: free(NULL) is common */
  ll__lock_take(&ll__tlock);
  if (is_tracing_locked()) {
    if (__builtin_expect((p & 7) == 0, 1)) {
      free_fast(p);
    } else {
      ll__rec_busy(1);
      free_locked(p);
      ll__rec_busy(0);
    }
  }
  ll__lock_give(&ll__tlock);
}

void ll__track_alloc_ips_c(void *ptr, size_t size, size_t usable, const uintptr_t *ips, int nip,
                           ll__tbcache_t *cache) {
  if (!ll__tracing_fast()) return;
  if (__builtin_expect(!__libc_single_threaded, 0)) {
    alloc_locked_fast(ptr, size, usable, ips, nip, cache);
    return;
  }
  uintptr_t p = (uintptr_t)ptr;
  uint64_t slack = usable - size;
  uint32_t id;
  if (__builtin_expect(!alloc_fits(p, size, slack, cache, ips, nip, &id), 0)) {
    alloc_general(ptr, size, usable, ips, nip, cache); /* NULL included */
    return;
  }
  alloc_fast(p, size, slack, id);
}

void ll_track_free(void *ptr) {
  if (!ll__tracing_fast()) return;
  uintptr_t p = (uintptr_t)ptr;
  if (__builtin_expect(!__libc_single_threaded, 0)) {
    free_locked_fast(ptr);
    return;
  }
  if (__builtin_expect((p & 7) != 0 || p == 0, 0)) {
    free_general(ptr); /* NULL included */
    return;
  }
  free_fast(p);
}

int ll__track_far(void) { return ll__T.live.cap * sizeof(ll__live_t) > LL__FAR_BYTES; }

void ll__track_prefetch(const void *ptr) {
  const ll__livetab_t *t = &ll__T.live;
  if (t->cap != 0)
    __builtin_prefetch(&t->slots[ll__lt_home((uintptr_t)ptr >> 3, t->cap / LL__LT_BUCKET) * LL__LT_BUCKET], 1);
}

void ll__track_untracked(uint64_t count, uint64_t bytes) {
  if (!ll__tracing_fast() || count == 0) return;
  int locked = ll__rec_lock();
  if (is_tracing_locked()) {
    ll__T.untracked_allocs += count;
    ll__T.untracked_bytes += bytes;
  }
  ll__rec_unlock(locked);
}

/* ---- realloc ------------------------------------------------------------------------------- */

/* Never 0 (0 means "no record"), whatever the epoch. */
static int epoch_tag(void) { return (int)(ll__T.epoch % 0x7fffffffu) + 1; }

void ll_track_realloc_begin(void *old_ptr, ll_realloc_token_t *tok) {
  memset(tok, 0, sizeof *tok);
  tok->old_ptr = old_ptr;
  if (!ll__tracing_fast() || old_ptr == NULL) return;
  ll__rec_t old;
  int locked = ll__rec_lock();
  if (is_tracing_locked() && ll__live_remove_inl(&ll__T.live, (uintptr_t)old_ptr, &old)) {
    account_sub(old.tb, old.size, old.usable);
    tok->size = old.size;
    tok->usable = old.usable;
    tok->traceback = old.tb;
    tok->had_record = epoch_tag(); /* nonzero; also says which tracing session it belongs to */
  }
  ll__rec_unlock(locked);
}

static void restore_locked(const ll_realloc_token_t *tok) {
  int had_old;
  ll__rec_t old;
  if (tok->had_record != epoch_tag() || tok->traceback >= ll__T.in.ntb) return; /* stale token */
  ll__rec_t r = {tok->size, usable_of(tok->size, tok->usable), tok->traceback};
  int rc = ll__live_put(&ll__T.live, (uintptr_t)tok->old_ptr, &r, &old, &had_old);
  if (had_old) account_sub(old.tb, old.size, old.usable);
  if (rc != 0) {
    ll__T.untracked_allocs++;
    ll__T.untracked_bytes += tok->size;
    return;
  }
  (void)account_add(r.tb, r.size, r.usable); /* the same block again: not a new allocation */
}

static void realloc_end(ll_realloc_token_t *tok, void *new_ptr, size_t size, size_t usable,
                        const frames_src_t *src) {
  if (!ll__tracing_fast()) return;
  int locked = ll__rec_lock();
  if (is_tracing_locked()) {
    if (new_ptr != NULL)
      alloc_locked(new_ptr, size, usable, src);
    else if (size != 0 && tok->had_record)
      restore_locked(tok); /* realloc failed: the old block is still there */
    /* new_ptr NULL and size 0: realloc(p, 0) freed p, whose record begin already took out. */
  }
  ll__rec_unlock(locked);
  tok->had_record = 0; /* a token serves once */
}

void ll_track_realloc_end(ll_realloc_token_t *tok, void *new_ptr, size_t size, size_t usable,
                          const ll_site_t *sites, int nsite) {
  frames_src_t src = {sites, NULL, nsite, NULL};
  realloc_end(tok, new_ptr, size, usable, &src);
}

void ll__track_realloc_end_ips_c(ll_realloc_token_t *tok, void *new_ptr, size_t size,
                                 size_t usable, const uintptr_t *ips, int nip,
                                 ll__tbcache_t *cache) {
  frames_src_t src = {NULL, ips, nip, cache};
  realloc_end(tok, new_ptr, size, usable, &src);
}

