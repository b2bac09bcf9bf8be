#pragma once
// UTF-8 well-formedness, shared by the JSON reader and writer. Internal to
// edge/item.

#include <cstddef>

namespace edgetable::item::internal {

// The length of the well-formed UTF-8 character at p[0..n) (n > 0, p[0] >=
// 0x80), or 0 when it is not one (overlong form, surrogate, above U+10FFFF,
// cut short): the bytes nlohmann's decoder rejects, as Unicode defines them.
inline size_t Utf8Length(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  }
  return len;
}

}  // namespace edgetable::item::internal
