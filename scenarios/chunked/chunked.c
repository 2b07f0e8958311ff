/* chunked.c - the Basel sum with NumPy-style whole arrays, with chunks, and streamed. */
#include "chunked.h"

#include <stdio.h>
#include <stdlib.h>

const char *const ck_variant_names[CK_VARIANT_COUNT] = {
  [CK_FULL] = "full",
  [CK_CHUNKED] = "chunked",
  [CK_STREAMING] = "streaming",
};

static _Noreturn void out_of_memory(void)
{
  fputs("chunked: out of memory\n", stderr);
  exit(3);
}

/* The vectorised steps, each one pass over an array, as numpy's ufuncs are. */
static void fill_indices(double *out, size_t len, size_t first)
{
  for (size_t i = 0; i < len; i++)
    out[i] = (double)(first + i);
}

static void square(double *out, const double *in, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[i] = in[i] * in[i];
}

static void invert(double *out, const double *in, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[i] = 1.0 / in[i];
}

/* Adds the array from its last element to its first: with increasing indices, smallest first. */
static double add_backwards(double sum, const double *in, size_t len)
{
  for (size_t i = len; i-- > 0;)
    sum += in[i];
  return sum;
}

/* As `np.sum(1.0 / np.square(np.arange(1, n + 1)))` with every step kept in a variable:
 * three arrays of n doubles live at once, all freed only after the sum. */
static double basel_full(size_t n)
{
  /* One malloc per line, so that each array has a line of its own in the report. */
  double *indices = malloc(n * sizeof *indices); /* FULL INDICES: 1, 2, ..., n */
  if (!indices)
    out_of_memory();
  fill_indices(indices, n, 1);
  double *squares = malloc(n * sizeof *squares); /* FULL SQUARES: k * k */
  if (!squares)
    out_of_memory();
  square(squares, indices, n);
  double *inverses = malloc(n * sizeof *inverses); /* FULL INVERSES: 1 / (k * k) */
  if (!inverses)
    out_of_memory();
  invert(inverses, squares, n);
  double sum = add_backwards(0.0, inverses, n);
  free(inverses);
  free(squares);
  free(indices);
  return sum;
}

/* The same steps on chunks of at most `chunk` terms, in one buffer reused by every step of
 * every chunk. Chunks go from the top (k = n) down, so the order of additions is unchanged. */
static double basel_chunked(size_t n, size_t chunk)
{
  double *buffer = malloc((chunk < n ? chunk : n) * sizeof *buffer); /* CHUNK BUFFER: once */
  if (!buffer)
    out_of_memory();
  double sum = 0.0;
  for (size_t hi = n; hi > 0;) {
    size_t len = hi < chunk ? hi : chunk;
    size_t lo = hi - len + 1;
    fill_indices(buffer, len, lo);
    square(buffer, buffer, len);
    invert(buffer, buffer, len);
    sum = add_backwards(sum, buffer, len);
    hi = lo - 1;
  }
  free(buffer);
  return sum;
}

/* No arrays: each term is computed where it is added, the generator-expression way. */
static double basel_streaming(size_t n)
{
  double sum = 0.0;
  for (size_t k = n; k > 0; k--) {
    double x = (double)k;
    sum += 1.0 / (x * x);
  }
  return sum;
}

double ck_basel(enum ck_variant v, size_t n, size_t chunk)
{
  switch (v) {
  case CK_FULL:
    return basel_full(n);
  case CK_CHUNKED:
    return basel_chunked(n, chunk);
  case CK_STREAMING:
  default:
    return basel_streaming(n);
  }
}

size_t ck_working_bytes(enum ck_variant v, size_t n, size_t chunk)
{
  switch (v) {
  case CK_FULL:
    return 3 * n * sizeof(double);
  case CK_CHUNKED:
    return (chunk < n ? chunk : n) * sizeof(double);
  case CK_STREAMING:
  default:
    return 0;
  }
}
