/* html_tree.h - internal to the HTML report: frame names and the flamegraph trees of every moment. */
#ifndef LEAKLAB_REPORT_HTML_TREE_H
#define LEAKLAB_REPORT_HTML_TREE_H
/*
 * Contract (html.c is the only caller): one ll__html_names_t per page names every frame the page
 * shows, in the order first asked for (the page's "frames" array); one ll__html_forest_t per
 * attribution holds every traceback of every moment seen so far, named once and ranked in two
 * path orders (callers first, allocating line first), so a traceback's frames are named once
 * however many moments hold it, and each moment's trees are read off its traces in rank order. Snapshots passed in
 * must outlive the forest (tracebacks are keyed by address). Errors: LL_ENOMEM.
 */
#include <stdint.h>
#include <stdio.h>

#include <leaklab/leaklab.h>

typedef struct ll__html_names ll__html_names_t;
typedef struct ll__html_forest ll__html_forest_t;

ll__html_names_t *ll__html_names_new(void);
void ll__html_names_free(ll__html_names_t *nm);
/* The index of f's name: one per distinct (function, file, line), the address too when that is
 * all that is known. */
int ll__html_name(ll__html_names_t *nm, const ll_frame_t *f, uint32_t *out);
/* The "frames" array's items, comma-separated JSON strings, in index order. */
void ll__html_write_names(FILE *out, const ll__html_names_t *nm);

ll__html_forest_t *ll__html_forest_new(ll__html_names_t *nm);
/* Names snap's new tracebacks now, as ll__html_emit_trees would: a caller that adds every
 * moment's snapshot before writing the first ranks the tracebacks once instead of after each
 * moment that brings new ones. */
int ll__html_forest_add(ll__html_forest_t *fo, const ll_snapshot_t *snap);
void ll__html_forest_free(ll__html_forest_t *fo);
/* {"callers": tree, "inverted": tree} of one snapshot (html.h's node arrays, children under
 * min_share of the snapshot's bytes merged). */
int ll__html_emit_trees(FILE *out, ll__html_forest_t *fo, const ll_snapshot_t *snap,
                        const char *at, double min_share);

#endif
