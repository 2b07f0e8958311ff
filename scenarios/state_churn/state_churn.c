/* state_churn.c - finding a safe delay by copying the world, by mutating it, or by arithmetic. */
#include "state_churn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sc_variant_names[SC_VARIANT_COUNT] = {
  [SC_COPYING] = "copying",
  [SC_IN_PLACE] = "in_place",
  [SC_ARITHMETIC] = "arithmetic",
};

static _Noreturn void out_of_memory(void)
{
  fputs("state_churn: out of memory\n", stderr);
  exit(3);
}

/* ---- the firewall (the input) -------------------------------------------------------------- */

sc_firewall *sc_firewall_new(const struct sc_layer *layers, size_t count)
{
  sc_firewall *fw = malloc(sizeof *fw + count * sizeof fw->layers[0]); /* FIREWALL: the input */
  if (!fw)
    out_of_memory();
  fw->count = count;
  fw->depths = count ? layers[count - 1].depth + 1 : 0;
  if (count) /* an empty firewall may come with no array at all, and memcpy wants one */
    memcpy(fw->layers, layers, count * sizeof layers[0]);
  return fw;
}

/* The lesson's puzzle input, fixed like a puzzle's: 24 scanners placed so that each one
 * catches the packets the ones before it let through, which pushes the first safe delay into
 * the tens of thousands. */
static const struct sc_layer lesson_layers[SC_DEFAULT_LAYERS] = {
  {0, 4},   {3, 3},   {6, 3},   {9, 3},   {10, 8},  {12, 6},  {14, 6},  {16, 10},
  {20, 6},  {22, 12}, {26, 14}, {32, 5},  {36, 11}, {40, 10}, {44, 13}, {46, 8},
  {50, 8},  {54, 8},  {58, 8},  {62, 8},  {68, 9},  {70, 12}, {88, 14}, {96, 14},
};

sc_firewall *sc_firewall_lesson(size_t count)
{
  return sc_firewall_new(lesson_layers, count < SC_DEFAULT_LAYERS ? count : SC_DEFAULT_LAYERS);
}

void sc_firewall_free(sc_firewall *fw)
{
  free(fw);
}

int sc_at_top(const struct sc_layer *layer, uint64_t t)
{
  return t % (2 * ((uint64_t)layer->range - 1)) == 0;
}

/* ---- the simulated world: one heap object per scanner, as in the Python original ----------- */

struct scanner {
  uint32_t range;
  uint32_t position;
  int32_t direction; /* +1 going down, -1 coming back */
};

/* The world at one moment: like a dict {depth: Scanner}, slots for every depth, NULL where no
 * scanner stands. */
struct world {
  uint32_t depths;
  struct scanner *at[];
};

static struct scanner *scanner_new(const struct scanner *from)
{
  struct scanner *s = malloc(sizeof *s); /* SCANNER: one block per scanner per copy */
  if (!s)
    out_of_memory();
  *s = *from;
  return s;
}

static struct world *world_alloc(uint32_t depths)
{
  struct world *w = calloc(1, sizeof *w + depths * sizeof w->at[0]); /* WORLD: the "dict" */
  if (!w)
    out_of_memory();
  w->depths = depths;
  return w;
}

static struct world *world_new(const sc_firewall *fw)
{
  struct world *w = world_alloc(fw->depths);
  for (size_t i = 0; i < fw->count; i++)
    w->at[fw->layers[i].depth] =
      scanner_new(&(struct scanner){.range = fw->layers[i].range, .position = 0, .direction = 1});
  return w;
}

/* A deep copy: a new world and a new block for every scanner (Python's copy of the dict and of
 * each Scanner). */
static struct world *world_copy(const struct world *from)
{
  struct world *w = world_alloc(from->depths);
  for (uint32_t d = 0; d < from->depths; d++)
    if (from->at[d])
      w->at[d] = scanner_new(from->at[d]);
  return w;
}

