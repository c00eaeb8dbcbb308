#include "checksum.h"

#include <demi/ones_complement.h>

#include <cstring>

namespace catpowder {

namespace {

constexpr uint32_t kEthHeader = 14;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

using demi::Be16;
using demi::Fold;
using demi::Sum;

struct Ipv4 {
  const uint8_t* header;
  uint32_t headerLen;
  uint32_t payloadLen;
  uint8_t protocol;
  bool fragment;
};

// Parses the IPv4 header after the Ethernet header; false if not IPv4 or malformed.
bool ParseIpv4(const uint8_t* frame, uint32_t len, Ipv4* ip, bool* isIpv4) {
  *isIpv4 = false;
  if (len < kEthHeader) return false;
  if (Be16(frame + 12) != 0x0800) return false;
  *isIpv4 = true;
  const uint8_t* h = frame + kEthHeader;
  uint32_t avail = len - kEthHeader;
  if (avail < 20 || (h[0] >> 4) != 4) return false;
  uint32_t ihl = (h[0] & 0x0f) * 4u;
  uint32_t total = Be16(h + 2);
  if (ihl < 20 || total < ihl || total > avail) return false;
  ip->header = h;
  ip->headerLen = ihl;
  ip->payloadLen = total - ihl;
  ip->protocol = h[9];
  ip->fragment = (Be16(h + 6) & 0x3fff) != 0;
  return true;
}

uint64_t PseudoHeader(const Ipv4& ip) {
  uint8_t pseudo[12];
  std::memcpy(pseudo, ip.header + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = ip.protocol;
  pseudo[10] = static_cast<uint8_t>(ip.payloadLen >> 8);
  pseudo[11] = static_cast<uint8_t>(ip.payloadLen);
  return Sum(0, pseudo, 12);
}

// Offset of the checksum field in the transport header, or 0 if none we handle.
uint32_t TransportChecksumOffset(const Ipv4& ip) {
  if (ip.fragment) return 0;
  if (ip.protocol == kTcp && ip.payloadLen >= 20) return 16;
  if (ip.protocol == kUdp && ip.payloadLen >= 8) return 6;
  return 0;
}

}  // namespace

ChecksumVerdict VerifyChecksums(const uint8_t* frame, uint32_t len) {
  Ipv4 ip;
  bool isIpv4;
  if (!ParseIpv4(frame, len, &ip, &isIpv4))
    return isIpv4 ? ChecksumVerdict::kBad : ChecksumVerdict::kNotChecked;
  if (Fold(Sum(0, ip.header, ip.headerLen)) != 0xffff) return ChecksumVerdict::kBad;
  uint32_t at = TransportChecksumOffset(ip);
  if (at == 0) {
    // A TCP or UDP datagram too short for its header is corrupt.
    if (!ip.fragment && (ip.protocol == kTcp || ip.protocol == kUdp)) return ChecksumVerdict::kBad;
    return ChecksumVerdict::kNotChecked;
  }
  const uint8_t* l4 = ip.header + ip.headerLen;
  if (ip.protocol == kUdp && l4[6] == 0 && l4[7] == 0)
    return ChecksumVerdict::kGood;  // sender sent none
  uint64_t sum = Sum(PseudoHeader(ip), l4, ip.payloadLen);
  return Fold(sum) == 0xffff ? ChecksumVerdict::kGood : ChecksumVerdict::kBad;
}

void FillChecksums(uint8_t* frame, uint32_t len) {
  Ipv4 ip;
  bool isIpv4;
  if (!ParseIpv4(frame, len, &ip, &isIpv4)) return;
  uint8_t* h = frame + kEthHeader;
  h[10] = h[11] = 0;
  uint16_t c = static_cast<uint16_t>(~Fold(Sum(0, h, ip.headerLen)));
  std::memcpy(h + 10, &c, 2);
  uint32_t at = TransportChecksumOffset(ip);
  if (at == 0) return;
  uint8_t* l4 = h + ip.headerLen;
  l4[at] = l4[at + 1] = 0;
  c = static_cast<uint16_t>(~Fold(Sum(PseudoHeader(ip), l4, ip.payloadLen)));
  if (c == 0 && ip.protocol == kUdp) c = 0xffff;  // 0 means "no checksum" in UDP
  std::memcpy(l4 + at, &c, 2);
}

}  // namespace catpowder
