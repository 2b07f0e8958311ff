/* test_report.c - whole text and JSON reports of hand-made statistics: exact text, valid JSON, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leaklab/report.h>

/* ---- fixtures: a program that made 3 names (41+41+42 B) at app.c:12, a 10 KiB table at app.c:20
 * (freed after the peak) and 2 x 50 B at util.c:7 after it. ------------------------------------ */

static const ll_frame_t names_frames[] = {{"app.c", "make_names", 12, 0}, {"app.c", "main", 40, 0}};
static const ll_frame_t table_frames[] = {{"app.c", "load_table", 20, 0}, {"app.c", "main", 41, 0}};
static const ll_traceback_t names_tb = {2, 2, names_frames};
static const ll_traceback_t table_tb = {2, 2, table_frames};
static const ll_traceback_t names_key = {1, 1, names_frames};
static const ll_traceback_t table_key = {1, 1, table_frames};

static ll_snapshot_t peak_snap(void) {
  ll_snapshot_t s;
  memset(&s, 0, sizeof s);
  s.at = LL_AT_PEAK;
  s.traceback_limit = 2;
  s.program = "./prog";
  s.current_bytes = 224;
  s.peak_bytes = 10364;
  s.total_allocations = 6;
  s.total_bytes = 10464;
  return s;
}

static ll_stat_t lineno_items[] = {
    {&table_key, 10240, 10248, 1, 0, 0},
    {&names_key, 124, 144, 3, 0, 0},
};

static ll_stats_t lineno_stats(void) {
  ll_stats_t st = {LL_GROUP_LINENO, 0, 0, 2, lineno_items, NULL};
  return st;
}

/* The report as a string (caller frees). */
static char *render(const ll_snapshot_t *snap, const ll_stats_t *stats, size_t top,
                    ll_format_t format) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ll_report_opts_t opts = {.top = top, .format = format};
  assert_non_null(f);
  assert_int_equal(ll_report_write(f, snap, stats, &opts), 0);
  assert_int_equal(fclose(f), 0);
  return buf;
}

static void expect_report(const ll_snapshot_t *snap, const ll_stats_t *stats, size_t top,
                          ll_format_t format, const char *want) {
  char *got = render(snap, stats, top, format);
  if (strcmp(got, want) != 0) {
    fprintf(stderr, "--- got:\n%s--- want:\n%s---\n", got, want);
    free(got);
    fail_msg("report differs");
  }
  free(got);
}

/* ---- a strict JSON validator (RFC 8259), enough to know any parser will take the output ---- */

typedef struct {
  const char *p;
  int depth;
} json_t;

static void ws(json_t *j) {
  while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') j->p++;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int json_value(json_t *j);

static int json_str(json_t *j) {
  if (*j->p++ != '"') return 0;
  for (;;) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') {
      j->p++;
      return 1;
    }
    if (c < 0x20) return 0; /* raw control characters (and the end of text) are not allowed */
    if (c == '\\') {
      char e = j->p[1];
      if (e == 'u') {
        for (int i = 2; i < 6; i++)
          if (!is_hex(j->p[i])) return 0;
        j->p += 6;
      } else if (e && strchr("\"\\/bfnrt", e)) {
        j->p += 2;
      } else {
        return 0;
      }
      continue;
    }
    if (c < 0x80) {
      j->p++;
      continue;
    }
    /* UTF-8: a lead byte and the right number of continuation bytes (enough here). */
    int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (n == 0 || c > 0xf4) return 0;
    for (int i = 1; i < n; i++)
      if (((unsigned char)j->p[i] & 0xc0) != 0x80) return 0;
    j->p += n;
  }
}

static int json_number(json_t *j) {
  const char *start = j->p;
  if (*j->p == '-') j->p++;
  if (*j->p == '0') {
    j->p++;
  } else if (*j->p >= '1' && *j->p <= '9') {
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  } else {
    return 0;
  }
  if (*j->p == '.') {
    j->p++;
    if (!(*j->p >= '0' && *j->p <= '9')) return 0;
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  }
  return j->p > start;
}

