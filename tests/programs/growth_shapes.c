/* growth_shapes.c - three lines with known shapes over one run: a list that grows, a ring that levels off, buffers given back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 20000
#define RING 500

struct node {
  struct node *next;
  char payload[56];
};

int main(void) {
  struct node *list = NULL;
  char *ring[RING] = {0};
  char *scratch[64] = {0};
  unsigned long sum = 0;

  /* The list keeps one node more every round until exit; the ring holds RING buffers at most,
   * each replaced in turn. */
  for (int r = 0; r < ROUNDS; r++) {
    struct node *n = malloc(sizeof *n); /* @GROWS */
    n->next = list;
    n->payload[0] = (char)r;
    list = n;

    free(ring[r % RING]);
    ring[r % RING] = malloc(200); /* @BOUNDED */
    ring[r % RING][0] = (char)r;

    /* A working set that builds up during the first half, then is given back. */
    if (r < ROUNDS / 2 && r % 100 == 0) {
      char *b = malloc(4096); /* @RELEASED */
      memset(b, r & 0xff, 4096);
      sum += (unsigned char)b[r % 4096];
      free(scratch[(r / 100) % 64]);
      scratch[(r / 100) % 64] = b;
    }
    if (r == ROUNDS / 2)
      for (int i = 0; i < 64; i++) {
        free(scratch[i]);
        scratch[i] = NULL;
      }
  }
  for (struct node *n = list; n != NULL; n = n->next) sum += (unsigned char)n->payload[0];
  printf("%lu\n", sum);
  return 0;
}
