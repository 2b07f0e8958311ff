/* json.c - JSON string literals for the reporters: valid UTF-8 always, HTML-safe on request. */
#include "json.h"

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), 0 when the byte there does not start one. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  if (c >= 0xc2 && c <= 0xdf) return (s[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    if (s[1] < lo || s[1] > hi) return 0;
    return (s[2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi) return 0;
    if ((s[2] & 0xc0) != 0x80) return 0;
    return (s[3] & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

void ll__json_string(FILE *out, const char *str, int html_safe) {
  const unsigned char *s = (const unsigned char *)(str != NULL ? str : "");

  fputc('"', out);
  while (*s != '\0') {
    unsigned char c = *s;
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      s++;
    } else if (c < 0x20 || (html_safe && (c == '<' || c == '>' || c == '&'))) {
      switch (c) {
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      case '\b': fputs("\\b", out); break;
      case '\f': fputs("\\f", out); break;
      default: fprintf(out, "\\u%04x", c); break;
      }
      s++;
    } else if (c < 0x80) {
      fputc(c, out);
      s++;
    } else {
      /* The checks stop at the first byte that does not fit, so the terminator is never
       * passed. */
      size_t n = utf8_len(s);
      if (n == 0) {
        fputs("\\ufffd", out);
        s++;
      } else {
        fwrite(s, 1, n, out);
        s += n;
      }
    }
  }
  fputc('"', out);
}
