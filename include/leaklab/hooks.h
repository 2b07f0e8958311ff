/* hooks.h - compile-time allocation hooks: include it (or -include it) to trace every
 * malloc, calloc, realloc, reallocarray, free, strdup, strndup, posix_memalign and aligned_alloc
 * of a translation unit with its exact __FILE__:__LINE__ (and function). */
#ifndef LEAKLAB_HOOKS_H
#define LEAKLAB_HOOKS_H
/*
 * Contract:
 * - The tracked versions behave exactly like the libc functions they replace (same results,
 *   same errno, same NULL cases); recording happens around them and can never make them fail.
 * - Nothing is recorded until ll_start() is called, or, without any code change, when the
 *   program runs with LEAKLAB_OUTPUT=path in its environment: tracing then starts when the
 *   program loads and, at exit, the live set at the end and at the peak are written to `path`
 *   (read it with `leaklab report path`).
 * - These are function-like macros: a struct member called like a function (ops->free(p)) is
 *   rewritten too. Define LL_HOOKS_NO_MACROS to get only the ll_*_at declarations.
 * - The system headers that declare these functions are included first, so including them
 *   again later is harmless.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#ifdef __cplusplus
extern "C" {
#endif

LL_API void *ll_malloc_at(size_t size, const char *file, unsigned line, const char *func);
LL_API void *ll_calloc_at(size_t n, size_t size, const char *file, unsigned line,
                          const char *func);
LL_API void *ll_realloc_at(void *ptr, size_t size, const char *file, unsigned line,
                           const char *func);
LL_API void *ll_reallocarray_at(void *ptr, size_t n, size_t size, const char *file,
                                unsigned line, const char *func);
LL_API void ll_free_at(void *ptr, const char *file, unsigned line, const char *func);
LL_API char *ll_strdup_at(const char *s, const char *file, unsigned line, const char *func);
LL_API char *ll_strndup_at(const char *s, size_t n, const char *file, unsigned line,
                           const char *func);
LL_API int ll_posix_memalign_at(void **memptr, size_t alignment, size_t size, const char *file,
                                unsigned line, const char *func);
LL_API void *ll_aligned_alloc_at(size_t alignment, size_t size, const char *file, unsigned line,
                                 const char *func);

#ifdef __cplusplus
}
#endif

#ifndef LL_HOOKS_NO_MACROS
#undef malloc
#undef calloc
#undef realloc
#undef reallocarray
#undef free
#undef strdup
#undef strndup
#undef posix_memalign
#undef aligned_alloc
#define malloc(n) ll_malloc_at((n), __FILE__, __LINE__, __func__)
#define calloc(n, s) ll_calloc_at((n), (s), __FILE__, __LINE__, __func__)
#define realloc(p, n) ll_realloc_at((p), (n), __FILE__, __LINE__, __func__)
#define reallocarray(p, n, s) ll_reallocarray_at((p), (n), (s), __FILE__, __LINE__, __func__)
#define free(p) ll_free_at((p), __FILE__, __LINE__, __func__)
#define strdup(s) ll_strdup_at((s), __FILE__, __LINE__, __func__)
#define strndup(s, n) ll_strndup_at((s), (n), __FILE__, __LINE__, __func__)
#define posix_memalign(m, a, s) ll_posix_memalign_at((m), (a), (s), __FILE__, __LINE__, __func__)
#define aligned_alloc(a, s) ll_aligned_alloc_at((a), (s), __FILE__, __LINE__, __func__)
#endif

#endif /* LEAKLAB_HOOKS_H */
