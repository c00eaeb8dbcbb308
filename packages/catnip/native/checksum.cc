#include "checksum.h"

#include <demi/ones_complement.h>

#include <cstring>

namespace catnip {

namespace {

using demi::Be16;
using demi::Fold;
using demi::Sum;

// Pseudo header (source, destination, zero+protocol, L4 length) in memory order.
uint64_t PseudoSum(const Ipv4View& ip) {
  uint32_t l4_len = ip.total_len - ip.header_len;
  uint8_t tail[4] = {0, ip.protocol, static_cast<uint8_t>(l4_len >> 8),
                     static_cast<uint8_t>(l4_len)};
  uint64_t sum = Sum(0, ip.header + 12, 8);
  return Sum(sum, tail, 4);
}

}  // namespace

uint32_t L4ChecksumOffset(const Ipv4View& ip) {
  uint32_t l4_len = ip.total_len - ip.header_len;
  if (ip.protocol == kProtoTcp && l4_len >= 20) return 16;
  if (ip.protocol == kProtoUdp && l4_len >= 8) return 6;
  return 0;
}

bool ParseIpv4(uint8_t* frame, uint32_t len, Ipv4View* ip, bool* ok) {
  *ok = false;
  if (len < kEthHeaderLen || Be16(frame + 12) != 0x0800) return false;
  uint8_t* h = frame + kEthHeaderLen;
  uint32_t avail = len - kEthHeaderLen;
  if (avail < 20 || (h[0] >> 4) != 4) return true;
  uint32_t ihl = (h[0] & 0x0fu) * 4u;
  uint32_t total = Be16(h + 2);
  if (ihl < 20 || total < ihl || total > avail) return true;
  ip->header = h;
  ip->header_len = ihl;
  ip->total_len = total;
  ip->protocol = h[9];
  ip->fragment = (Be16(h + 6) & 0x3fff) != 0;
  *ok = true;
  return true;
}

bool VerifyIpv4Header(const Ipv4View& ip) {
  return Fold(Sum(0, ip.header, ip.header_len)) == 0xffff;
}

bool VerifyL4(const Ipv4View& ip) {
  if (ip.fragment) return true;
  uint32_t off = L4ChecksumOffset(ip);
  if (off == 0) return true;
  const uint8_t* l4 = ip.header + ip.header_len;
  if (ip.protocol == kProtoUdp && l4[6] == 0 && l4[7] == 0) return true;  // no checksum sent
  uint64_t sum = Sum(PseudoSum(ip), l4, ip.total_len - ip.header_len);
  return Fold(sum) == 0xffff;
}

void FillIpv4Header(const Ipv4View& ip) {
  ip.header[10] = 0;
  ip.header[11] = 0;
  uint16_t c = static_cast<uint16_t>(~Fold(Sum(0, ip.header, ip.header_len)));
  std::memcpy(ip.header + 10, &c, 2);
}

void FillL4(const Ipv4View& ip) {
  if (ip.fragment) return;
  uint32_t off = L4ChecksumOffset(ip);
  if (off == 0) return;
  uint8_t* l4 = ip.header + ip.header_len;
  l4[off] = 0;
  l4[off + 1] = 0;
  uint16_t c = static_cast<uint16_t>(~Fold(Sum(PseudoSum(ip), l4, ip.total_len - ip.header_len)));
  if (c == 0 && ip.protocol == kProtoUdp) c = 0xffff;  // 0 would mean "no checksum"
  std::memcpy(l4 + off, &c, 2);
}

uint16_t PseudoHeaderSum(const Ipv4View& ip) { return Fold(PseudoSum(ip)); }

}  // namespace catnip
