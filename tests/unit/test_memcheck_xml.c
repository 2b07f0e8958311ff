/* test_memcheck_xml.c - the memcheck XML reader on a real valgrind file, cut at every byte, and broken by hand. */
#include "test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "memcheck_xml.h"

#ifndef LL_MEMCHECK_DATA_DIR
#error "LL_MEMCHECK_DATA_DIR must name tests/data/memcheck"
#endif

static const ll__mc_record_t *find(const ll__memcheck_t *mc, const char *place) {
  for (size_t i = 0; i < mc->nrecords; i++)
    if (strcmp(mc->records[i].place, place) == 0) return &mc->records[i];
  fail_msg("no record at %s", place);
  return NULL;
}

/* all_kinds.xml: valgrind 3.19 on leaks.cc, one record of each kind, two definitely lost, one
 * invalid read. */
static void test_real_file(void **state) {
  (void)state;
  char path[1024];
  ll__memcheck_t mc;
  const char *what = "unset";
  snprintf(path, sizeof path, "%s/all_kinds.xml", LL_MEMCHECK_DATA_DIR);
  assert_int_equal(ll__memcheck_parse_file(path, &mc, &what), 0);
  assert_null(what);
  assert_int_equal(mc.nrecords, 5);
  assert_int_equal(mc.other_errors, 1);
  /* memcheck's <leakedbytes> of a definitely lost block counts what it points to (its text says
   * "64 (32 direct, 32 indirect)"): the summary counts the direct part only, as memcheck's. */
  assert_int_equal(mc.bytes[LL__MC_DEFINITE], 56 + 32);
  assert_int_equal(mc.blocks[LL__MC_DEFINITE], 2);
  assert_int_equal(mc.bytes[LL__MC_INDIRECT], 32);
  assert_int_equal(mc.bytes[LL__MC_POSSIBLE], 64);
  assert_int_equal(mc.bytes[LL__MC_REACHABLE], 100);
  assert_int_equal(mc.blocks[LL__MC_REACHABLE], 1);
  /* Past valgrind's operator new[] (vgpreload) to the template's own line. */
  const ll__mc_record_t *r = find(&mc, "leaks.cc:10");
  assert_int_equal(r->kind, LL__MC_DEFINITE);
  assert_int_equal(r->bytes, 56);
  assert_string_equal(r->file, "leaks.cc");
  assert_int_equal(r->line, 10);
  assert_int_equal(r->indirect, 0);
  r = find(&mc, "leaks.cc:14");
  assert_int_equal(r->kind, LL__MC_DEFINITE);
  assert_int_equal(r->bytes, 32);
  assert_int_equal(r->indirect, 32);
  assert_int_equal(find(&mc, "leaks.cc:17")->kind, LL__MC_REACHABLE);
  assert_int_equal(find(&mc, "leaks.cc:18")->kind, LL__MC_POSSIBLE);
  assert_int_equal(find(&mc, "leaks.cc:15")->kind, LL__MC_INDIRECT);
  ll__memcheck_sort(&mc);
  assert_int_equal(mc.records[0].bytes, 100);
  assert_int_equal(mc.records[mc.nrecords - 1].bytes, 32);
  /* 100, 64, 56, then 32 B twice: the definitely lost one first, by kind. */
  assert_int_equal(mc.records[1].kind, LL__MC_POSSIBLE);
  assert_int_equal(mc.records[2].bytes, 56);
  assert_int_equal(mc.records[3].kind, LL__MC_DEFINITE);
  assert_int_equal(mc.records[4].kind, LL__MC_INDIRECT);
  ll__memcheck_free(&mc);
  assert_null(mc.records);
}

/* A file cut anywhere is refused (memcheck writes </valgrindoutput> last), never read half. */
static void test_truncated_everywhere(void **state) {
  (void)state;
  size_t len;
  char *buf = tf_slurp(LL_MEMCHECK_DATA_DIR, "all_kinds.xml", &len);
  ll__memcheck_t mc;
  const char *what;
  /* The closing tag ends the file but for its newline: every shorter prefix lacks it. */
  char *root_end = strstr(buf, "</valgrindoutput>");
  assert_non_null(root_end);
  size_t whole = (size_t)(root_end - buf) + strlen("</valgrindoutput>");
  for (size_t n = 0; n < whole; n++) {
    char *cut = malloc(n + 1); /* exactly n bytes readable: ASan sees any overread */
    memcpy(cut, buf, n);
    assert_int_equal(ll__memcheck_parse_buffer(cut, n, &mc, &what), LL_ETRUNC);
    assert_non_null(what);
    assert_null(mc.records);
    free(cut);
  }
  assert_int_equal(ll__memcheck_parse_buffer(buf, whole, &mc, NULL), 0);
  assert_int_equal(mc.nrecords, 5);
  ll__memcheck_free(&mc);
  free(buf);
}

static int parse_text(const char *text, ll__memcheck_t *mc, const char **what) {
  return ll__memcheck_parse_buffer(text, strlen(text), mc, what);
}

#define DOC(body) "<?xml version=\"1.0\"?>\n<valgrindoutput>\n" body "</valgrindoutput>\n"

