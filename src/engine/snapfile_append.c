/* snapfile_append.c - add one extra section to an existing snapshot file, rewriting it whole and atomically. */
#include "snapfile.h"

#include <string.h>

#include "arena.h"
#include "crc32.h"
#include "le_bytes.h"

int ll__snapfile_append(const char *path, uint32_t type, const void *data, size_t len) {
  ll__snapfile_t *f = NULL;
  unsigned char *img = NULL;
  size_t old, total = 0;
  int rc;

  if (path == NULL || type < LL__SEC_EXTRA_MIN || (len > 0 && data == NULL)) return LL_EINVAL;
  /* Opening verifies the whole file: a damaged capture is reported, never extended. */
  if ((rc = ll__snapfile_open(path, &f)) != 0) return rc;
  const unsigned char *src = ll__snapfile_image(f, &old);
  size_t pad = (8 - (len & 7)) & 7, body = old - LL__SNAPFILE_TRAILER;
  total = body + LL__SNAPFILE_SECHDR + len + pad + LL__SNAPFILE_TRAILER;
  if ((img = ll__mmap_alloc(total)) == NULL) {
    rc = LL_ENOMEM;
    goto cleanup;
  }
  /* The old sections end 8-aligned where the trailer began: the new one follows them. */
  memcpy(img, src, body);
  ll__put_u64(img + 16, total);
  unsigned char *p = img + body;
  ll__put_u32(p, type);
  ll__put_u32(p + 4, 0);
  ll__put_u64(p + 8, len);
  if (len > 0) memcpy(p + LL__SNAPFILE_SECHDR, data, len);
  memset(p + LL__SNAPFILE_SECHDR + len, 0, pad);
  p += LL__SNAPFILE_SECHDR + len + pad;
  ll__put_u64(p, total);
  ll__put_u32(p + 8, ll__crc32(0, img, (size_t)(p + 8 - img)));
  memcpy(p + 12, LL__SNAPFILE_END, 4);
  rc = ll__snapfile_write_image(path, img, total);
cleanup:
  if (img != NULL) ll__mmap_free(img, total);
  ll__snapfile_close(f);
  return rc;
}
