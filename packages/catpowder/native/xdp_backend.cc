// AF_XDP: an XDP program redirects every frame of one receive queue into an
// AF_XDP socket whose rings live in our memory (the umem).
//
// The program is six instructions loaded with libbpf and attached through a
// bpf_link, so it goes away with the process, and without libxdp's
// multi-program dispatcher (which this kind of sandbox refuses). libxdp
// provides the xsk ring helpers. veth and most drivers without zero-copy
// support run in copy mode; frames are copied between the umem and the arena.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <demi/error.h>
#include <demi/ipv4_checksum.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "backend.h"
#include "xdp_libs.h"

namespace catpowder {

std::string XdpUnavailableReason() {
  try {
    LoadXdpLibs();
    return "";
  } catch (const demi::Error& e) {
    return e.message();
  }
}

namespace {

constexpr uint32_t kRingSize = 2048;
constexpr uint32_t kFrames = 2 * 2 * kRingSize;  // half for receiving, half for sending
// Copy-mode receive puts a frame XDP_PACKET_HEADROOM (256) bytes into its chunk.
constexpr uint32_t kChunkHeadroom = 256;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

// return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
std::vector<bpf_insn> RedirectProgram(int mapFd) {
  return {
      Insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index), 0),
      Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, mapFd),
      Insn(0, 0, 0, 0, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
}

class XdpBackend final : public Backend {
 public:
  XdpBackend(const InterfaceInfo& info, const BackendOptions& options)
      : lib_(LoadXdpLibs()), info_(info), queue_(options.queue) {
    try {
      Setup(options);
    } catch (...) {
      Release();
      throw;
    }
  }
  ~XdpBackend() override { Release(); }

  int Fd() const override { return lib_.xsk_socket__fd(xsk_); }
  const char* Mode() const override { return native_ ? "af_xdp (native)" : "af_xdp (skb)"; }

  uint32_t Receive(const Arena& rx, bool verify) override {
    if (Outstanding() > 0) KickTx();
    uint32_t idx = 0;
    uint32_t got = xsk_ring_cons__peek(&rx_, rx.slots, &idx);
    uint32_t n = 0;
    for (uint32_t i = 0; i < got; i++) {
      const xdp_desc* desc = xsk_ring_cons__rx_desc(&rx_, idx + i);
      uint64_t addr = desc->addr;
      uint32_t len = desc->len;
      recycle_.push_back(xsk_umem__extract_addr(addr));
      uint64_t at = xsk_umem__add_offset_to_addr(addr);
      if (len < 14 || len > rx.slotSize || len > maxFrame_ + 4 || at > areaSize_ ||
          len > areaSize_ - at) {
        stats.rxDropped++;
        continue;
      }
      uint8_t* slot = rx.data + static_cast<size_t>(n) * rx.slotSize;
      std::memcpy(slot, xsk_umem__get_data(area_, at), len);
      if (verify && demi::VerifyFrame(slot, len) == demi::ChecksumVerdict::kBad) {
        stats.rxDropped++;
        continue;
      }
      rx.lens[n++] = len;
      stats.rxFrames++;
      stats.rxBytes += len;
    }
    if (got > 0) xsk_ring_cons__release(&rx_, got);
    if (Refill() > 0 && xsk_ring_prod__needs_wakeup(&fill_)) {
      recvfrom(Fd(), nullptr, 0, MSG_DONTWAIT, nullptr,
               nullptr);  // the driver waits for fill buffers
    }
    return n;
  }

  uint32_t Transmit(const Arena& tx, uint32_t count, bool fill) override {
    if (count > tx.slots) count = tx.slots;
    Reap();
    uint32_t sent = 0;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t len = tx.lens[i];
      if (len < 14 || len > tx.slotSize || len > maxSend_) {
        stats.txDropped++;
        continue;
      }
      if (freeTx_.empty() || !ReserveOne()) {
        KickTx();
        Reap();
        // Out of send buffers: frames i.. stay with the caller, which tries
        // them again on its next flush. Never wait here (the event loop runs us).
        if (freeTx_.empty() || !ReserveOne()) {
          KickTx();
          return i;
        }
      }
      uint8_t* frame = tx.data + static_cast<size_t>(i) * tx.slotSize;
      if (fill) demi::FillFrame(frame, len);
      uint64_t addr = freeTx_.back();
      freeTx_.pop_back();
      std::memcpy(xsk_umem__get_data(area_, addr), frame, len);
      xdp_desc* desc = xsk_ring_prod__tx_desc(&tx_, reservedIdx_);
      desc->addr = addr;
      desc->len = len;
      xsk_ring_prod__submit(&tx_, 1);
      sent++;
      stats.txFrames++;
      stats.txBytes += len;
    }
    KickTx();
    return sent;
  }

