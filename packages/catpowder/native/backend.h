// What moves frames: an AF_PACKET ring or an AF_XDP socket. Each call handles a
// whole batch, copying between the kernel's memory and an arena of fixed-size
// slots that JS reads and writes as views.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "interface.h"

namespace catpowder {

struct Arena {
  uint8_t* data = nullptr;
  uint32_t* lens = nullptr;
  uint32_t slotSize = 0;
  uint32_t slots = 0;
};

struct DeviceStats {
  uint64_t rxFrames = 0;
  uint64_t rxBytes = 0;
  // Frames the device threw away: truncated, VLAN-tagged, bad checksum.
  uint64_t rxDropped = 0;
  uint64_t rxPartialChecksums = 0;
  uint64_t txFrames = 0;
  uint64_t txBytes = 0;
  uint64_t txDropped = 0;
  // Frames sent with a virtio-net GSO header (segmented by the kernel).
  uint64_t txOffloadFrames = 0;
  // Frames the kernel could not queue to us (ring full).
  uint64_t kernelDrops = 0;
  int lastTxErrno = 0;
};

struct BackendOptions {
  std::string mode;     // "af_packet" | "af_xdp"
  std::string xdpMode;  // "skb" | "native"
  uint32_t queue = 0;
  uint32_t ringFrames = 4096;
  bool promiscuous = false;
  uint32_t maxFrame = 1514;
  // AF_PACKET only: a virtio-net header on every frame (PACKET_VNET_HDR), so
  // TCP checksums are left to the kernel and frames up to tsoBytes + 14 go out
  // whole, for the kernel (or the veth peer) to segment.
  bool segmentationOffload = false;
  uint32_t tsoBytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The descriptor that becomes readable when frames wait.
  virtual int Fd() const = 0;
  // Copies up to rx.slots waiting frames into the arena; returns how many.
  virtual uint32_t Receive(const Arena& rx, bool verifyChecksums) = 0;
  // Sends frames 0..count-1 of the arena without ever waiting. Returns how
  // many leading frames it is done with (sent, or dropped as malformed); when
  // the kernel's queue is full that is fewer than count, and the caller keeps
  // the rest for its next call.
  virtual uint32_t Transmit(const Arena& tx, uint32_t count, bool fillChecksums) = 0;
  // Refreshes kernel-side counters in stats.
  virtual void UpdateStats() {}
  virtual const char* Mode() const = 0;

  DeviceStats stats;
};

std::unique_ptr<Backend> OpenPacketBackend(const InterfaceInfo& info,
                                           const BackendOptions& options);

// Empty when AF_XDP was built in and its libraries load here; otherwise why
// not, and how to get it. Loads libxdp and libbpf (once) to find out.
std::string XdpUnavailableReason();
std::unique_ptr<Backend> OpenXdpBackend(const InterfaceInfo& info, const BackendOptions& options);

}  // namespace catpowder
