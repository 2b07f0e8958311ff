/* symbolize_data.c - report-time names of the exit scan's roots: a global's symbol and source file, a stack frame's function. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <string.h>

/* The source file declaring the defined variable `name` (a CU-level variable, or a function's
 * static), from the module's DWARF; NULL when there is none. */
static const char *var_file(Dwfl_Module *m, const char *name) {
  Dwarf_Die *cu = NULL;
  Dwarf_Addr bias;
  while ((cu = dwfl_module_nextcu(m, cu, &bias)) != NULL) {
    Dwarf_Die d, in;
    if (dwarf_child(cu, &d) != 0) continue;
    do {
      int tag = dwarf_tag(&d);
      Dwarf_Die *v = NULL;
      if (tag == DW_TAG_variable) {
        v = &d;
      } else if (tag == DW_TAG_subprogram && dwarf_child(&d, &in) == 0) {
        do {
          const char *n = dwarf_diename(&in);
          if (dwarf_tag(&in) == DW_TAG_variable && n != NULL && strcmp(n, name) == 0 &&
              dwarf_hasattr(&in, DW_AT_location))
            return dwarf_decl_file(&in);
        } while (dwarf_siblingof(&in, &in) == 0);
      }
      const char *n = v != NULL ? dwarf_diename(v) : NULL;
      if (n != NULL && strcmp(n, name) == 0 && dwarf_hasattr(v, DW_AT_location))
        return dwarf_decl_file(v);
    } while (dwarf_siblingof(&d, &d) == 0);
  }
  return NULL;
}

static const char *base(const char *p) {
  const char *s = p != NULL ? strrchr(p, '/') : NULL;
  return s != NULL ? s + 1 : p;
}

int ll_symbolize_global(ll_symbolizer_t *s, uint64_t addr, char *buf, size_t len) {
  Dwfl *dw = ll__symbolizer_dwfl(s);
  Dwfl_Module *m = dw != NULL ? dwfl_addrmodule(dw, addr) : NULL;
  const char *mod = NULL;
  if (m == NULL) return snprintf(buf, len, "0x%llx", (unsigned long long)addr), 0;
  dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, &mod, NULL);
  GElf_Off off = 0;
  GElf_Sym sym;
  const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
  if (name == NULL) {
    snprintf(buf, len, "%s+0x%llx", mod != NULL ? base(mod) : "?", (unsigned long long)addr);
    return 0;
  }
  const char *file = var_file(m, name);
  char at[64] = "";
  if (off != 0) snprintf(at, sizeof at, "+%llu", (unsigned long long)off);
  snprintf(buf, len, "%s%s (%s)", name, at, file != NULL ? base(file) : mod != NULL ? base(mod) : "?");
  return 0;
}

int ll_symbolize_function(ll_symbolizer_t *s, uint64_t ip, char *buf, size_t len) {
  Dwfl *dw = ll__symbolizer_dwfl(s);
  Dwfl_Module *m = dw != NULL && ip != 0 ? dwfl_addrmodule(dw, ip - 1) : NULL;
  const char *name = m != NULL ? dwfl_module_addrname(m, ip - 1) : NULL;
  snprintf(buf, len, "%s", name != NULL ? name : "?");
  return name != NULL ? 0 : -1;
}
