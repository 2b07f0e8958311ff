/* massif_lines.h - internal to the massif.out reader: its memory pool, its line reader and number scanners. */
#ifndef LEAKLAB_MASSIF_LINES_H
#define LEAKLAB_MASSIF_LINES_H
/*
 * Contract: used by massif_parse.c only. Every string and node of one parsed file lives in one
 * pool, freed at once. The line reader skips blank and comment lines as ms_print does, refuses
 * NUL bytes, and remembers the first error (ll__mp_fail) in the parser's ll__massif_error_t.
 */
#include <stddef.h>
#include <stdint.h>

#include "massif_parse.h"

typedef struct ll__mp_chunk {
  struct ll__mp_chunk *next;
  size_t used, cap;
  max_align_t data[];
} ll__mp_chunk_t;

typedef struct ll__mp_pool {
  ll__mp_chunk_t *head;
} ll__mp_pool_t;

typedef struct ll__mp_line {
  const char *s;
  size_t len;
  unsigned long no;
} ll__mp_line_t;

typedef struct ll__mp_parser {
  const char *buf;
  size_t len, pos;
  unsigned long lineno; /* of the last line read */
  ll__mp_pool_t *pool;
  ll__massif_error_t *err;
  int have_peek;
  ll__mp_line_t peek;
} ll__mp_parser_t;


void *ll__mp_pool_alloc(ll__mp_pool_t *p, size_t n); /* zeroed, aligned; NULL when out of memory */
char *ll__mp_pool_strndup(ll__mp_pool_t *p, const char *s, size_t n);
void ll__mp_pool_free(ll__mp_pool_t *p);

/* Record the first error only (later ones are consequences); returns code. */
int ll__mp_fail(ll__mp_parser_t *p, int code, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Text of a bad line for a message: at most 40 bytes, non-printable bytes as '?'. */
const char *ll__mp_quote(const ll__mp_line_t *l, char *buf, size_t cap);
/* The next line that is neither blank nor a comment. 0 at EOF, 1 for a line, negative on a NUL
 * byte. peek_line reads it without taking it. */
int ll__mp_next_line(ll__mp_parser_t *p, ll__mp_line_t *out);
int ll__mp_peek_line(ll__mp_parser_t *p, ll__mp_line_t *out);
int ll__mp_starts_with(const ll__mp_line_t *l, const char *prefix);
/* Unsigned decimal (hex) at s[*i], at least one digit, no overflow; *i moves past it. 0 or -1. */
int ll__mp_parse_u64(const char *s, size_t len, size_t *i, uint64_t *out);
int ll__mp_parse_hex(const char *s, size_t len, size_t *i, uint64_t *out);
/* The rest of the line from `from`, blanks trimmed, copied into the pool. */
char *ll__mp_dup_line_rest(ll__mp_parser_t *p, const ll__mp_line_t *l, size_t from);

#endif
