/* state_churn.h - a packet crossing a "firewall" of moving scanners: copy state, mutate it, or compute. */
#ifndef LL_STATE_CHURN_H
#define LL_STATE_CHURN_H

#include <stddef.h>
#include <stdint.h>

enum sc_variant {
  SC_COPYING,    /* every time step makes a new copy of the whole state (a block per scanner) */
  SC_IN_PLACE,   /* two state objects, allocated once, advanced in place */
  SC_ARITHMETIC, /* no state: where a scanner is at time t is a modulo away */
  SC_VARIANT_COUNT
};

extern const char *const sc_variant_names[SC_VARIANT_COUNT];

#define SC_DEFAULT_LAYERS 24UL

/* A layer of the firewall: a scanner at `depth` sweeping positions 0 .. range-1 and back, one
 * position per time step, starting at 0 at time 0. */
struct sc_layer {
  uint32_t depth;
  uint32_t range; /* >= 2 */
};

/* The firewall: layers in increasing depth, and the number of depths a packet crosses. */
typedef struct sc_firewall {
  uint32_t depths;
  size_t count;
  struct sc_layer layers[];
} sc_firewall;

/* The lesson's firewall: its first `count` layers (at most SC_DEFAULT_LAYERS; --scale cuts it
 * short). */
sc_firewall *sc_firewall_lesson(size_t count);
/* A firewall of the given layers (depths strictly increasing, ranges >= 2). */
sc_firewall *sc_firewall_new(const struct sc_layer *layers, size_t count);
void sc_firewall_free(sc_firewall *fw);

/* A packet sent at time `delay` is at depth d at time delay + d, and is caught when that
 * layer's scanner is at position 0 then. */
struct sc_result {
  int found;             /* 1 when a delay below the limit gets through */
  uint64_t delay;        /* the smallest such delay */
  uint64_t scanner_moves; /* scanner steps simulated on the way (0 for SC_ARITHMETIC) */
};

/* Tries delays 0, 1, ... up to limit - 1. */
void sc_find_delay(enum sc_variant v, const sc_firewall *fw, uint64_t limit,
                   struct sc_result *out);

/* Whether the scanner of `layer` is at position 0 at time t: the closed form. */
int sc_at_top(const struct sc_layer *layer, uint64_t t);

#endif
