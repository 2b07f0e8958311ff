/* test_pprof.c - snapshots as pprof profiles, read back with protobuf-c: types, samples, inlined lines, mappings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <leaklab/leaklab.h>

#include "pprof_export.h"
#include "profile.pb-c.h"
#include "snapshot_fixtures.h"

typedef Perftools__Profiles__Profile profile_t;

/* Export, check the gzip wrapper, inflate and decode. */
static profile_t *export_profile(const ll_pprof_input_t *in) {
  char *gz = NULL;
  size_t gzlen = 0;
  FILE *f = open_memstream(&gz, &gzlen);
  assert_non_null(f);
  assert_int_equal(ll_report_pprof(f, in), 0);
  assert_int_equal(fclose(f), 0);
  assert_true(gzlen > 18);
  assert_int_equal((unsigned char)gz[0], 0x1f); /* gzip's magic: pprof tells formats by it */
  assert_int_equal((unsigned char)gz[1], 0x8b);

  size_t cap = 1 << 20;
  unsigned char *raw = malloc(cap);
  assert_non_null(raw);
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = (Bytef *)gz;
  z.avail_in = (uInt)gzlen;
  z.next_out = raw;
  z.avail_out = (uInt)cap;
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  size_t len = cap - z.avail_out;
  inflateEnd(&z);
  profile_t *p = perftools__profiles__profile__unpack(NULL, len, raw);
  assert_non_null(p);
  free(raw);
  free(gz);
  return p;
}

static const char *str(const profile_t *p, int64_t i) {
  assert_true(i >= 0 && (size_t)i < p->n_string_table);
  return p->string_table[i];
}

static const Perftools__Profiles__Location *loc(const profile_t *p, uint64_t id) {
  for (size_t i = 0; i < p->n_location; i++)
    if (p->location[i]->id == id) return p->location[i];
  fail_msg("no location %lu", (unsigned long)id);
  return NULL;
}

static const Perftools__Profiles__Function *fn(const profile_t *p, uint64_t id) {
  for (size_t i = 0; i < p->n_function; i++)
    if (p->function[i]->id == id) return p->function[i];
  fail_msg("no function %lu", (unsigned long)id);
  return NULL;
}

/* "name file:line" of line k of a location. */
static void line_is(const profile_t *p, const Perftools__Profiles__Location *l, size_t k,
                    const char *name, const char *file, int64_t line) {
  assert_true(k < l->n_line);
  const Perftools__Profiles__Function *f = fn(p, l->line[k]->function_id);
  assert_string_equal(str(p, f->name), name);
  assert_string_equal(str(p, f->filename), file);
  assert_int_equal(l->line[k]->line, line);
}

/* The sample whose leaf location has this address (or, for 0, this function at its leaf). */
static const Perftools__Profiles__Sample *sample_at(const profile_t *p, uint64_t addr,
                                                    const char *leaf_fn) {
  for (size_t i = 0; i < p->n_sample; i++) {
    const Perftools__Profiles__Location *l = loc(p, p->sample[i]->location_id[0]);
    if (l->address != addr) continue;
    if (leaf_fn == NULL) return p->sample[i];
    if (strcmp(str(p, fn(p, l->line[0]->function_id)->name), leaf_fn) == 0) return p->sample[i];
  }
  fail_msg("no sample at 0x%lx", (unsigned long)addr);
  return NULL;
}

static ll_snapshot_t *inuse_snapshot(void) {
  ll_snapshot_t *s = fx_snapshot_new(LL_AT_PEAK, 8);
  assert_non_null(s);
  /* Three functions inlined at one return address, called from main. */
  assert_non_null(fx_trace(s, "a.c:13:inner@1100 a.c:17:middle@1100 a.c:22:caller@1100 "
                              "m.c:28:main@1200", 4001, 1));
  /* A recursion returning to one address three times. */
  assert_non_null(fx_trace(s, "r.c:5:rec@1300 r.c:5:rec@1300 r.c:5:rec@1300 m.c:30:main@1200",
                           96, 3));
  /* Compile-time hooks: frames without addresses. */
  assert_non_null(fx_trace(s, "h.c:7:hooked h.c:40:main", 10, 1));
  /* An address outside every module. */
  assert_non_null(fx_trace(s, "<unknown>:0@9990", 5, 1));
  return s;
}

