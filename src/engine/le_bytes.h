/* le_bytes.h - little-endian fixed-width integers read from and written to byte buffers (file formats). */
#ifndef LEAKLAB_LE_BYTES_H
#define LEAKLAB_LE_BYTES_H
/*
 * Contract: pure functions on the caller's bytes, any alignment, any host byte order; the
 * caller checks bounds. Every leaklab file format (snapshot file, capture sections) is
 * little-endian and goes through these.
 */
#include <stdint.h>

static inline void ll__put_u16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static inline void ll__put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void ll__put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t ll__get_u16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t ll__get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ll__get_u64(const unsigned char *p) {
  return (uint64_t)ll__get_u32(p) | (uint64_t)ll__get_u32(p + 4) << 32;
}

#endif
