/* markdown.c - a lesson's Markdown rendered as plain text for a terminal: headings, wrapped paragraphs, code, <details> hidden. */
#include "markdown.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The paragraph being filled: its words wrapped at the width, with a first-line prefix (a list
 * marker, "> ") and an indent for the lines after. */
typedef struct para {
  FILE *out;
  size_t width, col, indent;
  int open;       /* a word was written on the current line */
  char first[16]; /* prefix of the paragraph's first line */
  char rest[16];  /* prefix of its later lines */
  int started;    /* the first line's prefix is out */
  int code;       /* inside a `code` span, which may go on over source lines: never broken */
} para_t;

static void para_newline(para_t *p) {
  if (p->started) fputc('\n', p->out);
  p->col = 0;
  p->open = 0;
}

static void para_word(para_t *p, const char *w, size_t n) {
  if (!p->started) {
    fputs(p->first, p->out);
    p->col = strlen(p->first);
    p->started = 1;
  } else if (p->open && p->col + 1 + n > p->width) {
    fputc('\n', p->out);
    fputs(p->rest, p->out);
    p->col = strlen(p->rest);
    p->open = 0;
  }
  if (p->open) {
    fputc(' ', p->out);
    p->col++;
  }
  fwrite(w, 1, n, p->out);
  p->col += n;
  p->open = 1;
}

/* End the paragraph (if one is open). */
static void para_end(para_t *p) {
  if (p->started) para_newline(p);
  p->started = 0;
  p->code = 0;
  p->first[0] = p->rest[0] = '\0';
}

static void para_begin(para_t *p, const char *first, const char *rest) {
  para_end(p);
  snprintf(p->first, sizeof p->first, "%s", first);
  snprintf(p->rest, sizeof p->rest, "%s", rest);
}

/* Inline markup out of [s, s+n) into buf: **, __, HTML tags, [text](url) as "text (url)",
 * ![alt](file) as "[picture: alt; open file]"; code spans as written. */
static size_t plain(const char *s, size_t n, char *buf, size_t cap, int code) {
  size_t k = 0; /* code: inside a `code span` (from the line before, or here): taken as written,
                   so `__slots__` keeps its underscores */
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    if (s[i] == '`') code = !code;
    if (code || s[i] == '`') {
      buf[k++] = s[i];
      continue;
    }
    if ((s[i] == '*' || s[i] == '_') && i + 1 < n && s[i + 1] == s[i]) {
      i++;
      continue;
    }
    if (s[i] == '<' && i + 1 < n && (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/')) {
      const char *gt = memchr(s + i, '>', n - i);
      if (gt != NULL) {
        i = (size_t)(gt - s);
        continue;
      }
    }
    /* A picture cannot be drawn in a terminal: its description, and the file to open. */
    int image = s[i] == '!' && i + 1 < n && s[i + 1] == '[';
    if (s[i] == '[' || image) {
      const char *open = s + i + image;
      const char *close = memchr(open, ']', n - i - (size_t)image);
      if (close != NULL && (size_t)(close - s) + 1 < n && close[1] == '(') {
        const char *paren = memchr(close, ')', n - (size_t)(close - s));
        if (paren != NULL) {
          int tl = (int)(close - (open + 1)), ul = (int)(paren - (close + 2));
          k += (size_t)snprintf(buf + k, cap - k,
                                image ? "[picture: %.*s; open %.*s]" : "%.*s (%.*s)", tl,
                                open + 1, ul, close + 2);
          if (k >= cap) k = cap - 1;
          i = (size_t)(paren - s);
          continue;
        }
      }
    }
    buf[k++] = s[i];
  }
  buf[k] = '\0';
  return k;
}

static void para_text(para_t *p, const char *s, size_t n) {
  char buf[4096];
  size_t len = plain(s, n, buf, sizeof buf, p->code);
  for (size_t i = 0; i < len;) {
    while (i < len && buf[i] == ' ') i++;
    size_t j = i;
    for (; j < len && (p->code || buf[j] != ' '); j++)
      if (buf[j] == '`') p->code = !p->code;
    if (j > i) para_word(p, buf + i, j - i);
    i = j;
  }
}

static int starts(const char *s, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(s, prefix, k) == 0;
}

/* The line without leading blanks. */
static const char *skip_blanks(const char *s, size_t *n) {
  while (*n > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    (*n)--;
  }
  return s;
}

