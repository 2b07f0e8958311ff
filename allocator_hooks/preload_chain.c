/* preload_chain.c - the process's exec chain: earlier images from the environment, this one's summary, the PROCESS section. */
#include "preload_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_write.h"
#include "engine.h"

#define MAX_STAGES 16
#define PROG_MAX 256

typedef struct stage {
  uint32_t pid;
  uint64_t peak, end, allocs, bytes;
  char program[PROG_MAX + 1];
} stage_t;

static stage_t g_stages[MAX_STAGES]; /* earlier images, oldest first */
static size_t g_nstage;
static char g_program[1024];
static unsigned char g_section[40 + (MAX_STAGES + 1) * (40 + PROG_MAX + 8)];
static ll_cap_stage_t g_cap_stages[MAX_STAGES + 1]; /* the section's stages, for the writer */

void ll__pl_chain_set_program(const char *program) {
  size_t n = strlen(program);
  if (n >= sizeof g_program) n = sizeof g_program - 1;
  memcpy(g_program, program, n);
  g_program[n] = '\0';
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Environment value: "PID|" then per stage "pid,peak,end,allocs,bytes,HEXPROGRAM;". Hex keeps
 * any byte of a command line out of the separators' way. */
void ll__pl_chain_load(const char *v, long pid) {
  char *end;
  g_nstage = 0;
  if (v == NULL) return;
  if (strtol(v, &end, 10) != pid || *end != '|') return; /* another process's chain */
  const char *p = end + 1;
  while (*p != '\0') {
    stage_t st;
    unsigned long long f[5];
    for (int i = 0; i < 5; i++) {
      f[i] = strtoull(p, &end, 10);
      if (end == p || *end != ',') return;
      p = end + 1;
    }
    size_t n = 0;
    while (p[0] != ';' && p[0] != '\0' && p[1] != '\0') {
      int hi = hexval(p[0]), lo = hexval(p[1]);
      if (hi < 0 || lo < 0) return;
      if (n < PROG_MAX) st.program[n++] = (char)(hi * 16 + lo);
      p += 2;
    }
    if (*p != ';') return;
    p++;
    st.program[n] = '\0';
    st.pid = (uint32_t)f[0];
    st.peak = f[1], st.end = f[2], st.allocs = f[3], st.bytes = f[4];
    if (g_nstage == MAX_STAGES) { /* keep the newest: drop the oldest */
      memmove(&g_stages[0], &g_stages[1], (MAX_STAGES - 1) * sizeof g_stages[0]);
      g_nstage--;
    }
    g_stages[g_nstage++] = st;
  }
}

static int append(char *buf, size_t len, size_t *at, const char *s) {
  size_t n = strlen(s);
  if (*at + n + 1 > len) return -1;
  memcpy(buf + *at, s, n + 1);
  *at += n;
  return 0;
}

static int append_stage(char *buf, size_t len, size_t *at, const stage_t *st) {
  char num[128];
  static const char hex[] = "0123456789abcdef";
  snprintf(num, sizeof num, "%u,%llu,%llu,%llu,%llu,", st->pid, (unsigned long long)st->peak,
           (unsigned long long)st->end, (unsigned long long)st->allocs,
           (unsigned long long)st->bytes);
  if (append(buf, len, at, num) != 0) return -1;
  for (const char *c = st->program; *c != '\0'; c++) {
    char h[3] = {hex[(unsigned char)*c >> 4], hex[(unsigned char)*c & 15], '\0'};
    if (append(buf, len, at, h) != 0) return -1;
  }
  return append(buf, len, at, ";");
}

/* This image: its pid and program, and its figures from the tracker when with_figures. */
static void current_stage(stage_t *st, int with_figures) {
  memset(st, 0, sizeof *st);
  st->pid = (uint32_t)getpid();
  if (with_figures) {
    size_t cur, peak;
    ll_counters_t c;
    ll_get_traced_memory(&cur, &peak);
    ll_get_counters(&c);
    st->peak = peak;
    st->end = cur;
    st->allocs = c.total_allocations;
    st->bytes = c.total_bytes;
  }
  size_t n = strlen(g_program);
  if (n > PROG_MAX) n = PROG_MAX;
  memcpy(st->program, g_program, n);
  st->program[n] = '\0';
}

int ll__pl_chain_encode_next(char *buf, size_t len, long pid) {
  size_t at = 0;
  char head[32];
  stage_t me;
  snprintf(head, sizeof head, "%ld|", pid);
  if (append(buf, len, &at, head) != 0) return -1;
  /* Keep the newest MAX_STAGES - 1 earlier stages plus this one. */
  size_t first = g_nstage >= MAX_STAGES ? g_nstage - (MAX_STAGES - 1) : 0;
  for (size_t i = first; i < g_nstage; i++)
    if (append_stage(buf, len, &at, &g_stages[i]) != 0) return -1;
  current_stage(&me, 1);
  if (append_stage(buf, len, &at, &me) != 0) return -1;
  return (int)at;
}

size_t ll__pl_chain_section(const ll_cap_process_t *facts, int partial, const void **data) {
  stage_t me;
  current_stage(&me, !partial);
  ll_cap_process_t p = *facts;
  p.nstage = g_nstage + 1;
  p.stages = g_cap_stages;
  for (size_t i = 0; i < p.nstage; i++) {
    const stage_t *st = i < g_nstage ? &g_stages[i] : &me;
    g_cap_stages[i] = (ll_cap_stage_t){st->pid, st->peak, st->end, st->allocs, st->bytes, st->program};
  }
  size_t need = ll_cap_process_size(&p);
  if (need > sizeof g_section) return 0;
  ll_cap_encode_process(g_section, &p);
  *data = g_section;
  return need;
}
