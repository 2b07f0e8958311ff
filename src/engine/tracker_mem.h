/* tracker_mem.h - the tracker's own memory: counted page mappings and the intern arena (tracker_mem.c). */
#ifndef LEAKLAB_TRACKER_MEM_H
#define LEAKLAB_TRACKER_MEM_H
/*
 * Contract: nothing here locks; the tracker calls it with its mutex held (tests: one thread).
 * Nothing allocates through malloc: every byte is mapped, counted for ll_get_tracker_memory(),
 * and can be made to fail (ll__tmem_fail) so that tests reach the out-of-memory paths.
 */
#include <stddef.h>

/* Whole pages, zeroed; *got receives the mapped length (>= want). NULL on failure. */
void *ll__tmem_map(size_t want, size_t *got);
void ll__tmem_unmap(void *p, size_t len);
/* Bump allocation from the tracker's intern arena (created on first use); NULL on failure. */
void *ll__tmem_arena_alloc(size_t n);
/* Bytes currently mapped by ll__tmem_map plus the intern arena. */
size_t ll__tmem_bytes(void);
/* Drop the intern arena (everything allocated from it). Tables are unmapped by their owners. */
void ll__tmem_arena_reset(void);
/* Carve every later mapping from one region of `reserve` bytes of address space shared with
 * processes forked afterwards, and share this bookkeeping too (ll__tracker_share). Only before
 * anything is mapped: 0, or -1 (nothing changed). */
int ll__tmem_share(size_t reserve);
/* Give back the shared region's unused address space (its used pages stay, shared); later
 * mappings are private. Only when no other process carves from it any more. */
void ll__tmem_seal(void);
/* Test hook: when nonzero, every ll__tmem_* request fails as if mmap had. */
extern int ll__tmem_fail;

#endif