static int json_container(json_t *j, char close, int is_object) {
  if (++j->depth > 64) return 0;
  j->p++;
  ws(j);
  if (*j->p == close) {
    j->p++;
    j->depth--;
    return 1;
  }
  for (;;) {
    ws(j);
    if (is_object) {
      if (!json_str(j)) return 0;
      ws(j);
      if (*j->p++ != ':') return 0;
    }
    if (!json_value(j)) return 0;
    ws(j);
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p++ != close) return 0;
    j->depth--;
    return 1;
  }
}

static int json_value(json_t *j) {
  ws(j);
  switch (*j->p) {
  case '{': return json_container(j, '}', 1);
  case '[': return json_container(j, ']', 0);
  case '"': return json_str(j);
  case 't': return strncmp(j->p, "true", 4) == 0 ? (j->p += 4, 1) : 0;
  case 'f': return strncmp(j->p, "false", 5) == 0 ? (j->p += 5, 1) : 0;
  case 'n': return strncmp(j->p, "null", 4) == 0 ? (j->p += 4, 1) : 0;
  default: return json_number(j);
  }
}

static int json_valid(const char *text) {
  json_t j = {text, 0};
  if (*text != '{' || !json_value(&j)) return 0;
  ws(&j);
  return *j.p == '\0';
}

static void test_validator_rejects_bad_json(void **state) {
  (void)state;
  assert_true(json_valid("{\"a\": [1, -2, 0.5, true, null, \"x\\u0001\"]}"));
  assert_false(json_valid("{\"a\": [1, 2,]}"));
  assert_false(json_valid("{\"a\": \"tab\there\"}"));
  assert_false(json_valid("{\"a\": \"\\x\"}"));
  assert_false(json_valid("{\"a\": \"\xff\"}"));
  assert_false(json_valid("{\"a\": 01}"));
  assert_false(json_valid("{\"a\": 1} x"));
  assert_false(json_valid("{\"a\": 1"));
}

/* ---- text --------------------------------------------------------------------------------- */

static void test_text_lineno(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  (void)state;
  expect_report(&snap, &stats, 10, LL_FORMAT_TEXT,
                "[ Top 2 lines at peak of ./prog: peak=10.1 KiB, end=224 B, 6 allocations "
                "totalling 10.2 KiB ]\n"
                "app.c:20: size=10.0 KiB, count=1, average=10.0 KiB\n"
                "app.c:12: size=124 B, count=3, average=41 B\n");
  /* top 0 shows everything too */
  expect_report(&snap, &stats, 0, LL_FORMAT_TEXT,
                "[ Top 2 lines at peak of ./prog: peak=10.1 KiB, end=224 B, 6 allocations "
                "totalling 10.2 KiB ]\n"
                "app.c:20: size=10.0 KiB, count=1, average=10.0 KiB\n"
                "app.c:12: size=124 B, count=3, average=41 B\n");
}

static void test_text_top_cuts(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  (void)state;
  expect_report(&snap, &stats, 1, LL_FORMAT_TEXT,
                "[ Top 1 of 2 lines at peak of ./prog: peak=10.1 KiB, end=224 B, 6 allocations "
                "totalling 10.2 KiB ]\n"
                "app.c:20: size=10.0 KiB, count=1, average=10.0 KiB\n"
                "...and 1 more\n");
}

static void test_text_traceback_frames(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_frame_t native[] = {{"<unknown>", "", 0, 0x401234}, {"lib.c", "", 9, 0}};
  ll_traceback_t native_tb = {2, 7, native};
  ll_stat_t items[] = {
      {&table_tb, 10240, 10248, 1, 0, 0},
      {&names_tb, 124, 144, 3, 0, 0},
      {&native_tb, 8, 24, 1, 0, 0},
  };
  ll_stats_t stats = {LL_GROUP_TRACEBACK, 0, 0, 3, items, NULL};
  (void)state;
  snap.program = "";
  snap.untracked_allocations = 2;
  snap.untracked_bytes = 20480;
  expect_report(&snap, &stats, 10, LL_FORMAT_TEXT,
                "[ Top 3 tracebacks at peak: peak=10.1 KiB, end=224 B, 6 allocations totalling "
                "10.2 KiB, 2 untracked (20.0 KiB) ]\n"
                "app.c:20: size=10.0 KiB, count=1, average=10.0 KiB\n"
                "    app.c:20 (load_table)\n"
                "    app.c:41 (main)\n"
                "app.c:12: size=124 B, count=3, average=41 B\n"
                "    app.c:12 (make_names)\n"
                "    app.c:40 (main)\n"
                "<unknown>:0: size=8 B, count=1, average=8 B\n"
                "    <unknown>:0 [0x401234]\n"
                "    lib.c:9\n"
                "    ...and 5 older frames not kept (traceback limit)\n");
}

