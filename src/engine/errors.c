/* errors.c - error codes (errno mapping, names, messages) and the names of moments (ll_at_t) and groupings (ll_group_t). */
#include <errno.h>
#include <string.h>

#include <leaklab/leaklab.h>

#include "errors.h"

/* The table's system codes are the negated errno values: LL__ERR needs no table of its own. */
_Static_assert(LL_ENOENT == -ENOENT && LL_EIO == -EIO && LL_ENOMEM == -ENOMEM &&
                   LL_EACCES == -EACCES && LL_EINVAL == -EINVAL,
               "LL_ERRNO_MAP's system codes must be the negated errno values");

int ll__err_from_errno(int e) { return e > 0 ? -e : LL_EIO; }

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
  static const char *const names[LL_AT__COUNT] = {"current", "peak", "end", "leaks", "temporary",
                                                   "allocations", "lost", "reachable"};
  return (unsigned)at < LL_AT__COUNT ? names[at] : "unknown";
}

const char *ll_group_name(ll_group_t g) {
  static const char *const names[] = {"lineno", "filename", "traceback"};
  return (unsigned)g < sizeof names / sizeof names[0] ? names[g] : "unknown";
}
