// The Internet checksum's arithmetic (RFC 1071), shared by the addons that
// verify and fill IPv4/TCP/UDP checksums in software (catpowder, catnip).
#pragma once

#include <cstdint>
#include <cstring>

namespace demi {

// One's-complement sum of `n` bytes read in memory order; `p` starts at an even
// offset of the summed region. The folded result, stored as-is, is the
// checksum in network order on either endianness.
inline uint64_t Sum(uint64_t sum, const uint8_t* p, uint32_t n) {
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    sum += (w & 0xffffffffu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    sum += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    uint8_t pad[2] = {*p, 0};
    uint16_t w;
    std::memcpy(&w, pad, 2);
    sum += w;
  }
  return sum;
}

inline uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

}  // namespace demi