static void test_malformed(void **state) {
  (void)state;
  ll__memcheck_t mc;
  const char *what;
  /* An <error> whose end tag never comes. */
  assert_int_equal(parse_text(DOC("<error><kind>Leak_DefinitelyLost</kind>\n"), &mc, &what),
                   LL_ECORRUPT);
  assert_non_null(strstr(what, "not closed"));
  /* Leak records without sizes, or with sizes that are not numbers. */
  static const char *const bad[] = {
      DOC("<error><kind>Leak_DefinitelyLost</kind></error>"),
      DOC("<error><kind>Leak_PossiblyLost</kind><xwhat><leakedbytes>12</leakedbytes></xwhat></error>"),
      DOC("<error><kind>Leak_StillReachable</kind><leakedbytes>-1</leakedbytes>"
          "<leakedblocks>1</leakedblocks></error>"),
      DOC("<error><kind>Leak_IndirectlyLost</kind><leakedbytes>12x</leakedbytes>"
          "<leakedblocks>1</leakedblocks></error>"),
      DOC("<error><kind>Leak_DefinitelyLost</kind><leakedbytes>99999999999999999999999</leakedbytes>"
          "<leakedblocks>1</leakedblocks></error>"),
      /* A later bad record after a good one: nothing is kept. */
      DOC("<error><kind>Leak_DefinitelyLost</kind><leakedbytes>8</leakedbytes>"
          "<leakedblocks>1</leakedblocks></error>\n<error><kind>Leak_DefinitelyLost</kind></error>"),
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(parse_text(bad[i], &mc, &what), LL_ECORRUPT);
    assert_non_null(strstr(what, "without its sizes"));
    assert_null(mc.records);
  }
  /* A direct/indirect split that does not add up to <leakedbytes>. */
  assert_int_equal(parse_text(DOC("<error><kind>Leak_DefinitelyLost</kind><xwhat><text>64 (32 direct, "
                                  "31 indirect) bytes in 1 blocks are definitely lost</text>"
                                  "<leakedbytes>64</leakedbytes><leakedblocks>1</leakedblocks>"
                                  "</xwhat></error>"), &mc, &what),
                   LL_ECORRUPT);
  assert_non_null(strstr(what, "do not add up"));
  assert_null(mc.records);
  /* Not memcheck XML at all. */
  assert_int_equal(parse_text("hello\n", &mc, &what), LL_ETRUNC);
  assert_int_equal(parse_text("", &mc, &what), LL_ETRUNC);
}

static void test_small_cases(void **state) {
  (void)state;
  ll__memcheck_t mc;
  const char *what;
  /* valgrind's thousands separators in the split. */
  assert_int_equal(parse_text(DOC("<error><kind>Leak_DefinitelyLost</kind><xwhat><text>1,234,567 "
                                  "(1,000,000 direct, 234,567 indirect) bytes in 10 blocks are "
                                  "definitely lost</text><leakedbytes>1234567</leakedbytes>"
                                  "<leakedblocks>10</leakedblocks></xwhat></error>"), &mc, &what),
                   0);
  assert_int_equal(mc.records[0].bytes, 1000000);
  assert_int_equal(mc.records[0].indirect, 234567);
  assert_int_equal(mc.bytes[LL__MC_DEFINITE], 1000000);
  ll__memcheck_free(&mc);
  /* No errors at all: a clean program. */
  assert_int_equal(parse_text(DOC("<status><state>FINISHED</state></status>\n"), &mc, &what), 0);
  assert_int_equal(mc.nrecords, 0);
  assert_int_equal(mc.other_errors, 0);
  /* Entities decoded; no file: "fn (in object)"; every frame a system one: the first one. */
  assert_int_equal(
      parse_text(DOC("<error><kind>Leak_DefinitelyLost</kind><leakedbytes>8</leakedbytes>"
                     "<leakedblocks>2</leakedblocks><stack>"
                     "<frame><obj>/usr/lib/x/vgpreload_memcheck.so</obj><fn>malloc</fn></frame>"
                     "<frame><obj>/opt/app/libq.so</obj><fn>q&lt;int&gt;&amp;</fn></frame>"
                     "</stack></error>\n"
                     "<error><kind>Leak_StillReachable</kind><leakedbytes>4</leakedbytes>"
                     "<leakedblocks>1</leakedblocks><stack>"
                     "<frame><obj>/usr/lib/x/vgpreload_memcheck.so</obj><fn>malloc</fn></frame>"
                     "<frame><obj>/usr/lib/x86_64-linux-gnu/libc.so.6</obj><fn>strdup</fn></frame>"
                     "</stack></error>\n"
                     "<error><kind>Leak_PossiblyLost</kind><leakedbytes>1</leakedbytes>"
                     "<leakedblocks>1</leakedblocks></error>\n"
                     "<error><kind>UninitCondition</kind></error>\n"),
                 &mc, &what),
      0);
  assert_int_equal(mc.nrecords, 3);
  assert_int_equal(mc.other_errors, 1);
  assert_string_equal(mc.records[0].place, "q<int>& (in libq.so)");
  assert_int_equal(mc.records[0].blocks, 2);
  assert_string_equal(mc.records[1].place, "malloc (in vgpreload_memcheck.so)");
  assert_string_equal(mc.records[2].place, "???"); /* no stack */
  ll__memcheck_free(&mc);
  /* A missing file says so. */
  assert_int_equal(ll__memcheck_parse_file("/nonexistent/memcheck.xml", &mc, &what), LL_ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_file),
      cmocka_unit_test(test_truncated_everywhere),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_small_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
