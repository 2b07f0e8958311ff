/* slots_vs_dict.c - instances with an attribute dict, with __slots__, and as a plain struct. */
#include "slots_vs_dict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sv_variant_names[SV_VARIANT_COUNT] = {
  [SV_DICT] = "dict",
  [SV_SLOTS] = "slots",
  [SV_STRUCT] = "struct",
};

static _Noreturn void out_of_memory(void)
{
  fputs("slots_vs_dict: out of memory\n", stderr);
  exit(3);
}

/* ---- the pieces of the object model ----------------------------------------------------- */

/* An interned attribute name: one copy shared by every object, as Python interns names. */
struct sv_name {
  const char *text;
};

/* A type: its name and, for a __slots__ class, the names of its slots in layout order. */
struct sv_type {
  const char *name;
  size_t slot_count;
  const struct sv_name *slot_names[2];
};

static const struct sv_name name_a = {"_a"}, name_b = {"_b"};
static const struct sv_type int_type = {"int", 0, {NULL, NULL}};
static const struct sv_type nobj_type = {"NObj", 0, {NULL, NULL}};
static const struct sv_type sobj_type = {"SObj", 2, {&name_a, &name_b}};

/* A boxed integer, like a PyLong: every value is an object of its own on the heap. */
struct sv_box {
  long refcount;
  const struct sv_type *type;
  long value;
};

/* CPython's smallest dict: 8 index slots, of which two thirds may be used before it grows. */
#define SV_DICT_SLOTS 8
#define SV_DICT_USABLE (SV_DICT_SLOTS * 2 / 3)

struct sv_dict_entry {
  uint64_t hash;
  const struct sv_name *key;
  struct sv_box *value;
};

/* Open addressing, the way CPython splits it: a small index array pointing into a dense entry
 * array. Two attributes never fill it, so this model needs no growth. */
struct sv_dict {
  uint32_t used;
  uint32_t slots;
  int8_t index[SV_DICT_SLOTS]; /* entry number, or -1 for an empty slot */
  struct sv_dict_entry entries[SV_DICT_USABLE];
};

/* An instance of a class without __slots__: its attributes live in its own dict. */
struct sv_nobj {
  long refcount;
  const struct sv_type *type;
  struct sv_dict *dict;
};

/* An instance of a class with __slots__ = ('_a', '_b'): references stored inline. */
struct sv_sobj {
  long refcount;
  const struct sv_type *type;
  struct sv_box *slots[2];
};

/* No objects at all: the values themselves, inline. */
struct sv_plain {
  long a;
  long b;
};

/* ---- boxed integers ---------------------------------------------------------------------- */

static struct sv_box *box_new(long value)
{
  struct sv_box *box = malloc(sizeof *box); /* BOXED INT: one block per attribute value */
  if (!box)
    out_of_memory();
  *box = (struct sv_box){.refcount = 1, .type = &int_type, .value = value};
  return box;
}

static void box_release(struct sv_box *box)
{
  if (--box->refcount == 0)
    free(box);
}

/* ---- the attribute dict ------------------------------------------------------------------ */

static uint64_t name_hash(const struct sv_name *name)
{
  uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
  for (const char *c = name->text; *c; c++)
    h = (h ^ (unsigned char)*c) * 0x100000001b3u;
  return h;
}

static struct sv_dict *dict_new(void)
{
  struct sv_dict *d = malloc(sizeof *d); /* ATTRIBUTE DICT: one small table per instance */
  if (!d)
    out_of_memory();
  d->used = 0;
  d->slots = SV_DICT_SLOTS;
  memset(d->index, -1, sizeof d->index);
  return d;
}

/* The index slot holding name, or the empty slot where it would go (CPython's probe order). */
static size_t dict_probe(const struct sv_dict *d, const struct sv_name *name, uint64_t hash)
{
  size_t mask = d->slots - 1, i = hash & mask;
  uint64_t perturb = hash;
  for (;;) {
    int ix = d->index[i];
    if (ix < 0)
      return i;
    const struct sv_dict_entry *e = &d->entries[ix];
    if (e->key == name || (e->hash == hash && strcmp(e->key->text, name->text) == 0))
      return i;
    perturb >>= 5;
    i = (i * 5 + perturb + 1) & mask;
  }
}

/* d[name] = value; the dict takes over the caller's reference to value. */
static void dict_set(struct sv_dict *d, const struct sv_name *name, struct sv_box *value)
{
  uint64_t hash = name_hash(name);
  size_t i = dict_probe(d, name, hash);
  if (d->index[i] >= 0) {
    struct sv_dict_entry *e = &d->entries[d->index[i]];
    box_release(e->value);
    e->value = value;
    return;
  }
  if (d->used == SV_DICT_USABLE) {
    fputs("slots_vs_dict: attribute dict full (this model never grows it)\n", stderr);
    abort();
  }
  d->entries[d->used] = (struct sv_dict_entry){.hash = hash, .key = name, .value = value};
  d->index[i] = (int8_t)d->used++;
}

