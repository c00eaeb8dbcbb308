// IPv4, TCP and UDP checksums in software, for ports whose driver does not
// offer them (most virtual devices). Frames are Ethernet II without VLAN tags,
// as the stack sends them; anything else passes through untouched.
#pragma once

#include <cstdint>

namespace catnip {

constexpr uint32_t kEthHeaderLen = 14;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

// The IPv4 header of a frame, after checking it fits.
struct Ipv4View {
  uint8_t* header = nullptr;
  uint32_t header_len = 0;
  uint32_t total_len = 0;  // from the header, <= the bytes present
  uint8_t protocol = 0;
  bool fragment = false;  // MF set or a non-zero offset: L4 checksum spans other frames
};

// True if the frame carries IPv4 (ethertype 0x0800); `ok` says whether its
// header is well formed (and `ip` filled in).
bool ParseIpv4(uint8_t* frame, uint32_t len, Ipv4View* ip, bool* ok);

// Whether the IPv4 header checksum and, when `l4`, the TCP/UDP checksum hold.
// Non-IPv4 frames, fragments' L4 and UDP without checksum pass.
bool VerifyIpv4Header(const Ipv4View& ip);
bool VerifyL4(const Ipv4View& ip);

// Writes the IPv4 header checksum; writes the TCP/UDP checksum (not for fragments).
void FillIpv4Header(const Ipv4View& ip);
void FillL4(const Ipv4View& ip);

// Offset of the TCP/UDP checksum field from the L4 header, or 0 when the
// frame is neither (or too short to hold one).
uint32_t L4ChecksumOffset(const Ipv4View& ip);

// The folded, not inverted, pseudo-header sum that offloading drivers expect
// in the TCP/UDP checksum field (what rte_ipv4_phdr_cksum computes).
uint16_t PseudoHeaderSum(const Ipv4View& ip);

}  // namespace catnip