static void test_text_filename_cumulative(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_frame_t app = {"app.c", "", 0, 0};
  ll_traceback_t app_tb = {1, 1, &app};
  ll_stat_t items[] = {{&app_tb, 10364, 10392, 4, 0, 0}};
  ll_stats_t stats = {LL_GROUP_FILENAME, 1, 0, 1, items, NULL};
  (void)state;
  snap.at = LL_AT_END;
  expect_report(&snap, &stats, 10, LL_FORMAT_TEXT,
                "[ Top 1 files (cumulative) at end of ./prog: peak=10.1 KiB, end=224 B, "
                "6 allocations totalling 10.2 KiB ]\n"
                "app.c:0: size=10.1 KiB, count=4, average=2591 B\n");
}

static void test_text_diff(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stat_t items[] = {
      {&table_key, 0, 0, 0, -10240, -1},
      {&names_key, 124, 144, 3, 24, 1},
  };
  ll_stats_t stats = {LL_GROUP_LINENO, 0, 1, 2, items, NULL};
  (void)state;
  snap.at = LL_AT_CURRENT;
  expect_report(&snap, &stats, 10, LL_FORMAT_TEXT,
                "[ Top 2 line differences at current of ./prog: peak=10.1 KiB, end=224 B, "
                "6 allocations totalling 10.2 KiB ]\n"
                "app.c:20: size=0 B (-10.0 KiB), count=0 (-1)\n"
                "app.c:12: size=124 B (+24 B), count=3 (+1), average=41 B\n");
}

static void test_text_empty(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = {LL_GROUP_LINENO, 0, 0, 0, NULL, NULL};
  (void)state;
  snap.at = LL_AT_LEAKS;
  snap.program = NULL; /* "not known" is also tolerated as NULL */
  expect_report(&snap, &stats, 10, LL_FORMAT_TEXT,
                "[ No lines at leaks: peak=10.1 KiB, end=224 B, 6 allocations totalling "
                "10.2 KiB ]\n");
}