/* A list marker ("- ", "* ", "12. ") at s: its length, else 0. */
static size_t list_marker(const char *s, size_t n) {
  if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ') return 2;
  size_t i = 0;
  while (i < n && i < 4 && isdigit((unsigned char)s[i])) i++;
  if (i > 0 && i + 1 < n && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ') return i + 2;
  return 0;
}

static void heading(FILE *out, const char *s, size_t n, int level) {
  char buf[1024];
  size_t len = plain(s, n, buf, sizeof buf, 0);
  while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '#')) buf[--len] = '\0';
  fprintf(out, "%s\n", buf);
  if (level <= 2) {
    for (size_t i = 0; i < len; i++) fputc(level == 1 ? '=' : '-', out);
    fputc('\n', out);
  }
}

/* The <summary> of a <details> block starting at text[pos], tags dropped, into buf ("details"
 * when it has none before its end). */
static void summary_of(const char *text, size_t len, size_t pos, char *buf, size_t cap) {
  const char *end = text + len, *a = NULL, *b;
  snprintf(buf, cap, "details");
  for (const char *s = text + pos + 1; s + 10 <= end && a == NULL; s++) {
    if (memcmp(s, "</details>", 10) == 0 || memcmp(s, "<details", 8) == 0) return;
    if (memcmp(s, "<summary>", 9) == 0) a = s;
  }
  if (a == NULL) return;
  for (b = a; b + 10 <= end && memcmp(b, "</summary>", 10) != 0; b++) {
  }
  if (b + 10 > end) return;
  plain(a, (size_t)(b - a), buf, cap, 0);
}

int ll__md_render(FILE *out, const char *text, size_t len, const ll__md_opts_t *o) {
  para_t p = {.out = out, .width = o->width};
  int in_code = 0, in_comment = 0, blank = 1;
  unsigned hidden_depth = 0;

  for (size_t pos = 0; pos < len;) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
    const char *line = text + pos;
    size_t start = pos;
    pos += n + (nl != NULL);
    size_t tn = n;
    const char *t = skip_blanks(line, &tn);

    if (in_comment || starts(t, tn, "<!--")) { /* an HTML comment: not for the reader */
      in_comment = tn < 3 || memcmp(t + tn - 3, "-->", 3) != 0;
      continue;
    }
    if (hidden_depth > 0) { /* inside a hidden <details>: only its nesting counts */
      if (starts(t, tn, "<details")) hidden_depth++;
      if (starts(t, tn, "</details>")) hidden_depth--;
      continue;
    }
    if (starts(t, tn, "```")) {
      para_end(&p);
      in_code = !in_code;
      continue;
    }
    if (in_code) {
      fprintf(out, "    %.*s\n", (int)n, line);
      blank = 0;
      continue;
    }
    if (tn == 0) {
      para_end(&p);
      if (!blank) fputc('\n', out);
      blank = 1;
      continue;
    }
    blank = 0;
    if (starts(t, tn, "<details")) {
      char sum[256];
      para_end(&p);
      summary_of(text, len, start, sum, sizeof sum);
      char note[512];
      snprintf(note, sizeof note, o->show_details ? "[%s]" : "[%s: hidden; %s shows it]", sum,
               o->hidden);
      hidden_depth = !o->show_details;
      para_begin(&p, "", " ");
      para_text(&p, note, strlen(note));
      para_end(&p);
      continue;
    }
    if (starts(t, tn, "<summary>") || starts(t, tn, "</details>")) continue;
    if (t[0] == '#') {
      size_t level = 0;
      while (level < tn && t[level] == '#') level++;
      if (level <= 6 && level < tn && t[level] == ' ') {
        para_end(&p);
        heading(out, t + level + 1, tn - level - 1, (int)level);
        continue;
      }
    }
    if (t[0] == '|') { /* a table row: its columns are aligned already */
      para_end(&p);
      fprintf(out, "%.*s\n", (int)n, line);
      continue;
    }
    if (t[0] == '>') {
      size_t k = tn > 1 && t[1] == ' ' ? 2 : 1;
      if (!p.started || strcmp(p.first, "> ") != 0) para_begin(&p, "> ", "> ");
      para_text(&p, t + k, tn - k);
      continue;
    }
    size_t m = list_marker(t, tn);
    if (m > 0) {
      char first[16], rest[16];
      size_t lead = (size_t)(t - line) < 8 ? (size_t)(t - line) : 8;
      snprintf(first, sizeof first, "%*s%.*s", (int)lead, "", (int)m, t);
      snprintf(rest, sizeof rest, "%*s", (int)(lead + m), "");
      para_begin(&p, first, rest);
      para_text(&p, t + m, tn - m);
      continue;
    }
    if (!p.started && n - tn >= 4) { /* indented code */
      fprintf(out, "%.*s\n", (int)n, line);
      continue;
    }
    para_text(&p, t, tn);
  }
  para_end(&p);
  return ferror(out) ? -1 : 0;
}
