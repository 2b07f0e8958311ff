/* retainers.h - internal: the exit scan per report line (kinds, holders, the chain to a root) for report.c and html.c. */
#ifndef LEAKLAB_RETAINERS_H
#define LEAKLAB_RETAINERS_H
/*
 * Contract: reads the scan's figures (ll_reach_info_t) and statistics only; malloc'd state,
 * freed by ll__retain_free. A statistic whose key the end snapshot does not have gets nothing.
 */
#include <stdio.h>

#include <leaklab/report.h>

typedef struct ll__retain ll__retain_t;

/* Per key of the grouping: NULL when out of memory. */
ll__retain_t *ll__retain_build(const ll_reach_info_t *ri, ll_group_t group);
void ll__retain_free(ll__retain_t *rt);
/* {"definitely_lost": {"bytes": B, "blocks": N}, ...} */
void ll__retain_json_kinds(FILE *out, const ll_reach_kinds_t *k);
/* ', "leak_kinds": {...}, "held_by": [...]' for a site (json_string: the report's escaper). */
void ll__retain_json_site(FILE *out, const ll__retain_t *rt, const ll_stat_t *st,
                          void (*json_string)(FILE *, const char *));
/* "exit scan: 614 MiB of live blocks and 139 KiB of roots read in 0.812 s (0.801 s of CPU),
 * 1 thread" - what the scan cost (it varies from run to run: text only). */
void ll__retain_text_cost(FILE *out, const ll_reach_info_t *ri);
/* Text under a line: its kinds, then the chain holding it up to a root. */
void ll__retain_text(FILE *out, const ll__retain_t *rt, const ll_stat_t *st);

/* Every key in turn (the HTML page lists them): k from 0 to ll__retain_count; a key whose frame
 * is NULL stands for another one (skip it). The chain is the line --retainers prints under it,
 * without indent or newline ("file.c:12 <- 3 blocks held by ... <- global g (file.c)"), and
 * nothing when nothing holds the key's blocks (they are lost). */
size_t ll__retain_count(const ll__retain_t *rt);
const ll_frame_t *ll__retain_frame(const ll__retain_t *rt, size_t k);
const ll_reach_kinds_t *ll__retain_kinds(const ll__retain_t *rt, size_t k);
void ll__retain_chain(FILE *out, const ll__retain_t *rt, size_t k);

#endif
