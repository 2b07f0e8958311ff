/* wordfreq.h - word counts of a text: the small library this example puts under a memory budget. */
#ifndef WORDFREQ_H
#define WORDFREQ_H
#include <stddef.h>

typedef struct wf_entry {
  char *word;
  size_t count;
} wf_entry_t;

typedef struct wf_table {
  wf_entry_t *entries; /* in order of first appearance */
  size_t len, cap;
  size_t *slots; /* open-addressing index into entries (+1; 0 = empty) */
  size_t nslot;
} wf_table_t;

/* Count the words (runs of letters and digits, lowercased) of text; NULL when out of memory. */
wf_table_t *wf_count(const char *text);
/* How many times word appeared (0 when never). */
size_t wf_get(const wf_table_t *t, const char *word);
void wf_free(wf_table_t *t);

#endif
