/* main.c - the `leaklab` command: global options, then dispatch to one verb from the table. */
#include "cli.h"

#include <string.h>

/* Every verb the command has, in the order `leaklab --help` lists them. */
static const ll__verb_t *const verbs[] = {
    &ll__verb_scenarios,
    &ll__verb_explain,
    &ll__verb_run,
    &ll__verb_check,
    &ll__verb_report,
    &ll__verb_diff,
    &ll__verb_massif,
    &ll__verb_memcheck,
};

#define NVERB (sizeof verbs / sizeof verbs[0])

static void print_help(FILE *out) {
  fputs("usage: leaklab VERB [ARGS...]\n"
        "       leaklab --help | --version\n"
        "\n"
        "leaklab - a memory-leak teaching harness: where memory goes, at the peak and at exit.\n"
        "\n"
        "verbs:\n",
        out);
  for (size_t i = 0; i < NVERB; i++) {
    fprintf(out, "  %s%s%s\n", verbs[i]->name, verbs[i]->synopsis[0] != '\0' ? " " : "",
            verbs[i]->synopsis);
    fprintf(out, "      %s\n", verbs[i]->summary);
  }
  fputs("\n"
        "'leaklab VERB --help' describes a verb and its options.\n"
        "exit status: 0 success, 1 a limit was exceeded, 2 usage error, 3 runtime failure.\n",
        out);
}

int main(int argc, char **argv) {
  if (argc < 2) return ll__usage_error(NULL, "no verb given");

  const char *first = argv[1];
  if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
    print_help(stdout);
    return fflush(stdout) == 0 ? LL__EXIT_OK : LL__EXIT_RUNTIME;
  }
  if (strcmp(first, "--version") == 0) {
    printf("leaklab %s\n", LL_VERSION_STRING);
    return fflush(stdout) == 0 ? LL__EXIT_OK : LL__EXIT_RUNTIME;
  }
  for (size_t i = 0; i < NVERB; i++)
    if (strcmp(first, verbs[i]->name) == 0) return verbs[i]->run(argc - 1, argv + 1);
  if (first[0] == '-') return ll__usage_error(NULL, "unknown option '%s'", first);
  return ll__usage_error(NULL, "unknown verb '%s'", first);
}