static const struct sv_box *dict_get(const struct sv_dict *d, const struct sv_name *name)
{
  size_t i = dict_probe(d, name, name_hash(name));
  return d->index[i] < 0 ? NULL : d->entries[d->index[i]].value;
}

static void dict_free(struct sv_dict *d)
{
  for (uint32_t i = 0; i < d->used; i++)
    box_release(d->entries[i].value);
  free(d);
}

/* ---- slots: the type says where each name lives ------------------------------------------ */

static size_t slot_index(const struct sv_type *type, const struct sv_name *name)
{
  for (size_t i = 0; i < type->slot_count; i++)
    if (type->slot_names[i] == name)
      return i;
  fprintf(stderr, "slots_vs_dict: '%s' object has no slot '%s'\n", type->name, name->text);
  abort();
}

/* ---- the three representations behind one interface ------------------------------------- */

void sv_layout_of(enum sv_variant v, struct sv_layout *out)
{
  *out = (struct sv_layout){0};
  switch (v) {
  case SV_DICT:
    out->header_bytes = sizeof(struct sv_nobj);
    out->dict_bytes = sizeof(struct sv_dict);
    out->box_bytes = sizeof(struct sv_box);
    out->boxes = 2;
    out->allocations = 2 + out->boxes;
    break;
  case SV_SLOTS:
    out->header_bytes = sizeof(struct sv_sobj);
    out->box_bytes = sizeof(struct sv_box);
    out->boxes = 2;
    out->allocations = 1 + out->boxes;
    break;
  case SV_STRUCT:
  default:
    out->header_bytes = sizeof(struct sv_plain);
    out->allocations = 1;
    break;
  }
  out->requested_bytes = out->header_bytes + out->dict_bytes + out->boxes * out->box_bytes;
}

void *sv_new_object(enum sv_variant v, long a, long b)
{
  switch (v) {
  case SV_DICT: {
    struct sv_nobj *o = malloc(sizeof *o); /* INSTANCE: the object header */
    if (!o)
      out_of_memory();
    *o = (struct sv_nobj){.refcount = 1, .type = &nobj_type, .dict = dict_new()};
    dict_set(o->dict, &name_a, box_new(a)); /* self._a = a */
    dict_set(o->dict, &name_b, box_new(b)); /* self._b = b */
    return o;
  }
  case SV_SLOTS: {
    struct sv_sobj *o = malloc(sizeof *o); /* INSTANCE: header with room for both slots */
    if (!o)
      out_of_memory();
    *o = (struct sv_sobj){.refcount = 1, .type = &sobj_type};
    o->slots[slot_index(o->type, &name_a)] = box_new(a); /* self._a = a */
    o->slots[slot_index(o->type, &name_b)] = box_new(b); /* self._b = b */
    return o;
  }
  case SV_STRUCT:
  default: {
    struct sv_plain *o = malloc(sizeof *o); /* STRUCT: both values inline, one block */
    if (!o)
      out_of_memory();
    *o = (struct sv_plain){.a = a, .b = b};
    return o;
  }
  }
}

static long get_attr(enum sv_variant v, const void *obj, const struct sv_name *name)
{
  switch (v) {
  case SV_DICT: {
    const struct sv_box *box = dict_get(((const struct sv_nobj *)obj)->dict, name);
    if (!box) {
      fprintf(stderr, "slots_vs_dict: object has no attribute '%s'\n", name->text);
      abort();
    }
    return box->value;
  }
  case SV_SLOTS: {
    const struct sv_sobj *o = obj;
    return o->slots[slot_index(o->type, name)]->value;
  }
  case SV_STRUCT:
  default: {
    const struct sv_plain *o = obj;
    return name == &name_a ? o->a : o->b;
  }
  }
}

long sv_get_a(enum sv_variant v, const void *obj)
{
  return get_attr(v, obj, &name_a);
}

long sv_get_b(enum sv_variant v, const void *obj)
{
  return get_attr(v, obj, &name_b);
}

void sv_free_object(enum sv_variant v, void *obj)
{
  switch (v) {
  case SV_DICT: {
    struct sv_nobj *o = obj;
    if (--o->refcount == 0) {
      dict_free(o->dict);
      free(o);
    }
    break;
  }
  case SV_SLOTS: {
    struct sv_sobj *o = obj;
    if (--o->refcount == 0) {
      for (size_t i = 0; i < o->type->slot_count; i++)
        box_release(o->slots[i]);
      free(o);
    }
    break;
  }
  case SV_STRUCT:
  default:
    free(obj);
    break;
  }
}

int64_t sv_run(enum sv_variant v, size_t n)
{
  void **objects = malloc(n * sizeof *objects); /* the list that keeps every object alive */
  if (!objects)
    out_of_memory();
  for (size_t i = 0; i < n; i++)
    objects[i] = sv_new_object(v, (long)i, 3 * (long)i + 1);

  int64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += sv_get_a(v, objects[i]) + sv_get_b(v, objects[i]);

  for (size_t i = 0; i < n; i++)
    sv_free_object(v, objects[i]);
  free(objects);
  return sum;
}
