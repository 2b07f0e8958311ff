/* valgrind_run.c - what massif and memcheck study: program targets (argv, name, label), and the note on --allocator. */
#include "valgrind_run.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

/* ---- targets ----------------------------------------------------------------------------- */

void ll__target_free(ll__target_t *t) {
  if (t == NULL) return;
  if (t->argv != NULL)
    for (int i = 0; i < t->argc; i++) free(t->argv[i]);
  free(t->argv);
  free(t->name);
  free(t->label);
  memset(t, 0, sizeof *t);
}

static int target_argv(ll__target_t *t, int argc) {
  t->argv = calloc((size_t)argc + 1, sizeof *t->argv);
  return t->argv == NULL ? LL_ENOMEM : 0;
}

static int push_arg(ll__target_t *t, const char *s) {
  if ((t->argv[t->argc] = strdup(s)) == NULL) return LL_ENOMEM;
  t->argc++;
  return 0;
}

int ll__target_relabel(ll__target_t *t, const char *name, const char *label) {
  char *n = strdup(name), *l = strdup(label);
  if (n == NULL || l == NULL) {
    free(n);
    free(l);
    return LL_ENOMEM;
  }
  free(t->name);
  free(t->label);
  t->name = n;
  t->label = l;
  return 0;
}

int ll__target_program(int argc, char *const *argv, ll__target_t *t, char *msg, size_t msglen) {
  char path[PATH_MAX];
  int rc;

  memset(t, 0, sizeof *t);
  if (argc < 1) {
    snprintf(msg, msglen, "missing the PROGRAM after '--'");
    return LL_EINVAL;
  }
  if ((rc = ll__find_program(argv[0], path, sizeof path)) != 0) {
    snprintf(msg, msglen, "cannot run '%s': %s", argv[0], ll_strerror(rc));
    return rc;
  }
  if ((rc = target_argv(t, argc)) != 0) goto fail;
  if ((rc = push_arg(t, path)) != 0) goto fail;
  size_t lz = strlen(argv[0]) + 1;
  for (int i = 1; i < argc; i++) {
    if ((rc = push_arg(t, argv[i])) != 0) goto fail;
    lz += strlen(argv[i]) + 1;
  }
  const char *base = strrchr(argv[0], '/');
  base = base != NULL ? base + 1 : argv[0];
  t->name = strdup(base[0] != '\0' ? base : "program");
  t->label = malloc(lz);
  if (t->name == NULL || t->label == NULL) {
    rc = LL_ENOMEM;
    goto fail;
  }
  /* The name becomes a directory under reports/: keep it to safe characters. */
  for (char *p = t->name; *p != '\0'; p++)
    if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
      *p = '_';
  if (t->name[0] == '.') t->name[0] = '_';
  size_t used = (size_t)snprintf(t->label, lz, "%s", argv[0]);
  for (int i = 1; i < argc; i++) used += (size_t)snprintf(t->label + used, lz - used, " %s", argv[i]);
  return 0;

fail:
  snprintf(msg, msglen, "%s", ll_strerror(rc));
  ll__target_free(t);
  return rc;
}

void ll__valgrind_allocator_note(FILE *out, const char *verb, const char *allocator) {
  if (allocator == NULL || strcmp(allocator, "jemalloc") != 0) return;
  fprintf(out,
          "leaklab %s: note: under valgrind the program allocates from valgrind's own malloc, "
          "which replaces the program's allocator: valgrind runs it without jemalloc, so "
          "jemalloc's size classes and figures apply only to leaklab's recording (run "
          "--allocator jemalloc). Requested bytes do not depend on the allocator: the peaks "
          "still compare; the allocator slack does not.\n",
          verb);
}
