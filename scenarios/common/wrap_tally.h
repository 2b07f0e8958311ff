/* wrap_tally.h - the allocator wrappers of the lessons' tally tests (-Wl,--wrap=...), written once. */
#ifndef LL_SCENARIO_WRAP_TALLY_H
#define LL_SCENARIO_WRAP_TALLY_H
/*
 * Contract: included by exactly one file of a test linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free, after it defines
 *   static void tally_add(void *p, size_t size);  a block handed out (p NULL: the call failed)
 *   static void tally_remove(void *p);            a block taken back (p may be NULL)
 * Each wrapper calls the real function and tells the tally; realloc is a removal, then an
 * addition of what it returned.
 */
#include <stddef.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);

void *__wrap_malloc(size_t size)
{
  void *p = __real_malloc(size);
  tally_add(p, size);
  return p;
}

void *__wrap_calloc(size_t count, size_t size)
{
  void *p = __real_calloc(count, size);
  tally_add(p, count * size); /* non-NULL: count * size did not overflow */
  return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
  tally_remove(ptr);
  void *p = __real_realloc(ptr, size);
  tally_add(p, size);
  return p;
}

void __wrap_free(void *ptr)
{
  tally_remove(ptr);
  __real_free(ptr);
}

#endif