  void UpdateStats() override {
    xdp_statistics st;
    socklen_t len = sizeof st;
    if (getsockopt(Fd(), SOL_XDP, XDP_STATISTICS, &st, &len) == 0) {
      stats.kernelDrops = st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
    }
  }

 private:
  void Setup(const BackendOptions& options) {
    native_ = options.xdpMode == "native";
    maxFrame_ = options.maxFrame;
    maxSend_ = info_.mtu + 14 + 4;
    chunk_ = maxFrame_ + 4 + kChunkHeadroom <= 2048 ? 2048 : 4096;
    if (maxFrame_ + 4 + kChunkHeadroom > chunk_) {
      throw demi::Error(EINVAL, "xsk_umem__create",
                        "AF_XDP copy mode carries frames up to " +
                            std::to_string(4096 - kChunkHeadroom - 4) + " bytes; interface " +
                            info_.name + " has MTU " + std::to_string(info_.mtu) +
                            ": lower it (ip link set " + info_.name +
                            " mtu 1500) or use raw_socket.mode: af_packet");
    }
    areaSize_ = static_cast<size_t>(kFrames) * chunk_;
    void* area =
        mmap(nullptr, areaSize_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
      int err = errno;
      areaSize_ = 0;
      throw demi::Error(err, "mmap", "cannot allocate the AF_XDP umem: " + demi::ErrnoText(err));
    }
    area_ = area;

    xsk_umem_config ucfg;
    std::memset(&ucfg, 0, sizeof ucfg);
    ucfg.fill_size = kRingSize * 2;
    ucfg.comp_size = kRingSize * 2;
    ucfg.frame_size = chunk_;
    ucfg.frame_headroom = 0;
    int r = lib_.xsk_umem__create(&umem_, area_, areaSize_, &fill_, &comp_, &ucfg);
    if (r != 0) {
      throw demi::Error(
          -r, "xsk_umem__create",
          "cannot register the AF_XDP umem: " + demi::ErrnoText(-r) +
              (-r == EPERM
                   ? " (needs CAP_NET_RAW and CAP_IPC_LOCK or a higher `ulimit -l`: run as root)"
                   : ""));
    }

    LoadProgram();

    xsk_socket_config scfg;
    std::memset(&scfg, 0, sizeof scfg);
    scfg.rx_size = kRingSize;
    scfg.tx_size = kRingSize;
    scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    scfg.xdp_flags = native_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    // A socket closed a moment ago gives its queue back from a kernel work
    // queue, so binding right after can be EBUSY for a few milliseconds.
    for (int attempt = 0;; attempt++) {
      r = lib_.xsk_socket__create(&xsk_, info_.name.c_str(), queue_, umem_, &rx_, &tx_, &scfg);
      if (r != -EBUSY || attempt >= 100) break;
      usleep(10000);
    }
    if (r != 0) {
      throw demi::Error(
          -r, "xsk_socket__create",
          "cannot create an AF_XDP socket on " + info_.name + " queue " + std::to_string(queue_) +
              ": " + demi::ErrnoText(-r) +
              (-r == EINVAL ? " (is the queue number below the interface's queue count?)" : "") +
              (-r == EBUSY ? " (another AF_XDP socket holds this queue)" : ""));
    }
    int xskFd = lib_.xsk_socket__fd(xsk_);
    if (lib_.bpf_map_update_elem(mapFd_, &queue_, &xskFd, BPF_ANY) != 0) {
      int err = errno;
      throw demi::Error(err, "bpf_map_update_elem",
                        "cannot point the XDP program at the socket: " + demi::ErrnoText(err));
    }

    // Half the umem waits in the fill ring for arriving frames, half sends.
    for (uint32_t i = 0; i < kFrames / 2; i++)
      recycle_.push_back(static_cast<uint64_t>(i) * chunk_);
    for (uint32_t i = kFrames / 2; i < kFrames; i++)
      freeTx_.push_back(static_cast<uint64_t>(i) * chunk_);
    Refill();
    recvfrom(lib_.xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }

  void LoadProgram() {
    LIBBPF_OPTS(bpf_map_create_opts, mopts);
    mapFd_ =
        lib_.bpf_map_create(BPF_MAP_TYPE_XSKMAP, "demi_xsks", sizeof(int), sizeof(int), 64, &mopts);
    if (mapFd_ < 0) {
      int err = errno;
      throw demi::Error(err, "bpf_map_create",
                        "cannot create the XSKMAP: " + demi::ErrnoText(err) +
                            (err == EPERM ? " (needs CAP_BPF/CAP_SYS_ADMIN: run as root)" : ""));
    }
    if (queue_ >= 64) throw demi::Error(EINVAL, "xsk", "queue must be below 64");
    std::vector<bpf_insn> insns = RedirectProgram(mapFd_);
    std::vector<char> log(16384, 0);
    LIBBPF_OPTS(bpf_prog_load_opts, popts, .log_level = 1,
                .log_size = static_cast<__u32>(log.size()), .log_buf = log.data());
    progFd_ = lib_.bpf_prog_load(BPF_PROG_TYPE_XDP, "demi_xsk", "GPL", insns.data(), insns.size(),
                                 &popts);
    if (progFd_ < 0) {
      int err = errno;
      throw demi::Error(err, "bpf_prog_load",
                        "the kernel refused the XDP redirect program: " + demi::ErrnoText(err) +
                            ": " + log.data());
    }
    LIBBPF_OPTS(bpf_link_create_opts, lopts,
                .flags = static_cast<__u32>(native_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE));
    linkFd_ = lib_.bpf_link_create(progFd_, info_.index, BPF_XDP, &lopts);
    if (linkFd_ < 0) {
      int err = errno;
      std::string hint;
      if (err == EBUSY || err == EEXIST)
        hint = " (another XDP program is attached: ip link set dev " + info_.name + " xdp off)";
      if (err == EOPNOTSUPP || err == EINVAL) {
        hint = native_ ? " (the driver has no native XDP: use raw_socket.xdp_mode: skb)" : "";
      }
      throw demi::Error(err, "bpf_link_create",
                        "cannot attach XDP to " + info_.name + ": " + demi::ErrnoText(err) + hint);
    }
  }

  bool ReserveOne() { return xsk_ring_prod__reserve(&tx_, 1, &reservedIdx_) == 1; }

  // Gives receive buffers back to the kernel; returns how many.
  uint32_t Refill() {
    if (recycle_.empty()) return 0;
    uint32_t idx = 0;
    uint32_t n = xsk_ring_prod__reserve(&fill_, static_cast<uint32_t>(recycle_.size()), &idx);
    for (uint32_t i = 0; i < n; i++) {
      *xsk_ring_prod__fill_addr(&fill_, idx + i) = recycle_.back();
      recycle_.pop_back();
    }
    if (n > 0) xsk_ring_prod__submit(&fill_, n);
    return n;
  }

  // Takes back send buffers the kernel has finished with.
  void Reap() {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&comp_, kRingSize * 2, &idx);
    for (uint32_t i = 0; i < n; i++)
      freeTx_.push_back(xsk_umem__extract_addr(*xsk_ring_cons__comp_addr(&comp_, idx + i)));
    if (n > 0) xsk_ring_cons__release(&comp_, n);
  }

