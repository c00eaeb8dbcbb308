// AF_PACKET: a memory-mapped TPACKET_V2 receive ring and sendmmsg for sending.
//
// V2, not V3: V3 hands frames over a block at a time and holds a block until it
// fills or its timeout (>= 1 ms) expires, which turns a ~7 us round trip into
// ~1 ms. V2 releases every frame as soon as the kernel writes it.
//
// With segmentation offload (PACKET_VNET_HDR) every frame crosses with a
// struct virtio_net_hdr in front: sent TCP segments carry NEEDS_CSUM (the
// kernel, or the veth peer that trusts a local sender, finishes the checksum)
// and, when larger than the MTU, GSO TCPV4 with gso_size = MTU - headers, so
// one 64 KB frame replaces ~45 and crosses the veth as one GSO packet.
//
// Sending copies through sendmmsg rather than a TX ring: a TX ring slot stays
// busy until the skb built from it is freed, which on a veth can be whenever
// the peer's socket reads it; sendmmsg's copy keeps the arena free at once and
// still costs one system call per batch.
#include <arpa/inet.h>
#include <demi/error.h>
#include <demi/ipv4_checksum.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "backend.h"

namespace catpowder {

namespace {

// Bytes of each ring frame before the Ethernet header (TPACKET2 header, the
// sockaddr_ll, alignment): the kernel places the MAC header at 66 for V2.
constexpr uint32_t kRingHeadroom = 80;

// struct virtio_net_hdr of <linux/virtio_net.h> (that header does not compile
// as C++): fields in host byte order, as PACKET_VNET_HDR uses them.
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10, "virtio_net_hdr is 10 bytes");
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;

uint32_t RoundUpPow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

std::string PermissionHint() {
  return "needs CAP_NET_RAW: run as root or `sudo setcap cap_net_raw+ep $(readlink -f $(which "
         "node))`";
}

class PacketBackend final : public Backend {
 public:
  PacketBackend(const InterfaceInfo& info, const BackendOptions& options) : info_(info) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 0);  // protocol 0: nothing arrives before bind
    if (fd_ < 0) {
      int err = errno;
      if (err == EPERM || err == EACCES)
        throw demi::Error(EPERM, "socket", "AF_PACKET socket refused: " + PermissionHint());
      throw demi::Error(err, "socket", "cannot open an AF_PACKET socket: " + demi::ErrnoText(err));
    }
    try {
      Setup(options);
    } catch (...) {
      Release();
      throw;
    }
  }

  ~PacketBackend() override { Release(); }

  int Fd() const override { return fd_; }
  const char* Mode() const override { return "af_packet"; }

  uint32_t Receive(const Arena& rx, bool verify) override {
    uint32_t n = 0;
    while (n < rx.slots) {
      auto* hdr = reinterpret_cast<tpacket2_hdr*>(ring_ + static_cast<size_t>(next_) * frameSize_);
      uint32_t status = __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE);
      if ((status & TP_STATUS_USER) == 0) break;
      if (Accept(hdr, status, rx, n, verify)) n++;
      __atomic_store_n(&hdr->tp_status, static_cast<uint32_t>(TP_STATUS_KERNEL), __ATOMIC_RELEASE);
      next_ = next_ + 1 == frameCount_ ? 0 : next_ + 1;
    }
    return n;
  }

  bool Sendable(const Arena& tx, uint32_t len) const {
    return len >= 14 && len <= tx.slotSize && len <= maxSend_;
  }

  // Fills the virtio-net header of one frame (and the checksums left to us).
  // False for a frame that cannot go: above the MTU but no IPv4/TCP segment.
  bool PrepareOffload(uint8_t* frame, uint32_t len, bool fill, virtio_net_hdr* h) {
    std::memset(h, 0, sizeof *h);
    demi::Ipv4View ip;
    bool ok = false;
    bool large = len > mtuFrame_;
    bool ipv4 = demi::ParseIpv4(frame, len, &ip, &ok) && ok;
    bool tcp = ipv4 && demi::L4ChecksumOffset(ip) == 16;
    if (!tcp || !fill) {
      if (large) return false;
      if (fill) demi::FillFrame(frame, len);
      return true;
    }
    uint8_t* th = ip.l4();
    uint32_t thl = (th[12] >> 4) * 4u;
    if (thl < 20 || thl > ip.l4_len()) {
      if (large) return false;
      demi::FillFrame(frame, len);
      return true;
    }
    demi::FillIpv4Header(ip);
    uint16_t pseudo = demi::PseudoHeaderSum(ip);
    std::memcpy(th + 16, &pseudo, 2);  // PseudoHeaderSum is in memory order already
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = static_cast<uint16_t>(demi::kEthHeaderLen + ip.header_len);
    h->csum_offset = 16;
    uint32_t payload = ip.l4_len() - thl;
    uint32_t step = info_.mtu - ip.header_len - thl;
    if (large || payload > step) {
      h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
      h->gso_size = static_cast<uint16_t>(step);
      h->hdr_len = static_cast<uint16_t>(demi::kEthHeaderLen + ip.header_len + thl);
    }
    return true;
  }

  uint32_t Transmit(const Arena& tx, uint32_t count, bool fill) override {
    if (count > tx.slots) count = tx.slots;
    if (msgs_.size() < count) {
      msgs_.resize(count);
      iovs_.resize(2 * static_cast<size_t>(count));
      vnets_.resize(count);
      slotOf_.resize(count);
    }
    uint32_t queued = 0;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t len = tx.lens[i];
      if (!Sendable(tx, len)) continue;  // dropped (and counted) below
      uint8_t* frame = tx.data + static_cast<size_t>(i) * tx.slotSize;
      std::memset(&msgs_[queued], 0, sizeof(mmsghdr));
      if (vnet_) {
        virtio_net_hdr& h = vnets_[queued];
        if (!PrepareOffload(frame, len, fill, &h)) continue;  // dropped (and counted) below
        iovs_[2 * queued] = {&h, sizeof h};
        iovs_[2 * queued + 1] = {frame, len};
        msgs_[queued].msg_hdr.msg_iov = &iovs_[2 * queued];
        msgs_[queued].msg_hdr.msg_iovlen = 2;
      } else {
        if (fill) demi::FillFrame(frame, len);
        iovs_[2 * queued] = {frame, len};
        msgs_[queued].msg_hdr.msg_iov = &iovs_[2 * queued];
        msgs_[queued].msg_hdr.msg_iovlen = 1;
      }
      slotOf_[queued] = i;
      queued++;
    }
    uint32_t at = 0;
    uint32_t sent = 0;
    uint32_t handled = count;
    while (at < queued) {
      int r = sendmmsg(fd_, msgs_.data() + at, queued - at, MSG_DONTWAIT);
      if (r > 0) {
        for (int i = 0; i < r; i++) {
          const auto& m = msgs_[at + i].msg_hdr;
          stats.txBytes += m.msg_iov[m.msg_iovlen - 1].iov_len;
          if (vnet_ && vnets_[at + i].gso_type != VIRTIO_NET_HDR_GSO_NONE) stats.txOffloadFrames++;
        }
        at += static_cast<uint32_t>(r);
        sent += static_cast<uint32_t>(r);
        continue;
      }
      int err = errno;
      if (err == EINTR) continue;
      stats.lastTxErrno = err;
      if (err == EAGAIN || err == ENOBUFS) {
        // The device queue is full: the caller keeps this frame and the ones
        // after it and tries again on its next flush. Never wait here.
        handled = slotOf_[at];
        break;
      }
      stats.txDropped++;  // this frame was refused (EMSGSIZE, ENETDOWN...); go on with the rest
      at++;
    }
    // Frames never queued (a bad size, or a large frame that is no TCP segment) count as dropped.
    uint32_t queuedBefore = 0;
    while (queuedBefore < queued && slotOf_[queuedBefore] < handled) queuedBefore++;
    stats.txDropped += handled - queuedBefore;
    stats.txFrames += sent;
    return handled;
  }

  void UpdateStats() override {
    tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
      stats.kernelDrops += st.tp_drops;
  }

 private:
  void Setup(const BackendOptions& options) {
    int version = TPACKET_V2;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
      int err = errno;
      throw demi::Error(err, "setsockopt",
                        "PACKET_VERSION TPACKET_V2 refused: " + demi::ErrnoText(err));
    }
    // Frames we send must not come back to us as "outgoing" copies (4.20+).
    int one = 1;
    if (options.segmentationOffload) {
      // Before the ring: the kernel lays ring frames out with room for the header.
      if (setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) {
        int err = errno;
        throw demi::Error(
            err, "setsockopt",
            "PACKET_VNET_HDR (segmentation offload) refused: " + demi::ErrnoText(err));
      }
      vnet_ = true;
    }
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    // Straight to the driver: no qdisc between the stack and the wire.
    setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

    maxFrame_ = options.maxFrame;
    mtuFrame_ = info_.mtu + 14 + 4;  // one VLAN tag of slack; the kernel checks the rest
    maxSend_ = vnet_ && options.tsoBytes + 14 > mtuFrame_ ? options.tsoBytes + 14 : mtuFrame_;
    frameSize_ = RoundUpPow2(kRingHeadroom + sizeof(virtio_net_hdr) + maxFrame_ + 4);
    if (frameSize_ < 2048) frameSize_ = 2048;
    uint32_t blockSize = frameSize_ < 65536 ? 65536 : frameSize_;
    uint32_t perBlock = blockSize / frameSize_;
    uint32_t frames = options.ringFrames < perBlock ? perBlock : options.ringFrames;
    uint32_t blocks = (frames + perBlock - 1) / perBlock;
    frameCount_ = blocks * perBlock;

    tpacket_req req;
    std::memset(&req, 0, sizeof req);
    req.tp_block_size = blockSize;
    req.tp_block_nr = blocks;
    req.tp_frame_size = frameSize_;
    req.tp_frame_nr = frameCount_;
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
      int err = errno;
      throw demi::Error(err, "setsockopt",
                        "cannot create the PACKET_RX_RING (" + std::to_string(frameCount_) +
                            " frames of " + std::to_string(frameSize_) +
                            " bytes): " + demi::ErrnoText(err));
    }
    ringSize_ = static_cast<size_t>(blockSize) * blocks;
    void* ring = mmap(nullptr, ringSize_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (ring == MAP_FAILED) {
      int err = errno;
      ringSize_ = 0;
      throw demi::Error(err, "mmap", "cannot map the receive ring: " + demi::ErrnoText(err));
    }
    ring_ = static_cast<uint8_t*>(ring);

    sockaddr_ll addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = info_.index;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      throw demi::Error(err == ENODEV ? ENODEV : err, "bind",
                        "cannot bind to " + info_.name + ": " + demi::ErrnoText(err));
    }
    if (options.promiscuous) {
      packet_mreq mreq;
      std::memset(&mreq, 0, sizeof mreq);
      mreq.mr_ifindex = info_.index;
      mreq.mr_type = PACKET_MR_PROMISC;
      if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
        int err = errno;
        throw demi::Error(err, "setsockopt",
                          "cannot make " + info_.name + " promiscuous: " + demi::ErrnoText(err));
      }
    }
    UpdateStats();  // zero the kernel counters
    stats.kernelDrops = 0;
  }

  // Copies one ring frame into slot n of the arena; false if dropped.
  bool Accept(const tpacket2_hdr* hdr, uint32_t status, const Arena& rx, uint32_t n, bool verify) {
    const auto* ll = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<const uint8_t*>(hdr) +
                                                          TPACKET_ALIGN(sizeof(tpacket2_hdr)));
    if (ll->sll_pkttype == PACKET_OUTGOING) return false;
    uint32_t len = hdr->tp_snaplen;
    if (len != hdr->tp_len || len > rx.slotSize || len > maxFrame_ + 4 || len < 14 ||
        hdr->tp_mac + static_cast<size_t>(len) > frameSize_) {
      stats.rxDropped++;  // truncated or oversized (e.g. a TSO super-frame from a peer with
                          // offloads on)
      return false;
    }
    if ((status & TP_STATUS_VLAN_VALID) != 0 && (hdr->tp_vlan_tci & 0x0fff) != 0) {
      stats.rxDropped++;  // tagged for a VLAN this device does not speak
      return false;
    }
    uint8_t* slot = rx.data + static_cast<size_t>(n) * rx.slotSize;
    std::memcpy(slot, reinterpret_cast<const uint8_t*>(hdr) + hdr->tp_mac, len);
    if ((status & TP_STATUS_CSUMNOTREADY) != 0) {
      // A local sender left the checksum to "hardware" that never ran: finish it.
      demi::FillFrame(slot, len);
      stats.rxPartialChecksums++;
    } else if (verify && (status & TP_STATUS_CSUM_VALID) == 0 &&
               demi::VerifyFrame(slot, len) == demi::ChecksumVerdict::kBad) {
      stats.rxDropped++;
      return false;
    }
    rx.lens[n] = len;
    stats.rxFrames++;
    stats.rxBytes += len;
    return true;
  }

  void Release() {
    if (ring_ != nullptr) munmap(ring_, ringSize_);
    ring_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  InterfaceInfo info_;
  int fd_ = -1;
  uint8_t* ring_ = nullptr;
  size_t ringSize_ = 0;
  uint32_t frameSize_ = 0;
  uint32_t frameCount_ = 0;
  uint32_t next_ = 0;
  uint32_t maxFrame_ = 1514;
  uint32_t maxSend_ = 1518;
  uint32_t mtuFrame_ = 1518;
  bool vnet_ = false;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;  // two per message: the virtio-net header and the frame
  std::vector<virtio_net_hdr> vnets_;
  std::vector<uint32_t> slotOf_;  // arena slot of each queued message
};

}  // namespace

std::unique_ptr<Backend> OpenPacketBackend(const InterfaceInfo& info,
                                           const BackendOptions& options) {
  return std::make_unique<PacketBackend>(info, options);
}

}  // namespace catpowder
