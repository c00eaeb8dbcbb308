// IPv4, TCP and UDP checksums over Ethernet II frames (no VLAN tag), for the
// addons that verify and fill them in software (catpowder always, catnip where
// the port offers no offload). One parsing rule for both: an unfragmented TCP
// segment shorter than its 20-byte header, or UDP datagram shorter than 8
// bytes, is malformed and fails verification.
#pragma once

#include <cstdint>
#include <cstring>

#include "ones_complement.h"

namespace demi {

constexpr uint32_t kEthHeaderLen = 14;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

// The IPv4 header of a frame, after checking it fits.
struct Ipv4View {
  uint8_t* header = nullptr;
  uint32_t header_len = 0;
  uint32_t total_len = 0;  // from the header, <= the bytes present
  uint8_t protocol = 0;
  bool fragment = false;  // MF set or a non-zero offset: the L4 checksum spans other frames
  uint32_t l4_len() const { return total_len - header_len; }
  uint8_t* l4() const { return header + header_len; }
};

// True if the frame carries IPv4 (ethertype 0x0800); `ok` says whether its
// header is well formed (and `ip` filled in).
inline bool ParseIpv4(uint8_t* frame, uint32_t len, Ipv4View* ip, bool* ok) {
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

// Offset of the TCP/UDP checksum field in the L4 header; 0 for fragments,
// other protocols, and segments too short to hold their header.
inline uint32_t L4ChecksumOffset(const Ipv4View& ip) {
  if (ip.fragment) return 0;
  if (ip.protocol == kProtoTcp && ip.l4_len() >= 20) return 16;
  if (ip.protocol == kProtoUdp && ip.l4_len() >= 8) return 6;
  return 0;
}

// An unfragmented TCP or UDP packet too short for its own header.
inline bool L4Truncated(const Ipv4View& ip) {
  return !ip.fragment && (ip.protocol == kProtoTcp || ip.protocol == kProtoUdp) &&
         L4ChecksumOffset(ip) == 0;
}

// Pseudo header (source, destination, zero+protocol, L4 length) in memory order.
inline uint64_t PseudoSum(const Ipv4View& ip) {
  uint32_t l4_len = ip.l4_len();
  uint8_t tail[4] = {0, ip.protocol, static_cast<uint8_t>(l4_len >> 8),
                     static_cast<uint8_t>(l4_len)};
  return Sum(Sum(0, ip.header + 12, 8), tail, 4);
}

// The folded, not inverted, pseudo-header sum that offloading drivers expect
// in the TCP/UDP checksum field (what rte_ipv4_phdr_cksum computes).
inline uint16_t PseudoHeaderSum(const Ipv4View& ip) { return Fold(PseudoSum(ip)); }

inline bool VerifyIpv4Header(const Ipv4View& ip) {
  return Fold(Sum(0, ip.header, ip.header_len)) == 0xffff;
}

// Whether the TCP/UDP checksum holds. Fragments, other protocols and UDP sent
// without a checksum pass; a truncated TCP/UDP header fails.
inline bool VerifyL4(const Ipv4View& ip) {
  if (L4Truncated(ip)) return false;
  if (L4ChecksumOffset(ip) == 0) return true;
  const uint8_t* l4 = ip.l4();
  if (ip.protocol == kProtoUdp && l4[6] == 0 && l4[7] == 0) return true;  // none sent
  return Fold(Sum(PseudoSum(ip), l4, ip.l4_len())) == 0xffff;
}

inline void FillIpv4Header(const Ipv4View& ip) {
  ip.header[10] = 0;
  ip.header[11] = 0;
  uint16_t c = static_cast<uint16_t>(~Fold(Sum(0, ip.header, ip.header_len)));
  std::memcpy(ip.header + 10, &c, 2);
}

// Writes the TCP/UDP checksum (not for fragments or truncated headers).
inline void FillL4(const Ipv4View& ip) {
  uint32_t off = L4ChecksumOffset(ip);
  if (off == 0) return;
  uint8_t* l4 = ip.l4();
  l4[off] = 0;
  l4[off + 1] = 0;
  uint16_t c = static_cast<uint16_t>(~Fold(Sum(PseudoSum(ip), l4, ip.l4_len())));
  if (c == 0 && ip.protocol == kProtoUdp) c = 0xffff;  // 0 would mean "no checksum"
  std::memcpy(l4 + off, &c, 2);
}

enum class ChecksumVerdict { kGood, kBad, kNotChecked };

// Whole-frame verification: kBad for a malformed or corrupt IPv4 packet;
// kNotChecked for anything that is not IPv4 (ARP, IPv6) and for ICMP.
inline ChecksumVerdict VerifyFrame(uint8_t* frame, uint32_t len) {
  Ipv4View ip;
  bool ok = false;
  if (!ParseIpv4(frame, len, &ip, &ok)) return ChecksumVerdict::kNotChecked;
  if (!ok || !VerifyIpv4Header(ip) || !VerifyL4(ip)) return ChecksumVerdict::kBad;
  return L4ChecksumOffset(ip) == 0 ? ChecksumVerdict::kNotChecked : ChecksumVerdict::kGood;
}

// Whole-frame fill: the IPv4 header checksum and the TCP/UDP one. Frames it
// cannot parse are left untouched.
inline void FillFrame(uint8_t* frame, uint32_t len) {
  Ipv4View ip;
  bool ok = false;
  if (!ParseIpv4(frame, len, &ip, &ok) || !ok) return;
  FillIpv4Header(ip);
  FillL4(ip);
}

}  // namespace demi
