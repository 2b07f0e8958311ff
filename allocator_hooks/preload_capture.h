/* preload_capture.h - writing the capture file: the snapshots and every section, once, at the end. */
#ifndef LEAKLAB_PRELOAD_CAPTURE_H
#define LEAKLAB_PRELOAD_CAPTURE_H
/*
 * Contract: ll__pl_write_capture runs once per recording process, with recording stopped and the
 * tracker frozen (or known unreadable: `partial`), under the recursion guard; from a fatal
 * signal it takes no lock the crashed thread may hold for long (bounded waits) and asks jemalloc
 * nothing. Calls preload_state, preload_modules, preload_timeline, preload_stack, preload_async,
 * preload_chain, preload_leaks, preload_jemalloc, preload_scan and the engine (see preload_state.h for the
 * modules' order).
 */
#include <stdint.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Where the capture goes (a followed child: CAPTURE.<pid>). */
void ll__pl_capture_set_path(const char *path);
/* Process flags the capture carries: LL_CAP_F_NATIVE, LL_CAP_F_CHILD. */
void ll__pl_capture_set_flags(uint32_t flags);
/* And one more (LL_CAP_F_EXEC_UNFOLLOWED). */
void ll__pl_capture_add_flags(uint32_t flags);
/* Write the capture: how = LL_CAP_END_*, sig the signal for LL_CAP_END_SIGNAL. partial: the
 * tracker could not be read consistently (crash inside it): only the process facts and the
 * modules (memory over time is the engine's series: not readable then either). Says on stderr what failed; returns 0 or a negative LL_E* code. */
int ll__pl_write_capture(int how, int sig, int partial);

#pragma GCC visibility pop

#endif
