/* html_assets.h - internal: the report page's bytes, generated at build time by web/build.mjs (html_assets.c). */
#ifndef LEAKLAB_HTML_ASSETS_H
#define LEAKLAB_HTML_ASSETS_H
/*
 * Contract: the page is ll__html_head, the report's JSON, then ll__html_tail. The head ends
 * inside <script type="application/json">; the tail closes it and carries the page's script
 * (our web/src bundled with the npm libraries web/package-lock.json pins) and the notices of
 * their licenses. Nothing in either part refers to anything outside the file.
 */
#include <stddef.h>

extern const unsigned char ll__html_head[];
extern const size_t ll__html_head_len;
extern const unsigned char ll__html_tail[];
extern const size_t ll__html_tail_len;

#endif
