/* symbolize.h - report-time symbolisation of native frames (libdw): function (file:line), inlined frames too. */
#ifndef LEAKLAB_SYMBOLIZE_H
#define LEAKLAB_SYMBOLIZE_H
/*
 * A preload capture stores return addresses (frames with `ip` set, filename "<unknown>") and a
 * module map (capture_format.h). Symbolising turns each address into one frame per function it
 * stands for: the innermost inlined function first, then the functions it was inlined into,
 * each with its own file:line (the call site, for the outer ones). Addresses in modules without
 * debug information get the module's path as filename, line 0 and the symbol name, or, with no
 * symbol either (a stripped binary), MODULE+0xOFFSET as the function: the address in the
 * module's own terms (addr2line's), the same from run to run, so each call site stays apart.
 *
 * Attribution:
 * - default (native = 0): only frames in the program's own code are kept - the main executable
 *   and any library outside the system library directories (/lib, /usr/lib, ...; see
 *   ll_cap_path_is_system) - so frames[0] is the first own-code frame, the line a report shows;
 *   a stack with no own-code frame at all (the loader's or libc's own blocks) keeps all its
 *   frames, so its innermost library frame names it.
 * - native (native = 1): every frame, library ones included (GMP's function under the user's
 *   line), as memray's --native.
 * Frames that were already symbolic (ip 0, from the compile-time hooks) pass through unchanged.
 *
 * Contract: the input snapshot is not modified; the result is a new snapshot (free it with
 * ll_snapshot_free). A module whose file is gone or was rebuilt since the capture (its build-id
 * differs) is not symbolised: its frames keep the module path, line 0 and MODULE+0xOFFSET
 * rather than show another build's lines. Errors: negative LL_E* codes.
 */
#include <stddef.h>
#include <stdint.h>

#include <leaklab/leaklab.h>

#include "capture_read.h"

typedef struct ll_symbolizer ll_symbolizer_t;

/* From a capture's decoded module map (ll_capture_modules; copied). The last one freed is kept
 * and handed back to the next request with an equal map (paths, ranges, biases, build ids), so
 * a report that loads several moments and sections of one capture opens each module and its
 * debug file once (symbolize_reuse.c; not thread-safe: the reports are single-threaded). */
int ll_symbolizer_new(const ll_cap_module_t *mods, size_t nmod, ll_symbolizer_t **out);
void ll_symbolizer_free(ll_symbolizer_t *s);
/* A new snapshot with native frames symbolised and attributed (native 0 or 1). */
int ll_symbolize_snapshot(ll_symbolizer_t *s, const ll_snapshot_t *in, int native,
                          ll_snapshot_t **out);

/* Moment `at` of an open capture, symbolised when it is a preload capture (it has a module map);
 * a plain snapshot file's moment loads as recorded. native: as below. */
int ll_symbolize_capture(const ll_capture_t *cap, ll_at_t at, int native, ll_snapshot_t **out);
/* Moments at[0..n) of an open capture at once (n <= LL_AT__COUNT), in the attributions asked
 * for: own[i] as native = 0, native[i] as native = 1 (either array may be NULL, not both). Each
 * address is resolved once and each traceback converted once per attribution, however many
 * moments hold it: an HTML report's dozen snapshots of a 90k-traceback capture cost about one.
 * The outputs share their memory; each is freed with ll_snapshot_free. A plain snapshot file:
 * its moments as recorded, into own (else native). Nothing in the outputs on failure. */
int ll_symbolize_moments(const ll_capture_t *cap, const ll_at_t *at, size_t n,
                         ll_snapshot_t **own, ll_snapshot_t **native);
/* Load moment `at` of a snapshot file, symbolised when the file is a preload capture (it has
 * a module map); other snapshot files load as ll_snapshot_load loads them. native: 0 or 1 as
 * above, -1 for what the capture was recorded with (`leaklab run --native`). This is the call
 * verbs that need one moment of a file use in place of ll_snapshot_load. */
int ll_symbolize_load(const char *path, ll_at_t at, int native, ll_snapshot_t **out);

/* The exit scan's roots, named (capture_reach.h): a global as "name (file.c)" (the symbol
 * holding addr, "+off" inside it, and the source file declaring it, else the module's name);
 * a return address as its function's name ("?" when unknown: -1). Both always fill buf. */
int ll_symbolize_global(ll_symbolizer_t *s, uint64_t addr, char *buf, size_t len);
int ll_symbolize_function(ll_symbolizer_t *s, uint64_t ip, char *buf, size_t len);
/* Internal: a new symboliser and its end, without reuse; its module map. */
int ll__symbolizer_open(const ll_cap_module_t *mods, size_t nmod, ll_symbolizer_t **out);
void ll__symbolizer_close(ll_symbolizer_t *s);
const ll_cap_module_t *ll__symbolizer_map(const ll_symbolizer_t *s, size_t *nmod);
/* How many symbolisers were opened so far (for tests: reuse opens none). */
uint64_t ll__symbolizer_opens(void);
/* libdw's session behind a symbolizer (symbolize_data.c). */
struct Dwfl;
struct Dwfl *ll__symbolizer_dwfl(ll_symbolizer_t *s);

#endif
