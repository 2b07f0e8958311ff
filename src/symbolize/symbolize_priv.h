/* symbolize_priv.h - what symbolize.c (one address) gives symbolize_snapshot.c (whole snapshots). */
#ifndef LEAKLAB_SYMBOLIZE_PRIV_H
#define LEAKLAB_SYMBOLIZE_PRIV_H
/*
 * Contract: internal to src/symbolize. An address stands for at most LL__SYM_IP_MAX frames (an
 * inline chain; deeper ones are cut), innermost first, their strings copied into the caller's
 * arena. Errors: negative LL_E* codes.
 */
#include <stdint.h>

#include "arena.h"
#include "symbolize.h"

#define LL__SYM_IP_MAX 64

typedef struct ll__sym_ip {
  ll_frame_t frames[LL__SYM_IP_MAX];
  uint32_t n;
  int own; /* the address is in the program's own code */
} ll__sym_ip_t;

/* The frames return address `ip` stands for. */
int ll__symbolize_ip(ll_symbolizer_t *s, uint64_t ip, ll__arena_t *arena, ll__sym_ip_t *out);
/* Whether ip is in a module of the program's own code (the module map alone: nothing read). */
int ll__symbolizer_owns(const ll_symbolizer_t *s, uint64_t ip);

#endif