  // Copy mode sends a bounded number of frames per sendto, so kick until the
  // kernel has taken what is queued (or says it cannot right now).
  void KickTx() {
    int fd = Fd();
    for (int round = 0; round < 256 && Outstanding() > 0; round++) {
      if (sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0) {
        int err = errno;
        if (err == EAGAIN || err == EBUSY || err == ENOBUFS) {
          Reap();
          continue;
        }
        if (err != EINTR) {
          stats.lastTxErrno = err;
          break;
        }
      }
    }
  }

  uint32_t Outstanding() const {
    uint32_t consumer = __atomic_load_n(tx_.consumer, __ATOMIC_ACQUIRE);
    return *tx_.producer - consumer;
  }

  void Release() {
    if (xsk_ != nullptr) lib_.xsk_socket__delete(xsk_);
    xsk_ = nullptr;
    if (umem_ != nullptr) lib_.xsk_umem__delete(umem_);
    umem_ = nullptr;
    if (linkFd_ >= 0) close(linkFd_);  // detaches the program
    linkFd_ = -1;
    if (progFd_ >= 0) close(progFd_);
    progFd_ = -1;
    if (mapFd_ >= 0) close(mapFd_);
    mapFd_ = -1;
    if (area_ != nullptr) munmap(area_, areaSize_);
    area_ = nullptr;
  }

  const XdpLibs& lib_;
  InterfaceInfo info_;
  uint32_t queue_;
  bool native_ = false;
  uint32_t maxFrame_ = 1514;
  uint32_t maxSend_ = 1518;
  uint32_t chunk_ = 2048;
  void* area_ = nullptr;
  size_t areaSize_ = 0;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  xsk_ring_prod fill_{};
  xsk_ring_cons comp_{};
  xsk_ring_cons rx_{};
  xsk_ring_prod tx_{};
  uint32_t reservedIdx_ = 0;
  int mapFd_ = -1;
  int progFd_ = -1;
  int linkFd_ = -1;
  std::vector<uint64_t> recycle_;
  std::vector<uint64_t> freeTx_;
};

}  // namespace

std::unique_ptr<Backend> OpenXdpBackend(const InterfaceInfo& info, const BackendOptions& options) {
  return std::make_unique<XdpBackend>(info, options);
}

}  // namespace catpowder
