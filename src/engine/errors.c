/* errors.c - names and messages of error codes, moments (ll_at_t) and groupings (ll_group_t). */
#include <string.h>

#include <leaklab/leaklab.h>

const char *ll_strerror(int err) {
  switch (err) {
#define LL__ERR_MSG(name, value, msg) \
  case value:                         \
    return msg;
    LL_ERRNO_MAP(LL__ERR_MSG)
#undef LL__ERR_MSG
  case 0:
    return "success";
  default:
    /* Codes outside the table are negated errno values from the system calls underneath. */
    return strerror(err < 0 ? -err : err);
  }
}

const char *ll_err_name(int err) {
  switch (err) {
#define LL__ERR_NAME(name, value, msg) \
  case value:                          \
    return "LL_" #name;
    LL_ERRNO_MAP(LL__ERR_NAME)
#undef LL__ERR_NAME
  default:
    return "LL_UNKNOWN";
  }
}

const char *ll_at_name(ll_at_t at) {
  static const char *const names[LL_AT__COUNT] = {"current", "peak", "end", "leaks", "temporary"};
  return (unsigned)at < LL_AT__COUNT ? names[at] : "unknown";
}

const char *ll_group_name(ll_group_t g) {
  static const char *const names[] = {"lineno", "filename", "traceback"};
  return (unsigned)g < sizeof names / sizeof names[0] ? names[g] : "unknown";
}
