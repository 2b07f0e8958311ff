/* usable_sizes.c - allocates a known list of sizes, one line each, and prints what malloc_usable_size says the allocator in use gave for each. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

/* Sizes on and around size-class edges (jemalloc: 8, 16, 32, 48, ... 4 KiB pages, large); on
 * glibc, 300000 B is an mmapped chunk (above the 128 KiB threshold), whose usable size the
 * preload reads from its header differently. */
static const size_t sizes[] = {1, 8, 17, 24, 100, 136, 1000, 3000, 4097, 100000, 300000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* One call site per size, so each is its own report line: the line is printed beside it. */
#define ALLOC(i) (blocks[i] = malloc(sizes[i]), lines[i] = __LINE__)

int main(void) {
  void *blocks[NSIZES];
  int lines[NSIZES];
  ALLOC(0);
  ALLOC(1);
  ALLOC(2);
  ALLOC(3);
  ALLOC(4);
  ALLOC(5);
  ALLOC(6);
  ALLOC(7);
  ALLOC(8);
  ALLOC(9);
  ALLOC(10);
  /* "line size usable": the test matches each line of the report against these. */
  for (size_t i = 0; i < NSIZES; i++) {
    if (blocks[i] == NULL) return 1;
    printf("%d %zu %zu\n", lines[i], sizes[i], malloc_usable_size(blocks[i]));
  }
  fflush(stdout);
  for (size_t i = 0; i < NSIZES; i++) free(blocks[i]);
  return 0;
}