static void test_text_long_filename(void **state) {
  char name[2000];
  ll_snapshot_t snap = peak_snap();
  ll_frame_t f = {name, "f", 3, 0};
  ll_traceback_t tb = {1, 1, &f};
  ll_stat_t items[] = {{&tb, 5, 8, 1, 0, 0}};
  ll_stats_t stats = {LL_GROUP_LINENO, 0, 0, 1, items, NULL};
  (void)state;
  memset(name, 'd', sizeof name - 3);
  strcpy(name + sizeof name - 3, ".c");
  char *got = render(&snap, &stats, 0, LL_FORMAT_TEXT);
  char *line = strchr(got, '\n') + 1;
  assert_int_equal(strncmp(line, name, strlen(name)), 0);
  assert_string_equal(line + strlen(name), ":3: size=5 B, count=1, average=5 B\n");
  free(got);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void test_json_exact(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  (void)state;
  const char *want =
      "{\n"
      "  \"program\": \"./prog\",\n"
      "  \"at\": \"peak\",\n"
      "  \"group_by\": \"lineno\",\n"
      "  \"cumulative\": false,\n"
      "  \"diff\": false,\n"
      "  \"peak_bytes\": 10364,\n"
      "  \"end_bytes\": 224,\n"
      "  \"total_allocations\": 6,\n"
      "  \"total_bytes\": 10464,\n"
      "  \"untracked_allocations\": 0,\n"
      "  \"untracked_bytes\": 0,\n"
      "  \"sites_total\": 2,\n"
      "  \"sites\": [\n"
      "    {\"file\": \"app.c\", \"line\": 20, \"function\": \"load_table\", \"size\": 10240, "
      "\"usable\": 10248, \"count\": 1, \"frames\": [{\"file\": \"app.c\", \"line\": 20, "
      "\"function\": \"load_table\", \"ip\": 0}]},\n"
      "    {\"file\": \"app.c\", \"line\": 12, \"function\": \"make_names\", \"size\": 124, "
      "\"usable\": 144, \"count\": 3, \"frames\": [{\"file\": \"app.c\", \"line\": 12, "
      "\"function\": \"make_names\", \"ip\": 0}]}\n"
      "  ]\n"
      "}\n";
  expect_report(&snap, &stats, 0, LL_FORMAT_JSON, want);
  assert_true(json_valid(want));
}

static void test_json_diff_traceback_top(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stat_t items[] = {
      {&table_tb, 0, 0, 0, -10240, -1},
      {&names_tb, 124, 144, 3, 24, 1},
  };
  ll_stats_t stats = {LL_GROUP_TRACEBACK, 0, 1, 2, items, NULL};
  (void)state;
  char *got = render(&snap, &stats, 1, LL_FORMAT_JSON);
  assert_true(json_valid(got));
  assert_non_null(strstr(got, "\"group_by\": \"traceback\""));
  assert_non_null(strstr(got, "\"diff\": true"));
  assert_non_null(strstr(got, "\"sites_total\": 2"));
  assert_non_null(strstr(got, "\"size\": 0, \"usable\": 0, \"count\": 0, \"size_diff\": -10240, "
                              "\"count_diff\": -1, \"frames\": [{\"file\": \"app.c\", \"line\": "
                              "20, \"function\": \"load_table\", \"ip\": 0}, {\"file\": "
                              "\"app.c\", \"line\": 41, \"function\": \"main\", \"ip\": 0}]}"));
  assert_null(strstr(got, "make_names")); /* cut by top */
  free(got);
}

static void test_json_empty(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = {LL_GROUP_FILENAME, 1, 0, 0, NULL, NULL};
  (void)state;
  char *got = render(&snap, &stats, 0, LL_FORMAT_JSON);
  assert_true(json_valid(got));
  assert_non_null(strstr(got, "\"sites\": []\n}\n"));
  assert_non_null(strstr(got, "\"cumulative\": true"));
  free(got);
}

static void test_json_escaping(void **state) {
  ll_snapshot_t snap = peak_snap();
  /* Quotes, backslash, control characters, DEL, valid UTF-8 (2, 3, 4 bytes) and bytes that are
   * not UTF-8: a stray continuation, a truncated sequence, an overlong, a surrogate, > U+10FFFF,
   * and a lead byte just before the end. */
  ll_frame_t f = {"we\"ird\\na\tme\x01\x1f\x7f\r\n\b\f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                  "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xc3",
                  "fn<\x02>", 5, 0xffffffffffffffffull};
  ll_traceback_t tb = {1, 1, &f};
  ll_stat_t items[] = {{&tb, 1, 8, 1, 0, 0}};
  ll_stats_t stats = {LL_GROUP_LINENO, 0, 0, 1, items, NULL};
  (void)state;
  snap.program = "prog \"x\" \\ \x1b[1m";
  char *got = render(&snap, &stats, 0, LL_FORMAT_JSON);
  if (!json_valid(got)) fail_msg("invalid JSON:\n%s", got);
  assert_non_null(strstr(got, "\"program\": \"prog \\\"x\\\" \\\\ \\u001b[1m\""));
  assert_non_null(strstr(got, "\"file\": \"we\\\"ird\\\\na\\tme\\u0001\\u001f\x7f\\r\\n\\b\\f/"
                              "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                              "\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                              "\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\""));
  assert_non_null(strstr(got, "\"function\": \"fn<\\u0002>\""));
  assert_non_null(strstr(got, "\"ip\": 18446744073709551615}"));
  free(got);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void test_write_error_is_eio(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  ll_report_opts_t text = {.format = LL_FORMAT_TEXT}, json = {.format = LL_FORMAT_JSON};
  (void)state;
  FILE *full = fopen("/dev/full", "w");
  if (full == NULL) skip();
  assert_int_equal(ll_report_write(full, &snap, &stats, &text), LL_EIO);
  fclose(full);
  full = fopen("/dev/full", "w");
  assert_non_null(full);
  assert_int_equal(ll_report_write(full, &snap, &stats, &json), LL_EIO);
  fclose(full);
}

/* --usable and jemalloc's figures: one line after the heading, usable= at each line's end; the
 * JSON object before "sites"; the massif format is not ll_report_write's. */
static void test_usable_and_jemalloc(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  ll_jemalloc_stats_t je = {12288, 16384, 8388608, 8491008};
  ll_report_opts_t opts = {.top = 10, .format = LL_FORMAT_TEXT, .usable = 1, .jemalloc = &je};
  char *buf = NULL;
  size_t len = 0;
  (void)state;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ll_report_write(f, &snap, &stats, &opts), 0);
  fclose(f);
  assert_string_equal(buf,
                      "[ Top 2 lines at peak of ./prog: peak=10.1 KiB, end=224 B, 6 allocations "
                      "totalling 10.2 KiB ]\n"
                      "jemalloc at end: allocated=12.0 KiB, active=16.0 KiB, resident=8192 KiB, "
                      "mapped=8292 KiB\n"
                      "app.c:20: size=10.0 KiB, count=1, average=10.0 KiB, usable=10.0 KiB\n"
                      "app.c:12: size=124 B, count=3, average=41 B, usable=144 B\n");
  free(buf);

  opts.format = LL_FORMAT_JSON;
  opts.usable = 0;
  buf = NULL;
  f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ll_report_write(f, &snap, &stats, &opts), 0);
  fclose(f);
  assert_true(json_valid(buf));
  assert_non_null(strstr(buf, "  \"sites_total\": 2,\n  \"jemalloc\": {\"at\": \"end\", \"allocated\": "
                              "12288, \"active\": 16384, \"resident\": 8388608, \"mapped\": "
                              "8491008},\n  \"sites\": [\n"));
  free(buf);

  opts.format = LL_FORMAT_MASSIF;
  assert_int_equal(ll_report_write(stdout, &snap, &stats, &opts), LL_EINVAL);
}

