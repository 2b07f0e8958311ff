/* run_hints.c - what a recording says about how the program was built: no -g (lines read PROG:0 (PROG+0xOFFSET)), no frame pointers (stacks cut short). */
#include "cli.h"
#include "run_hints.h"

#include <string.h>

/* A frame with no line: the symboliser found no DWARF line table for its code (no -g), so it
 * names the module, at line 0 (and the function, or MODULE+0xOFFSET when stripped). */
static int lacks_line(const ll_frame_t *f) {
  return f->lineno == 0 && strcmp(f->filename, "<unknown>") != 0;
}

void ll__print_build_hints(FILE *out, const ll_snapshot_t *snap, const char *program,
                           const char *unwind, uint64_t frames) {
  size_t with_frames = 0, no_line = 0, below_main = 0, whole = 0;
  for (size_t i = 0; i < snap->ntraces; i++) {
    const ll_traceback_t *tb = snap->traces[i].traceback;
    if (tb == NULL || tb->nframe == 0) continue;
    with_frames++;
    if (lacks_line(&tb->frames[0])) no_line++;
    /* Blocks main allocates itself say nothing of the walk. Past any other function, a walk
     * that went on (to main, a caller cut at --frames, a thread's entry point) followed the
     * frame pointers it needed. */
    if (strcmp(tb->frames[0].function, "main") == 0) continue;
    below_main++;
    whole += tb->nframe > 1;
  }
  if (with_frames == 0) return;
  if (no_line == with_frames)
    fprintf(out, "leaklab: %s has no line information (built without -g), so its lines read "
            "FILE:0 (FILE+0xOFFSET): rebuild it with -g\n", program);
  /* Frame pointers are what the default unwinder follows through the program's own code;
   * code built without them (-O2 leaves them out) ends each walk at the allocating function
   * (what lies past it is not the program's code, and is dropped). */
  if (below_main > 0 && whole == 0 && frames > 1 && strcmp(unwind, "libunwind") != 0)
    fprintf(out, "leaklab: the call stacks of %s stop at the allocating function (built "
            "without frame pointers?): rebuild it with -fno-omit-frame-pointer, or record with "
            "--unwind libunwind\n",
            program);
}
