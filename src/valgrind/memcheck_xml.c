/* memcheck_xml.c - valgrind memcheck's XML output read into leak records, each attributed to the program's own frame. */
#include "memcheck_xml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "capture_format.h"
#include "errors.h"

const char *const ll__memcheck_kind_name[LL__MC_KINDS] = {"definitely lost", "indirectly lost",
                                                          "possibly lost", "still reachable"};
static const char *const kind_xml[LL__MC_KINDS] = {"Leak_DefinitelyLost", "Leak_IndirectlyLost",
                                                   "Leak_PossiblyLost", "Leak_StillReachable"};

/* snprintf into a fixed field, cut when too long (names in loss records can be). */
__attribute__((format(printf, 3, 4))) static void put(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* The text of the first <tag>...</tag> inside [s, end), entities decoded, into out; 0 if none. */
static int xml_text(const char *s, const char *end, const char *tag, char *out, size_t len) {
  static const struct {
    const char *ent;
    char c;
  } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  char open[64], close[64];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  const char *a = memmem(s, (size_t)(end - s), open, strlen(open));
  if (a == NULL) return 0;
  a += strlen(open);
  const char *b = memmem(a, (size_t)(end - a), close, strlen(close));
  if (b == NULL) return 0;
  size_t k = 0;
  for (const char *p = a; p < b && k + 1 < len; p++) {
    char c = *p;
    if (c == '&')
      for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
        size_t el = strlen(ents[e].ent);
        if ((size_t)(b - p) >= el && memcmp(p, ents[e].ent, el) == 0) {
          c = ents[e].c;
          p += el - 1;
          break;
        }
      }
    out[k++] = c;
  }
  out[k] = '\0';
  return 1;
}

static int parse_u64_text(const char *s, uint64_t *out) {
  char *end;
  if (s[0] < '0' || s[0] > '9') return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || errno != 0) return -1;
  *out = v;
  return 0;
}

/* Not the program's own code, by leaklab's rule (ll_cap_path_is_system): valgrind's replacement
 * allocator and libraries installed under the system directories (libc, libstdc++, GMP). */
static int frame_is_system(const char *obj, const char *file) {
  if (strstr(obj, "vgpreload") != NULL || strcmp(file, "vg_replace_malloc.c") == 0) return 1;
  return obj[0] == '/' && ll_cap_path_is_system(obj);
}

static void attribute(const char *stack, const char *end, ll__mc_record_t *r) {
  const char *p = stack;
  put(r->place, sizeof r->place, "???");
  r->file[0] = '\0';
  r->line = 0;
  int first = 1;
  while ((p = memmem(p, (size_t)(end - p), "<frame>", 7)) != NULL) {
    const char *fe = memmem(p, (size_t)(end - p), "</frame>", 8);
    if (fe == NULL) break;
    char fn[256] = "???", obj[256] = "", file[128] = "", line[32] = "";
    xml_text(p, fe, "fn", fn, sizeof fn);
    xml_text(p, fe, "obj", obj, sizeof obj);
    xml_text(p, fe, "file", file, sizeof file);
    xml_text(p, fe, "line", line, sizeof line);
    p = fe + 8;
    /* Keep the first frame in case every frame is a system one. */
    if (!first && frame_is_system(obj, file)) continue;
    if (file[0] != '\0' && line[0] != '\0')
      put(r->place, sizeof r->place, "%s:%s", file, line);
    else if (obj[0] != '\0')
      put(r->place, sizeof r->place, "%s (in %s)", fn,
          strrchr(obj, '/') != NULL ? strrchr(obj, '/') + 1 : obj);
    else
      put(r->place, sizeof r->place, "%s", fn);
    put(r->file, sizeof r->file, "%s", file);
    r->line = (unsigned)strtoul(line, NULL, 10);
    if (!frame_is_system(obj, file)) break;
    first = 0;
  }
}

/* "64 (32 direct, 32 indirect) bytes in 1 blocks are ...": the direct and indirect parts, with
 * valgrind's thousands separators; 0 when the text has no such split (no indirect bytes). */
static int direct_split(const char *text, uint64_t *direct, uint64_t *indirect) {
  const char *p = strchr(text, '(');
  uint64_t v[2] = {0, 0};
  static const char *const word[2] = {" direct, ", " indirect)"};
  if (p == NULL) return 0;
  p++;
  for (int i = 0; i < 2; i++) {
    if (*p < '0' || *p > '9') return 0;
    for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
      if (*p != ',') {
        if (v[i] > (UINT64_MAX - 9) / 10) return 0;
        v[i] = v[i] * 10 + (uint64_t)(*p - '0');
      }
    if (strncmp(p, word[i], strlen(word[i])) != 0) return 0;
    p += strlen(word[i]);
  }
  *direct = v[0];
  *indirect = v[1];
  return 1;
}

