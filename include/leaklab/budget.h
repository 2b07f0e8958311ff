/* budget.h - memory budgets: a block's own peak and leaks, checked against limits, with pytest-memray's failure text. */
#ifndef LEAKLAB_BUDGET_H
#define LEAKLAB_BUDGET_H
/*
 * Contract:
 * - A budget measures one block of code: ll_budget_begin() ... ll_budget_end(). The block's peak
 *   is the high-water mark of traced memory during the block minus what was live when it began
 *   (ll_budget_begin resets the tracker's peak), so every block measures from its own start, as
 *   many times as a process likes. The lines behind the peak are the peak's live set minus the
 *   live set at the start; the leaks are the live set at the end minus the live set at the start.
 * - Sizes are requested bytes, counted by the tracker: the same code gives the same figures run
 *   after run (no resident-set or allocator noise), so a limit can be exact.
 * - Only allocations the tracker sees count: code compiled with <leaklab/hooks.h> (-include it,
 *   or leaklab_trace_target() in CMake). Allocations of every thread count while a block is open.
 * - One block is open at a time in a process (blocks do not nest). The open block's state is
 *   kept inside the library, never in the caller's ll_budget_t, so a block abandoned by a
 *   longjmp (a failed cmocka assertion) can be dropped later with ll_budget_abort().
 * - When tracing was off, ll_budget_begin starts it and ll_budget_end stops it again. When it
 *   was on (LEAKLAB_OUTPUT, or the program's own ll_start), it stays on, but the whole-program
 *   peak is reset by every block.
 * - Functions returning int return 0 (or LL_LIMIT_*) on success and a negative LL_E* code on
 *   failure. Snapshots and messages are made in the tracker's private memory or the caller's
 *   buffer: checking a budget never disturbs what is measured.
 */
#include <stddef.h>
#include <stdint.h>

#include <leaklab/leaklab.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sizes ------------------------------------------------------------------------------------ */

/* SIZE as the leaklab command takes it: a decimal number (fraction allowed), optional spaces, an
 * optional unit B, KB, KiB, MB, MiB, GB, GiB, TB, TiB (case-insensitive, binary as pytest-memray:
 * 1 KB = 1 KiB = 1024 B; no unit means bytes): "70MB", "70 MiB", "1.5GB", "512KB", "100B".
 * Fractions of a byte are dropped (exactly, no floating point). 0 on success, LL_EINVAL for
 * anything else (blanks around it, a sign, an unknown unit, above UINT64_MAX); *out untouched
 * on failure. */
LL_API int ll_parse_size(const char *text, uint64_t *out);

/* pytest-memray's size style: "%.1f" then KiB/MiB/... with no space ("70.0MiB", "512.0B"): the
 * unit is the first of B, KiB, MiB, GiB, TiB, PiB, EiB under which the value is below 1024.
 * snprintf semantics. */
LL_API int ll_format_memray_size(char *buf, size_t len, double bytes);

/* ---- limits on snapshots (what `leaklab check` uses) ------------------------------------------ */

enum {
  LL_LIMIT_OK = 0,      /* within the limit */
  LL_LIMIT_EXCEEDED = 1 /* over it: the message says where the memory went */
};

/* Lines shown in a failure message, and frames shown under each (pytest-memray shows 10). */
#define LL_LIMIT_TOP 10
#define LL_LIMIT_FRAMES 5
/* A message buffer this large holds any failure text whole (longer text is cut at a line end
 * and ends with "[message truncated]"). */
#define LL_LIMIT_MSG_SIZE 16384

/* limit_memory: exceeded when peak >= limit (the peak must be strictly below). On pass, msg
 * gets one line, "peak 5.4MiB (5662310 B) is below the limit 70.0MiB"; when exceeded:
 *   Test was limited to 70.0MiB but allocated 614.4MiB
 *   List of allocations:
 *       - 600.0 MiB allocated here:
 *           fill_cache at cache.c:40
 *           main at main.c:12
 *   ...and 3 more
 * The lines are those holding memory in `at_peak` beyond `base` (base NULL: all of at_peak),
 * grouped by line (file, line, function) and sorted by size; sizes in tracemalloc's format;
 * under each line, the frames of its largest call stack. Every line of msg ends with '\n'. */
LL_API int ll_limit_memory(uint64_t limit, uint64_t peak, const ll_snapshot_t *at_peak,
                           const ll_snapshot_t *base, char *msg, size_t len);

/* limit_leaks: exceeded when any one line leaks `limit` bytes or more: the memory it holds in
 * `leaks` beyond `base` (base NULL: all of leaks). *largest (optional) gets the largest leak of
 * one line. On pass, one line: "no line leaked 1.0KiB or more (largest: 512.0B)"; when exceeded:
 *   Test was limited to leaking 1.0KiB per line but leaked 4.0KiB at 2 lines
 *   List of leaks:
 *       - 3.0 KiB leaked here:
 *           remember at cache.c:51
 *       - 1.0 KiB leaked here:
 *           ...
 * listing the lines at or over the limit (the top LL_LIMIT_TOP, then "...and N more"); 4.0KiB is
 * what those lines leaked together. */
LL_API int ll_limit_leaks(uint64_t limit, const ll_snapshot_t *leaks, const ll_snapshot_t *base,
                          uint64_t *largest, char *msg, size_t len);

/* ---- budgets of a block of code --------------------------------------------------------------- */

typedef struct ll_budget {
  uint64_t begin_bytes; /* traced memory when the block began */
  uint64_t peak_bytes;  /* the block's own peak: high-water mark during it minus begin_bytes */
  uint64_t end_bytes;   /* traced memory when the block ended */
  ll_snapshot_t *begin; /* live set at the start, at the block's peak, at its end; owned by */
  ll_snapshot_t *peak;  /* the budget until ll_budget_free */
  ll_snapshot_t *end;
} ll_budget_t;

/* Open a block: start tracing when it is off, reset the peak, remember the live set. *b is
 * cleared (results come with ll_budget_end). LL_EINVAL when a block is already open. */
LL_API int ll_budget_begin(ll_budget_t *b);
/* Close the block b opened and fill in its results (stop tracing when begin started it).
 * LL_EINVAL when b has no open block; LL_ENOTRACING when tracing was stopped during the block
 * (nothing can be said: the block is closed anyway). */
LL_API int ll_budget_end(ll_budget_t *b);
/* 1 when a block is open, 0 otherwise. */
LL_API int ll_budget_is_open(void);
/* Drop the open block, if any, without results (stop tracing when its begin started it). For a
 * block whose ll_budget_end will never run: a test that failed inside it. */
LL_API void ll_budget_abort(void);
/* Release the results' snapshots; *b is cleared. Safe on a cleared budget. */
LL_API void ll_budget_free(ll_budget_t *b);

/* ll_limit_memory / ll_limit_leaks on a closed block (its peak and lines beyond its start). */
LL_API int ll_budget_limit_memory(const ll_budget_t *b, uint64_t limit, char *msg, size_t len);
LL_API int ll_budget_limit_leaks(const ll_budget_t *b, uint64_t limit, char *msg, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* LEAKLAB_BUDGET_H */
