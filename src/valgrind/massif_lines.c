/* massif_lines.c - the massif.out reader's memory pool, line reader (blank and comment lines skipped) and number scanners. */
#include "massif_lines.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#define POOL_CHUNK_MIN (64 * 1024)

/* ---- pool: every string and node of one parsed file, freed at once ------------------------ */

void *ll__mp_pool_alloc(ll__mp_pool_t *p, size_t n) {
  const size_t align = sizeof(max_align_t);
  n = (n + align - 1) / align * align;
  if (n == 0) n = align;
  ll__mp_chunk_t *c = p->head;
  if (c == NULL || c->cap - c->used < n) {
    size_t cap = n > POOL_CHUNK_MIN ? n : POOL_CHUNK_MIN;
    c = malloc(sizeof *c + cap);
    if (c == NULL) return NULL;
    c->next = p->head;
    c->used = 0;
    c->cap = cap;
    p->head = c;
  }
  void *r = (char *)c->data + c->used;
  c->used += n;
  memset(r, 0, n);
  return r;
}

char *ll__mp_pool_strndup(ll__mp_pool_t *p, const char *s, size_t n) {
  char *r = ll__mp_pool_alloc(p, n + 1);
  if (r == NULL) return NULL;
  memcpy(r, s, n);
  r[n] = '\0';
  return r;
}

void ll__mp_pool_free(ll__mp_pool_t *p) {
  if (p == NULL) return;
  ll__mp_chunk_t *c = p->head;
  while (c != NULL) {
    ll__mp_chunk_t *next = c->next;
    free(c);
    c = next;
  }
  free(p);
}

/* ---- lines ------------------------------------------------------------------------------- */

/* Record the first error only: later ones are consequences. */
int ll__mp_fail(ll__mp_parser_t *p, int code, unsigned long line,
                                                      const char *fmt, ...) {
  if (p->err != NULL && p->err->code == 0) {
    va_list ap;
    va_start(ap, fmt);
    p->err->code = code;
    p->err->line = line;
    vsnprintf(p->err->what, sizeof p->err->what, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Text of a bad line for a message: at most 40 bytes, non-printable bytes as '?'. */
const char *ll__mp_quote(const ll__mp_line_t *l, char *buf, size_t cap) {
  size_t n = l->len < 40 ? l->len : 40;
  if (n > cap - 4) n = cap - 4;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)l->s[i];
    buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  if (n < l->len) {
    memcpy(buf + n, "...", 3);
    n += 3;
  }
  buf[n] = '\0';
  return buf;
}

/* The next line that is neither blank nor a comment (ms_print skips those too). 0 at EOF, 1 for
 * a line, negative on a NUL byte. */
int ll__mp_next_line(ll__mp_parser_t *p, ll__mp_line_t *out) {
  if (p->have_peek) {
    *out = p->peek;
    p->have_peek = 0;
    return 1;
  }
  while (p->pos < p->len) {
    const char *s = p->buf + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    /* massif does not end its last line with a newline. */
    size_t n = nl != NULL ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += nl != NULL ? n + 1 : n;
    p->lineno++;
    if (memchr(s, '\0', n) != NULL)
      return ll__mp_fail(p, LL_ECORRUPT, p->lineno, "NUL byte in the line: not a massif file");
    if (n > 0 && s[n - 1] == '\r') n--;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    if (i == n || s[i] == '#') continue;
    out->s = s;
    out->len = n;
    out->no = p->lineno;
    return 1;
  }
  return 0;
}

int ll__mp_peek_line(ll__mp_parser_t *p, ll__mp_line_t *out) {
  if (p->have_peek) {
    *out = p->peek;
    return 1;
  }
  int rc = ll__mp_next_line(p, out);
  if (rc == 1) {
    p->peek = *out;
    p->have_peek = 1;
  }
  return rc;
}

int ll__mp_starts_with(const ll__mp_line_t *l, const char *prefix) {
  size_t n = strlen(prefix);
  return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/* Unsigned decimal at s[*i], at least one digit, no overflow. */
int ll__mp_parse_u64(const char *s, size_t len, size_t *i, uint64_t *out) {
  size_t j = *i;
  uint64_t v = 0;
  if (j >= len || s[j] < '0' || s[j] > '9') return -1;
  while (j < len && s[j] >= '0' && s[j] <= '9') {
    unsigned d = (unsigned)(s[j] - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
    j++;
  }
  *i = j;
  *out = v;
  return 0;
}

int ll__mp_parse_hex(const char *s, size_t len, size_t *i, uint64_t *out) {
  size_t j = *i;
  uint64_t v = 0;
  int ndigit = 0;
  for (; j < len; j++) {
    char c = s[j];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else break;
    if (v >> 60) return -1;
    v = v << 4 | d;
    ndigit++;
  }
  if (ndigit == 0) return -1;
  *i = j;
  *out = v;
  return 0;
}

char *ll__mp_dup_line_rest(ll__mp_parser_t *p, const ll__mp_line_t *l, size_t from) {
  while (from < l->len && (l->s[from] == ' ' || l->s[from] == '\t')) from++;
  size_t end = l->len;
  while (end > from && (l->s[end - 1] == ' ' || l->s[end - 1] == '\t')) end--;
  return ll__mp_pool_strndup(p->pool, l->s + from, end - from);
}