static int push(ll__memcheck_t *mc, const ll__mc_record_t *r) {
  if (mc->nrecords == mc->cap) {
    size_t ncap = mc->cap ? mc->cap * 2 : 32;
    ll__mc_record_t *grown = realloc(mc->records, ncap * sizeof *grown);
    if (grown == NULL) return LL_ENOMEM;
    mc->records = grown;
    mc->cap = ncap;
  }
  mc->records[mc->nrecords++] = *r;
  return 0;
}

int ll__memcheck_parse_buffer(const char *buf, size_t len, ll__memcheck_t *mc, const char **what) {
  const char *end = buf + len, *ignored;
  int rc = 0;

  memset(mc, 0, sizeof *mc);
  if (what == NULL) what = &ignored;
  *what = NULL;
  /* A file memcheck finished writing closes its root element. */
  if (memmem(buf, len, "<valgrindoutput>", 16) == NULL ||
      memmem(buf, len, "</valgrindoutput>", 17) == NULL) {
    *what = ": not a complete memcheck XML file";
    return LL_ETRUNC;
  }
  for (const char *p = buf; (p = memmem(p, (size_t)(end - p), "<error>", 7)) != NULL;) {
    const char *e = memmem(p, (size_t)(end - p), "</error>", 8);
    if (e == NULL) {
      *what = ": an <error> element is not closed";
      rc = LL_ECORRUPT;
      goto fail;
    }
    char kind[64] = "", bytes[32] = "", blocks[32] = "";
    xml_text(p, e, "kind", kind, sizeof kind);
    int k = -1;
    for (int i = 0; i < LL__MC_KINDS; i++)
      if (strcmp(kind, kind_xml[i]) == 0) k = i;
    if (k < 0) {
      mc->other_errors++;
      p = e + 8;
      continue;
    }
    ll__mc_record_t r;
    memset(&r, 0, sizeof r);
    r.kind = k;
    if (!xml_text(p, e, "leakedbytes", bytes, sizeof bytes) ||
        !xml_text(p, e, "leakedblocks", blocks, sizeof blocks) ||
        parse_u64_text(bytes, &r.bytes) != 0 || parse_u64_text(blocks, &r.blocks) != 0) {
      *what = ": a leak record without its sizes";
      rc = LL_ECORRUPT;
      goto fail;
    }
    char text[512] = "";
    uint64_t direct, indirect;
    if (xml_text(p, e, "text", text, sizeof text) && direct_split(text, &direct, &indirect)) {
      if (direct + indirect != r.bytes) {
        *what = ": a leak record whose direct and indirect bytes do not add up";
        rc = LL_ECORRUPT;
        goto fail;
      }
      r.bytes = direct;
      r.indirect = indirect;
    }
    const char *stack = memmem(p, (size_t)(e - p), "<stack>", 7);
    if (stack != NULL)
      attribute(stack, e, &r);
    else
      put(r.place, sizeof r.place, "???");
    mc->bytes[k] += r.bytes;
    mc->blocks[k] += r.blocks;
    if ((rc = push(mc, &r)) != 0) goto fail;
    p = e + 8;
  }
  return 0;

fail:
  ll__memcheck_free(mc);
  return rc;
}

int ll__memcheck_parse_file(const char *path, ll__memcheck_t *mc, const char **what) {
  char *buf = NULL, chunk[65536];
  size_t len = 0, n;
  int rc = 0;

  memset(mc, 0, sizeof *mc);
  if (what != NULL) *what = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return LL__ERR(errno);
  FILE *mem = open_memstream(&buf, &len);
  if (mem == NULL) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (fwrite(chunk, 1, n, mem) != n) break;
  if (ferror(f)) rc = LL_EIO;
  if (fclose(mem) != 0 && rc == 0) rc = LL_ENOMEM;
  if (rc == 0) rc = ll__memcheck_parse_buffer(buf, len, mc, what);
cleanup:
  fclose(f);
  free(buf);
  return rc;
}

static int cmp_record(const void *x, const void *y) {
  const ll__mc_record_t *a = x, *b = y;
  if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
  return a->kind - b->kind;
}

void ll__memcheck_sort(ll__memcheck_t *mc) {
  if (mc->nrecords > 1) qsort(mc->records, mc->nrecords, sizeof *mc->records, cmp_record);
}

void ll__memcheck_free(ll__memcheck_t *mc) {
  free(mc->records);
  memset(mc, 0, sizeof *mc);
}