static void test_bad_arguments(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  ll_stats_t no_items = {LL_GROUP_LINENO, 0, 0, 2, NULL, NULL};
  ll_report_opts_t bad = {.format = (ll_format_t)42};
  (void)state;
  assert_int_equal(ll_report_write(NULL, &snap, &stats, NULL), LL_EINVAL);
  assert_int_equal(ll_report_write(stdout, NULL, &stats, NULL), LL_EINVAL);
  assert_int_equal(ll_report_write(stdout, &snap, NULL, NULL), LL_EINVAL);
  assert_int_equal(ll_report_write(stdout, &snap, &no_items, NULL), LL_EINVAL);
  assert_int_equal(ll_report_write(stdout, &snap, &stats, &bad), LL_EINVAL);
}

static void test_null_opts_is_full_text(void **state) {
  ll_snapshot_t snap = peak_snap();
  ll_stats_t stats = lineno_stats();
  char *buf = NULL;
  size_t len = 0;
  (void)state;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(ll_report_write(f, &snap, &stats, NULL), 0);
  fclose(f);
  char *want = render(&snap, &stats, 0, LL_FORMAT_TEXT);
  assert_string_equal(buf, want);
  free(want);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validator_rejects_bad_json),
      cmocka_unit_test(test_text_lineno),
      cmocka_unit_test(test_text_top_cuts),
      cmocka_unit_test(test_text_traceback_frames),
      cmocka_unit_test(test_text_filename_cumulative),
      cmocka_unit_test(test_text_diff),
      cmocka_unit_test(test_text_empty),
      cmocka_unit_test(test_text_long_filename),
      cmocka_unit_test(test_json_exact),
      cmocka_unit_test(test_json_diff_traceback_top),
      cmocka_unit_test(test_json_empty),
      cmocka_unit_test(test_json_escaping),
      cmocka_unit_test(test_write_error_is_eio),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_null_opts_is_full_text),
      cmocka_unit_test(test_usable_and_jemalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
