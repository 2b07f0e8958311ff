/* wordfreq.c - word counts with an open-addressing index: one string per distinct word, arrays that double. */
#include "wordfreq.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s, size_t n) {
  size_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

/* The slot holding word (s, n), or the empty slot where it belongs. */
static size_t *find_slot(const wf_table_t *t, const char *s, size_t n) {
  size_t i = hash(s, n) & (t->nslot - 1);
  for (;; i = (i + 1) & (t->nslot - 1)) {
    size_t *slot = &t->slots[i];
    if (*slot == 0) return slot;
    const char *w = t->entries[*slot - 1].word;
    if (strncmp(w, s, n) == 0 && w[n] == '\0') return slot;
  }
}

static int grow_index(wf_table_t *t) {
  size_t nslot = t->nslot ? t->nslot * 2 : 64;
  size_t *slots = calloc(nslot, sizeof *slots);
  if (slots == NULL) return -1;
  free(t->slots);
  t->slots = slots;
  t->nslot = nslot;
  for (size_t e = 0; e < t->len; e++) {
    const char *w = t->entries[e].word;
    *find_slot(t, w, strlen(w)) = e + 1;
  }
  return 0;
}

static int add_word(wf_table_t *t, const char *s, size_t n) {
  if ((t->len + 1) * 2 > t->nslot && grow_index(t) != 0) return -1;
  size_t *slot = find_slot(t, s, n);
  if (*slot != 0) {
    t->entries[*slot - 1].count++;
    return 0;
  }
  if (t->len == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    wf_entry_t *e = realloc(t->entries, cap * sizeof *e);
    if (e == NULL) return -1;
    t->entries = e;
    t->cap = cap;
  }
  char *word = strndup(s, n);
  if (word == NULL) return -1;
  t->entries[t->len] = (wf_entry_t){word, 1};
  *slot = ++t->len;
  return 0;
}

wf_table_t *wf_count(const char *text) {
  wf_table_t *t = calloc(1, sizeof *t);
  char buf[256];
  if (t == NULL) return NULL;
  for (const char *p = text; *p != '\0';) {
    while (*p != '\0' && !isalnum((unsigned char)*p)) p++;
    size_t n = 0;
    for (; isalnum((unsigned char)*p); p++)
      if (n < sizeof buf) buf[n++] = (char)tolower((unsigned char)*p);
    if (n > 0 && add_word(t, buf, n) != 0) {
      wf_free(t);
      return NULL;
    }
  }
  return t;
}

size_t wf_get(const wf_table_t *t, const char *word) {
  if (t->nslot == 0) return 0;
  size_t *slot = find_slot(t, word, strlen(word));
  return *slot != 0 ? t->entries[*slot - 1].count : 0;
}

void wf_free(wf_table_t *t) {
  if (t == NULL) return;
  for (size_t i = 0; i < t->len; i++) free(t->entries[i].word);
  free(t->entries);
  free(t->slots);
  free(t);
}