static void test_inuse_only(void **state) {
  (void)state;
  ll_snapshot_t *s = inuse_snapshot();
  static const unsigned char bid[] = {0xde, 0xad, 0x01};
  ll_pprof_mapping_t maps[] = {{0x1000, 0x2000, 0x0, "/bin/prog", bid, sizeof bid},
                               {0x5000, 0x6000, 0x1000, "/lib/other.so", NULL, 0}};
  const char *comments[] = {"program: fixture"};
  ll_pprof_input_t in = {.inuse = s, .mappings = maps, .nmapping = 2, .comments = comments,
                         .ncomment = 1};
  profile_t *p = export_profile(&in);

  assert_string_equal(p->string_table[0], "");
  assert_int_equal(p->n_sample_type, 2);
  assert_string_equal(str(p, p->sample_type[0]->type), "inuse_objects");
  assert_string_equal(str(p, p->sample_type[0]->unit), "count");
  assert_string_equal(str(p, p->sample_type[1]->type), "inuse_space");
  assert_string_equal(str(p, p->sample_type[1]->unit), "bytes");
  assert_string_equal(str(p, p->default_sample_type), "inuse_space");
  assert_string_equal(str(p, p->period_type->type), "space");
  assert_int_equal(p->period, 1);
  assert_int_equal(p->n_comment, 1);
  assert_string_equal(str(p, p->comment[0]), "program: fixture");

  assert_int_equal(p->n_mapping, 2);
  assert_int_equal(p->mapping[0]->id, 1);
  assert_int_equal(p->mapping[0]->memory_start, 0x1000);
  assert_int_equal(p->mapping[0]->memory_limit, 0x2000);
  assert_string_equal(str(p, p->mapping[0]->filename), "/bin/prog");
  assert_string_equal(str(p, p->mapping[0]->build_id), "dead01");
  assert_true(p->mapping[0]->has_functions && p->mapping[0]->has_line_numbers &&
              p->mapping[0]->has_inline_frames && p->mapping[0]->has_filenames);
  assert_int_equal(p->mapping[1]->file_offset, 0x1000);
  assert_string_equal(str(p, p->mapping[1]->build_id), "");

  assert_int_equal(p->n_sample, 4);
  int64_t objects = 0, space = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    assert_int_equal(p->sample[i]->n_value, 2);
    objects += p->sample[i]->value[0];
    space += p->sample[i]->value[1];
  }
  assert_int_equal(objects, 6);
  assert_int_equal(space, 4001 + 96 + 10 + 5);

  /* Inlined: one location, innermost line first, the holding function last. */
  const Perftools__Profiles__Sample *sm = sample_at(p, 0x1100, NULL);
  assert_int_equal(sm->value[1], 4001);
  assert_int_equal(sm->n_location_id, 2);
  const Perftools__Profiles__Location *l = loc(p, sm->location_id[0]);
  assert_int_equal(l->mapping_id, 1);
  assert_int_equal(l->n_line, 3);
  line_is(p, l, 0, "inner", "a.c", 13);
  line_is(p, l, 1, "middle", "a.c", 17);
  line_is(p, l, 2, "caller", "a.c", 22);
  const Perftools__Profiles__Location *main_loc = loc(p, sm->location_id[1]);
  assert_int_equal(main_loc->address, 0x1200);
  line_is(p, main_loc, 0, "main", "m.c", 28);

  /* Recursion: the same location once per level, and main's location shared. */
  sm = sample_at(p, 0x1300, NULL);
  assert_int_equal(sm->n_location_id, 4);
  assert_int_equal(sm->location_id[0], sm->location_id[1]);
  assert_int_equal(sm->location_id[1], sm->location_id[2]);
  assert_int_equal(loc(p, sm->location_id[0])->n_line, 1);
  assert_int_equal(sm->location_id[3], main_loc->id);
  assert_int_equal(sm->value[0], 3);

  /* No address: a location per frame, no mapping. */
  sm = sample_at(p, 0, "hooked");
  assert_int_equal(sm->n_location_id, 2);
  l = loc(p, sm->location_id[1]);
  assert_int_equal(l->mapping_id, 0);
  line_is(p, l, 0, "main", "h.c", 40);

  /* Nothing known but the address: no lines, no mapping. */
  l = loc(p, sample_at(p, 0x9990, NULL)->location_id[0]);
  assert_int_equal(l->n_line, 0);
  assert_int_equal(l->mapping_id, 0);

  perftools__profiles__profile__free_unpacked(p, NULL);
  ll_snapshot_free(s);
}

/* With every allocation of the run: four types, the same traceback in both one sample. */
static void test_with_allocations(void **state) {
  (void)state;
  ll_snapshot_t *s = inuse_snapshot();
  ll_snapshot_t *a = fx_snapshot_new(LL_AT_CURRENT, 4);
  assert_non_null(a);
  assert_non_null(fx_trace(a, "a.c:13:inner@1100 a.c:17:middle@1100 a.c:22:caller@1100 "
                              "m.c:28:main@1200", 8002, 2));
  assert_non_null(fx_trace(a, "t.c:3:temp m.c:29:main", 64000, 1000));
  ll_pprof_input_t in = {.inuse = s, .alloc = a};
  profile_t *p = export_profile(&in);

  assert_int_equal(p->n_sample_type, 4);
  static const char *const names[] = {"alloc_objects", "alloc_space", "inuse_objects",
                                      "inuse_space"};
  for (int i = 0; i < 4; i++) assert_string_equal(str(p, p->sample_type[i]->type), names[i]);
  assert_int_equal(p->n_mapping, 0);
  assert_int_equal(p->n_sample, 5);
  const Perftools__Profiles__Sample *sm = sample_at(p, 0x1100, NULL);
  assert_int_equal(sm->value[0], 2);
  assert_int_equal(sm->value[1], 8002);
  assert_int_equal(sm->value[2], 1);
  assert_int_equal(sm->value[3], 4001);
  sm = sample_at(p, 0, "temp");
  assert_int_equal(sm->value[0], 1000);
  assert_int_equal(sm->value[1], 64000);
  assert_int_equal(sm->value[2], 0);
  assert_int_equal(sm->value[3], 0);
  perftools__profiles__profile__free_unpacked(p, NULL);
  ll_snapshot_free(a);
  ll_snapshot_free(s);
}

static void test_errors(void **state) {
  (void)state;
  ll_pprof_input_t in = {0};
  assert_int_equal(ll_report_pprof(stdout, &in), LL_EINVAL);
  assert_int_equal(ll_report_pprof(stdout, NULL), LL_EINVAL);
  ll_snapshot_t *s = fx_snapshot_new(LL_AT_END, 1);
  assert_non_null(s);
  in.inuse = s;
  assert_int_equal(ll_report_pprof(NULL, &in), LL_EINVAL);
  profile_t *p = export_profile(&in); /* empty: still a profile */
  assert_int_equal(p->n_sample, 0);
  assert_int_equal(p->n_sample_type, 2);
  perftools__profiles__profile__free_unpacked(p, NULL);
  ll_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inuse_only),
      cmocka_unit_test(test_with_allocations),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