/* Copies positions into an existing world of the same firewall: no allocation. */
static void world_assign(struct world *to, const struct world *from)
{
  for (uint32_t d = 0; d < from->depths; d++)
    if (from->at[d])
      *to->at[d] = *from->at[d];
}

/* Scanners freed newest first, then the world: so a world freed right after its copy was made
 * gives its last scanner back before anything else was allocated. */
static void world_free(struct world *w)
{
  for (uint32_t d = w->depths; d-- > 0;)
    free(w->at[d]);
  free(w);
}

/* Every scanner one step on, turning round at either end. */
static uint64_t world_advance(struct world *w)
{
  uint64_t moves = 0;
  for (uint32_t d = 0; d < w->depths; d++) {
    struct scanner *s = w->at[d];
    if (!s)
      continue;
    if (s->position == 0)
      s->direction = 1;
    else if (s->position == s->range - 1)
      s->direction = -1;
    s->position = (uint32_t)((int32_t)s->position + s->direction);
    moves++;
  }
  return moves;
}

static int caught_at(const struct world *w, uint32_t depth)
{
  return w->at[depth] && w->at[depth]->position == 0;
}

/* ---- the three searches ------------------------------------------------------------------- */

/* Immutable style: every step of the world is a fresh copy and the old one is dropped. */
static void find_copying(const sc_firewall *fw, uint64_t limit, struct sc_result *out)
{
  struct world *now = world_new(fw);
  for (uint64_t t = 0; t < limit; t++) {
    struct world *trial = world_copy(now); /* the packet's own view of the world */
    int caught = 0;
    for (uint32_t d = 0; d < fw->depths; d++) {
      if (caught_at(trial, d)) {
        caught = 1;
        break;
      }
      if (d + 1 < fw->depths) {
        struct world *next = world_copy(trial);
        out->scanner_moves += world_advance(next);
        world_free(trial);
        trial = next;
      }
    }
    world_free(trial);
    if (!caught) {
      out->found = 1;
      out->delay = t;
      break;
    }
    struct world *next = world_copy(now);
    out->scanner_moves += world_advance(next);
    world_free(now);
    now = next;
  }
  world_free(now);
}

/* Two worlds for the whole search: the one at time t, and a scratch one the packet walks. */
static void find_in_place(const sc_firewall *fw, uint64_t limit, struct sc_result *out)
{
  struct world *now = world_new(fw);
  struct world *trial = world_new(fw);
  for (uint64_t t = 0; t < limit; t++) {
    world_assign(trial, now);
    int caught = 0;
    for (uint32_t d = 0; d < fw->depths; d++) {
      if (caught_at(trial, d)) {
        caught = 1;
        break;
      }
      if (d + 1 < fw->depths)
        out->scanner_moves += world_advance(trial);
    }
    if (!caught) {
      out->found = 1;
      out->delay = t;
      break;
    }
    out->scanner_moves += world_advance(now);
  }
  world_free(trial);
  world_free(now);
}

/* A scanner of range r is at 0 exactly when the time is a multiple of 2 (r - 1). */
static void find_arithmetic(const sc_firewall *fw, uint64_t limit, struct sc_result *out)
{
  for (uint64_t t = 0; t < limit; t++) {
    int caught = 0;
    for (size_t i = 0; i < fw->count && !caught; i++)
      caught = sc_at_top(&fw->layers[i], t + fw->layers[i].depth);
    if (!caught) {
      out->found = 1;
      out->delay = t;
      return;
    }
  }
}

void sc_find_delay(enum sc_variant v, const sc_firewall *fw, uint64_t limit,
                   struct sc_result *out)
{
  *out = (struct sc_result){0};
  switch (v) {
  case SC_COPYING:
    find_copying(fw, limit, out);
    break;
  case SC_IN_PLACE:
    find_in_place(fw, limit, out);
    break;
  case SC_ARITHMETIC:
  default:
    find_arithmetic(fw, limit, out);
    break;
  }
}
