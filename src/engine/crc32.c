/* crc32.c - table-driven CRC-32 (IEEE), slicing-by-8 so checksumming a large capture is cheap. */
#include "crc32.h"

#include <pthread.h>
#include <string.h>

#define LL__CRC_POLY 0xEDB88320u

/* tables[0] is the classic byte table; tables[k][b] is the CRC of byte b followed by k zero
 * bytes, which lets the loop fold 8 input bytes per step. */
static uint32_t tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t c = b;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ LL__CRC_POLY : c >> 1;
    tables[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; b++)
    for (int t = 1; t < 8; t++)
      tables[t][b] = (tables[t - 1][b] >> 8) ^ tables[0][tables[t - 1][b] & 0xFFu];
}

uint32_t ll__crc32(uint32_t crc, const void *data, size_t len) {
  pthread_once(&tables_once, tables_init);
  const unsigned char *p = data;
  uint32_t c = ~crc;
  while (len >= 8) {
    uint32_t lo, hi;
    /* memcpy keeps unaligned input legal; bytes are combined little-endian explicitly below. */
    unsigned char b[8];
    memcpy(b, p, 8);
    lo = c ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    c = tables[7][lo & 0xFFu] ^ tables[6][(lo >> 8) & 0xFFu] ^ tables[5][(lo >> 16) & 0xFFu] ^
        tables[4][lo >> 24] ^ tables[3][hi & 0xFFu] ^ tables[2][(hi >> 8) & 0xFFu] ^
        tables[1][(hi >> 16) & 0xFFu] ^ tables[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c = tables[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
  return ~c;
}
