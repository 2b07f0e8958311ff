/* gmp_dlopen.c - big integers from libgmp loaded with dlopen: library frames under the user's line. */
/*
 * GMP allocates the limbs itself (its functions call malloc): by default the report attributes
 * them to @gmp_mul, the user's line; with --native, GMP's own functions show first. Prints 200!
 * digit count so the run's output can be compared.
 */
#include <dlfcn.h>
#include <stdio.h>

typedef struct { int alloc, size; void *d; } mpz_t[1];

int main(void) {
  void *h = dlopen("libgmp.so.10", RTLD_NOW);
  if (h == NULL) {
    fprintf(stderr, "gmp_dlopen: %s\n", dlerror());
    return 2;
  }
  void (*init)(mpz_t) = (void (*)(mpz_t))dlsym(h, "__gmpz_init");
  void (*set_ui)(mpz_t, unsigned long) = (void (*)(mpz_t, unsigned long))dlsym(h, "__gmpz_set_ui");
  void (*mul_ui)(mpz_t, const mpz_t, unsigned long) =
      (void (*)(mpz_t, const mpz_t, unsigned long))dlsym(h, "__gmpz_mul_ui");
  size_t (*sizeinbase)(const mpz_t, int) = (size_t(*)(const mpz_t, int))dlsym(h, "__gmpz_sizeinbase");
  if (!init || !set_ui || !mul_ui || !sizeinbase) return 2;
  static mpz_t f[200];
  for (int i = 0; i < 200; i++) {
    init(f[i]);
    set_ui(f[i], 1);
    for (unsigned long k = 2; k <= (unsigned long)i + 2; k++) mul_ui(f[i], f[i], k); /* @gmp_mul */
  }
  printf("201! has %zu digits\n", sizeinbase(f[199], 10));
  return 0;
}
