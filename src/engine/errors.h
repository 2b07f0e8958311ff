/* errors.h - internal: LL__ERR(errno), the one way leaklab turns a failed system call's errno into an error code. */
#ifndef LEAKLAB_ERRORS_H
#define LEAKLAB_ERRORS_H
/*
 * Contract: as libuv's UV__ERR. Error codes are negative; LL_ERRNO_MAP's system ones
 * (LL_ENOENT, LL_EIO, LL_ENOMEM, LL_EACCES, LL_EINVAL) are the negated errno values, and any
 * other negated errno is a valid code too (ll_strerror gives strerror's text). A call that
 * failed without setting errno (0) maps to LL_EIO, never to success. Read errno right after the
 * failing call: LL__ERR(errno).
 */
#define LL__ERR(e) ll__err_from_errno(e)
int ll__err_from_errno(int e);

#endif
