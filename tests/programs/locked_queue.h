/* locked_queue.h - the threaded test programs' queue of pointers: one mutex around a bounded ring. */
#ifndef LEAKLAB_TESTS_LOCKED_QUEUE_H
#define LEAKLAB_TESTS_LOCKED_QUEUE_H
/*
 * Contract: define QCAP (the ring's capacity) before including. A queue_t is zeroed (static
 * storage) and its lock initialised with pthread_mutex_init before use. push returns 0 without
 * taking the pointer when the queue holds QCAP of them already; pop returns NULL when it is
 * empty. Any thread may push or pop. The queue itself never allocates: the programs count
 * every allocation they make.
 */
#include <pthread.h>
#include <stddef.h>

#ifndef QCAP
#error "define QCAP before including locked_queue.h"
#endif

typedef struct queue {
  pthread_mutex_t lock;
  void *items[QCAP];
  size_t head, tail;
} queue_t;

static inline int push(queue_t *q, void *p) {
  pthread_mutex_lock(&q->lock);
  int ok = q->tail - q->head < QCAP;
  if (ok) q->items[q->tail++ % QCAP] = p;
  pthread_mutex_unlock(&q->lock);
  return ok;
}

static inline void *pop(queue_t *q) {
  pthread_mutex_lock(&q->lock);
  void *p = q->head < q->tail ? q->items[q->head++ % QCAP] : NULL;
  pthread_mutex_unlock(&q->lock);
  return p;
}

#endif
