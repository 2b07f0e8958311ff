/* run_hints.h - one line each when a recording shows the program was built without -g or without frame pointers. */
#ifndef LEAKLAB_CLI_RUN_HINTS_H
#define LEAKLAB_CLI_RUN_HINTS_H
/*
 * Contract: reads a symbolised snapshot (own-code frames, as `run` shows them) and prints at
 * most two lines on `out`, each naming the fix: every top frame without a line (no -g); no call
 * stack reaching main nor cut by --frames, with an unwinder that follows frame pointers (no
 * -fno-omit-frame-pointer). Nothing for a snapshot without frames.
 */
#include <stdint.h>
#include <stdio.h>

#include <leaklab/leaklab.h>

void ll__print_build_hints(FILE *out, const ll_snapshot_t *snap, const char *program,
                           const char *unwind, uint64_t frames);

#endif
