/* symbolize_pmap.h - the symboliser's u64 -> pointer map (addresses, tracebacks, DIEs to what was made of them). */
#ifndef LL_SYMBOLIZE_PMAP_H
#define LL_SYMBOLIZE_PMAP_H

/* Contract: keys are nonzero (0 marks an empty slot: no address, traceback or DIE pointer is
 * 0); a zeroed ll__pmap_t is an empty map; its memory is mmap'd (ll__mmap_alloc), never the
 * program's heap; put returns 0 or LL_ENOMEM and then leaves the map as it was. */

#include <stddef.h>
#include <stdint.h>

typedef struct ll__pmap {
  uint64_t *keys;
  void **vals;
  size_t cap, n;
} ll__pmap_t;

void *ll__pmap_get(const ll__pmap_t *m, uint64_t k); /* NULL when absent */
int ll__pmap_put(ll__pmap_t *m, uint64_t k, void *v);
void ll__pmap_free(ll__pmap_t *m); /* and zero it */

#endif
