/* slots_vs_dict.h - a C model of two-attribute Python objects: __dict__, __slots__, plain struct. */
#ifndef LL_SLOTS_VS_DICT_H
#define LL_SLOTS_VS_DICT_H

#include <stddef.h>
#include <stdint.h>

enum sv_variant {
  SV_DICT,   /* header + its own attribute dict + one boxed int per attribute */
  SV_SLOTS,  /* header with two inline slots + one boxed int per attribute */
  SV_STRUCT, /* a plain C struct, both values inline: one block */
  SV_VARIANT_COUNT
};

#define SV_DEFAULT_OBJECTS 1000000UL

extern const char *const sv_variant_names[SV_VARIANT_COUNT];

/* How one object of a variant is laid out, from the sizeof of its parts. */
struct sv_layout {
  size_t header_bytes;      /* the instance itself (for SV_STRUCT: the whole struct) */
  size_t dict_bytes;        /* its attribute dict, 0 when it has none */
  size_t box_bytes;         /* one boxed integer, 0 when values are inline */
  size_t boxes;             /* boxed integers per object */
  size_t allocations;       /* heap blocks per object */
  size_t requested_bytes;   /* bytes requested from malloc per object */
};

void sv_layout_of(enum sv_variant v, struct sv_layout *out);

/* One object with attributes _a and _b; the object's own representation is opaque. */
void *sv_new_object(enum sv_variant v, long a, long b);
long sv_get_a(enum sv_variant v, const void *obj);
long sv_get_b(enum sv_variant v, const void *obj);
void sv_free_object(enum sv_variant v, void *obj);

/* The lesson's workload: n objects (_a = i, _b = 3 * i + 1) kept alive in one array of
 * references, then _a + _b summed over all of them, then everything freed. Returns the sum. */
int64_t sv_run(enum sv_variant v, size_t n);

#endif
