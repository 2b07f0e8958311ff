/* crc32.h - CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) for leaklab's file checksums. */
#ifndef LEAKLAB_CRC32_H
#define LEAKLAB_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* Chainable like zlib's crc32(): start with crc = 0, feed the result back for the next piece.
 * ll__crc32(0, "123456789", 9) == 0xCBF43926. No allocation; thread-safe. */
uint32_t ll__crc32(uint32_t crc, const void *data, size_t len);

#endif
