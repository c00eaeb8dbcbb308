// IPv4, TCP and UDP checksums over whole Ethernet frames, in native code: the
// device verifies what arrives and fills in what leaves, so the TypeScript
// stack can skip both (the device reports them as offloads).
#pragma once

#include <cstdint>

namespace catpowder {

enum class ChecksumVerdict { kGood, kBad, kNotChecked };

// Verifies the IPv4 header checksum and, for unfragmented TCP and UDP, the
// transport checksum. kBad for a malformed or corrupt IPv4 frame; kNotChecked
// for anything that is not IPv4 (ARP, IPv6) and ICMP's own checksum.
ChecksumVerdict VerifyChecksums(const uint8_t* frame, uint32_t len);

// Computes and writes the IPv4 header checksum and, for unfragmented TCP and
// UDP, the transport checksum. Leaves frames it cannot parse untouched. Also
// completes frames that arrive with a partial (pseudo-header only) checksum.
void FillChecksums(uint8_t* frame, uint32_t len);

}  // namespace catpowder
