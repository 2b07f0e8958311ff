/* markdown.h - a lesson's Markdown rendered as plain text for a terminal. */
#ifndef LEAKLAB_CLI_MARKDOWN_H
#define LEAKLAB_CLI_MARKDOWN_H
/*
 * Contract: renders the subset the lessons use, line by line, never failing on other input:
 * headings (underlined), paragraphs, list items and quotes wrapped to `width` columns, fenced
 * code blocks and tables verbatim (code indented), inline markup dropped (**bold**, links as
 * "text (url)", HTML tags). A <details> block is one line naming its <summary> unless
 * show_details is set, then its summary and contents are rendered. Returns 0 or -1 when the
 * output could not be written.
 */
#include <stddef.h>
#include <stdio.h>

typedef struct ll__md_opts {
  size_t width;       /* columns to wrap at (40..200) */
  int show_details;   /* render <details> blocks instead of naming them */
  const char *hidden; /* how to show a hidden block, e.g. "leaklab explain X --solutions" */
} ll__md_opts_t;

int ll__md_render(FILE *out, const char *text, size_t len, const ll__md_opts_t *o);

#endif
