/* reach_kinds.c - a heap whose leak kinds at exit are known: globals, lost trees, cycles, interior pointers, TLS, a register, a live thread's stack. */
/*
 * Every block is made at its own line, with its own size, zero-filled (calloc), so each line is
 * one memcheck loss record of one kind:
 *   still reachable: a list from a global (3 nodes), a cycle from a global (2), a block held
 *     in thread-local storage, a block held only in a callee-saved register when exit() is
 *     called, and with "thread", a block on the stack of a thread still alive at exit;
 *   definitely lost: a dropped block, the root of a lost tree, one block of a lost cycle (the
 *     lower address leads memcheck's clique);
 *   indirectly lost: the lost tree's children and grandchild, the cycle's other block;
 *   possibly lost: a block a global points into (16 bytes in), but not at.
 * Only write(2) prints: no stdio buffer joins the heap. Arguments: [thread].
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
  struct node *next;
  char pad[40];
};

struct tree {
  struct tree *left, *right;
  char pad[48];
};

struct node *g_list;      /* 3 still-reachable nodes, 48 B each */
struct node *g_cycle;     /* 2 still-reachable nodes pointing at each other */
char *g_interior;         /* points 16 bytes into a 96-byte block: possibly lost */
static char *volatile g_sink;  /* a store the compiler keeps, then cleared */
static __thread char *t_held; /* a 72-byte block held by the main thread's TLS */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *keeper(void *arg) {
  (void)arg;
  char *volatile mine = calloc(1, 104); /* still reachable: only this thread's stack holds it */
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  for (;;) pause();
  return mine;
}

__attribute__((noinline)) static void build(void) {
  for (int i = 0; i < 3; i++) {
    struct node *n = calloc(1, sizeof *n); /* still reachable: the global list */
    n->next = g_list;
    g_list = n;
  }
  struct node *a = calloc(1, 48 + 8); /* still reachable: a cycle held by a global */
  struct node *b = calloc(1, 48 + 16); /* still reachable: the cycle's other block */
  a->next = b;
  b->next = a;
  g_cycle = a;

  struct tree *root = calloc(1, sizeof *root + 8);   /* definitely lost: a tree's root */
  root->left = calloc(1, 32);                        /* indirectly lost: a child */
  root->right = calloc(1, 40);                       /* indirectly lost: the other child */
  ((struct tree *)root->left)->left = calloc(1, 24); /* indirectly lost: a grandchild (>= 16 B) */

  struct node *c = calloc(1, 120); /* a lost cycle: one definite, one indirect */
  struct node *d = calloc(1, 136); /* the cycle's other block */
  c->next = d;
  d->next = c;

  g_sink = calloc(1, 200); /* definitely lost: dropped at once */
  g_sink = NULL;

  g_interior = (char *)calloc(1, 96) + 16; /* possibly lost: only an interior pointer */
  t_held = calloc(1, 72);                  /* still reachable: TLS */
}

/* Overwrite the dead stack below main's frame, where build() left copies of its pointers:
 * a conservative scan that reads below the stack pointer would see them. */
__attribute__((noinline)) static void scrub(void) {
  volatile char junk[64 * 1024];
  memset((char *)junk, 0, sizeof junk);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t th;
    pthread_create(&th, NULL, keeper, NULL);
    pthread_mutex_lock(&mu);
    while (!ready) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
  }
  build();
  scrub();
  /* still reachable: held only in a callee-saved register (r15) when exit is called; exit's
   * callees save it on the stack before they use r15, and it stays a root either way. */
  register char *kept __asm__("r15") = calloc(1, 88);
  __asm__ volatile("" : "+r"(kept));
  scrub();
  if (write(1, "done\n", 5) != 5) return 1;
  __asm__ volatile("" : : "r"(kept));
  exit(0);
}
