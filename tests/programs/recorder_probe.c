/* recorder_probe.c - what the asynchronous recorder must get right: every allocation function at varying depths, wait() with no child, a pause to look at the helper. */
/*
 * usage: recorder_probe mix N     N rounds of malloc, calloc, realloc (grow, shrink, to and from
 *                                 NULL), posix_memalign, aligned_alloc, strdup and free, made at
 *                                 recursion depths 0..19 (stacks that share their outer frames
 *                                 and differ inside), some freed at once (temporaries), some kept
 *                                 (@keep), and one site through two callers in turn (@twin);
 *                                 prints what it made
 *        recorder_probe wait      allocates, then wait(NULL): prints "wait: ECHILD" when the
 *                                 process has no child, as it should under any recorder
 *        recorder_probe pause     prints "pid N", allocates, waits for the end of its standard
 *                                 input (time to look at or kill the helper: as long as the test
 *                                 needs, no longer), allocates again, prints "done"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept[4096];
static size_t nkept;
static unsigned long made, bytes;

static void keep(void *p) {
  if (p != NULL && nkept < sizeof kept / sizeof kept[0]) kept[nkept++] = p;
}

__attribute__((noinline)) static void leaf(int round) {
  size_t n = 16 + (size_t)(round * 37 % 500);
  char *a = malloc(n); /* @mix_malloc */
  char *b = calloc(3, n); /* @mix_calloc */
  a = realloc(a, n * 3); /* @mix_grow */
  a = realloc(a, n / 2 + 1); /* @mix_shrink */
  void *c = NULL;
  if (posix_memalign(&c, 64, n) != 0) c = NULL; /* @mix_memalign */
  void *d = aligned_alloc(256, 512); /* @mix_aligned */
  char *s = strdup("a string kept by the probe"); /* @mix_strdup */
  char *t = realloc(NULL, 40); /* @mix_realloc_null */
  made += 8;
  bytes += n + 3 * n + 64;
  free(b);
  t = realloc(t, 0); /* glibc frees the block and returns NULL */
  free(t);
  free(malloc(24)); /* @mix_temporary */
  if (round % 7 == 0) {
    keep(a); /* @keep */
    keep(s);
  } else {
    free(a);
    free(s);
  }
  free(c);
  free(d);
}

__attribute__((noinline)) static void descend(int depth, int round) {
  if (depth == 0) {
    leaf(round);
    return;
  }
  descend(depth - 1, round);
  __asm__ volatile("" ::: "memory"); /* not a tail call: each level stays a frame */
}

/* One allocation site reached through two callers from one call site (a function pointer), one
 * right after the other: two stacks in a row with the same depth and the same innermost and
 * outermost frames, differing in one frame between (a recorder that takes the second for the
 * previous one merges them). */
__attribute__((noinline)) static void twin(int round) {
  void *p = malloc(8 + (size_t)(round % 5)); /* @twin */
  if (round % 3 == 0) keep(p); else free(p);
}
__attribute__((noinline)) static void via_a(int round) {
  twin(round);
  __asm__ volatile("" ::: "memory");
}
__attribute__((noinline)) static void via_b(int round) {
  twin(round);
  __asm__ volatile("" ::: "memory");
}
static void (*volatile g_via[2])(int) = {via_a, via_b};

static void wait_for_eof(void) {
  char buf[64];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "mix";
  if (strcmp(mode, "mix") == 0) {
    int rounds = argc > 2 ? atoi(argv[2]) : 1000;
    for (int r = 0; r < rounds; r++) {
      descend(r % 20, r);
      g_via[r % 2](r);
      g_via[(r + 1) % 2](r);
    }
    printf("mix: rounds=%d calls=%lu bytes=%lu kept=%zu\n", rounds, made, bytes, nkept);
    return 0;
  }
  if (strcmp(mode, "wait") == 0) {
    keep(malloc(100));
    pid_t got = wait(NULL);
    printf("wait: %s\n", got == -1 && errno == ECHILD ? "ECHILD" : "a child was there");
    return 0;
  }
  if (strcmp(mode, "pause") == 0) {
    printf("pid %ld\n", (long)getpid());
    fflush(stdout);
    for (int i = 0; i < 1000; i++) keep(malloc(32)); /* @before */
    wait_for_eof();
    for (int i = 0; i < 1000; i++) keep(malloc(48)); /* @after */
    printf("done\n");
    return 0;
  }
  fprintf(stderr, "recorder_probe: unknown mode '%s'\n", mode);
  return 2;
}
