/* report_pprof.c - `leaklab report --format pprof`: the moment, every allocation when recorded, and the module map, as a pprof file. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "pprof_export.h"

/* The capture's module map as pprof mappings (none for a plain snapshot file); 0 or an exit
 * status after an error line. */
static int load_mappings(const char *path, const ll_capture_t *cap, ll__arena_t *arena,
                         ll_pprof_mapping_t **out, size_t *n) {
  const ll_cap_module_t *mods = NULL;
  size_t nmod = 0;
  int rc = ll_capture_modules(cap, &mods, &nmod);

  *out = NULL;
  *n = 0;
  if (rc == LL_ENOVIEW) return 0;
  if (rc != 0) return ll__runtime_error(path, rc, " (module map)");
  if ((*out = ll__arena_alloc(arena, (nmod + 1) * sizeof **out)) == NULL)
    return ll__runtime_error(path, LL_ENOMEM, NULL);
  for (size_t i = 0; i < nmod; i++)
    (*out)[i] = (ll_pprof_mapping_t){.start = mods[i].lo, .limit = mods[i].hi,
                                     .offset = mods[i].lo - mods[i].bias, .path = mods[i].path,
                                     .build_id = mods[i].build_id,
                                     .build_id_len = mods[i].build_id_len};
  *n = nmod;
  return 0;
}

int ll__emit_pprof(const char *file, const ll_capture_t *cap, ll_at_t at, unsigned mask,
                   const ll__report_args_t *ra) {
  const char *name = ra->output != NULL && strcmp(ra->output, "-") != 0 ? ra->output : "<stdout>";
  ll__arena_t *arena = ll__arena_new();
  ll_snapshot_t *inuse = NULL, *alloc = NULL;
  ll_pprof_input_t in = {0};
  ll_pprof_mapping_t *maps = NULL;
  size_t nmap = 0;
  char program[4096 + 16], moment[64];
  const char *comments[3] = {program, moment,
                             "alloc: every allocation of the run, freed or not (a realloc is one "
                             "allocation of its new size)"};
  FILE *f = NULL;
  int status, rc;

  if (arena == NULL) return ll__runtime_error(file, LL_ENOMEM, NULL);
  if ((status = ll__load_filtered(file, cap, at, mask, ra, &inuse)) != 0) goto cleanup;
  /* Every allocation of the run, when the capture holds it: Go's alloc_* sample types. */
  if ((mask & (1u << LL_AT_ALLOCATIONS)) &&
      (status = ll__load_filtered(file, cap, LL_AT_ALLOCATIONS, mask, ra, &alloc)) != 0)
    goto cleanup;
  if ((status = load_mappings(file, cap, arena, &maps, &nmap)) != 0) goto cleanup;
  snprintf(program, sizeof program, "program: %s",
           inuse->program != NULL && inuse->program[0] != '\0' ? inuse->program : "(unknown)");
  snprintf(moment, sizeof moment, "inuse: the live blocks at %s (leaklab)", ll_at_name(at));
  in = (ll_pprof_input_t){.inuse = inuse, .alloc = alloc, .mappings = maps, .nmapping = nmap,
                          .comments = comments, .ncomment = alloc != NULL ? 3 : 2};
  if ((f = ll__open_output(ra->output)) == NULL) {
    status = LL__EXIT_RUNTIME;
    goto cleanup;
  }
  rc = ll_report_pprof(f, &in);
  status = ll__close_output(f, name);
  if (rc < 0 && status == LL__EXIT_OK) status = ll__runtime_error(name, rc, NULL);
cleanup:
  ll_snapshot_free(alloc);
  ll_snapshot_free(inuse);
  ll__arena_free(arena);
  return status;
}
