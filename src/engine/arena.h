/* arena.h - private mmap-backed bump arenas: the tracker's own memory, never from malloc. */
#ifndef LEAKLAB_ARENA_H
#define LEAKLAB_ARENA_H
/*
 * Contract: an arena hands out zeroed, 16-byte aligned memory from chunks it maps with mmap;
 * nothing is freed alone, everything goes with ll__arena_free. Allocation failure returns NULL
 * (never aborts). Not thread-safe: an arena belongs to one owner, who locks if it must; several
 * objects may share one (ll__arena_ref: the last ll__arena_free unmaps it).
 * ll__mmap_alloc/ll__mmap_free serve large growable tables (hash tables) the same way.
 */
#include <stddef.h>

typedef struct ll__arena ll__arena_t;

/* Where an arena's chunks come from: map returns whole zeroed pages (NULL on failure).
 * grow_to: 0, every chunk 64 KiB (or what one allocation needs); else each new chunk is as big
 * as the arena so far, up to grow_to, so a big arena is a few dozen chunks, not tens of
 * thousands (each unmap of a chunk flushes the TLB of every CPU the process ran on). */
typedef struct ll__arena_mem {
  void *(*map)(size_t size);
  void (*unmap)(void *p, size_t size);
  size_t grow_to;
} ll__arena_mem_t;

ll__arena_t *ll__arena_new(void);
/* The same with chunks from mem (which must outlive the arena). */
ll__arena_t *ll__arena_new_with(const ll__arena_mem_t *mem);
void ll__arena_free(ll__arena_t *a);
/* One more ll__arena_free before the arena goes (snapshots sharing their tracebacks). */
void ll__arena_ref(ll__arena_t *a);
void *ll__arena_alloc(ll__arena_t *a, size_t n);
char *ll__arena_strdup(ll__arena_t *a, const char *s);
/* Bytes mapped by the arena (its chunks and itself). */
size_t ll__arena_bytes(const ll__arena_t *a);

/* Whole pages, zeroed; size is rounded up to pages by the callee. NULL on failure. */
void *ll__mmap_alloc(size_t size);
void ll__mmap_free(void *p, size_t size);
/* Make the whole pages at obj (page-aligned, len a multiple of the page size) shared with
 * processes forked afterwards, keeping their contents. 0, or -1 (nothing changed). */
int ll__mmap_share(void *obj, size_t len);

#endif
