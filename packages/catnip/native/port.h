// One DPDK ethdev port driven by one catnip instance: a mempool, one RX and
// one TX queue, and bursts of frames copied between mbufs and the arena the TS
// stack reads and writes. One native call per burst in each direction.
//
// Arena layout (offsets in bytes, all published to JS):
//   [rx lengths: u32 x rx_burst][tx lengths: u32 x tx_slots] (pad to 64)
//   [rx slots: rx_burst x slot_size][tx slots: tx_slots x slot_size]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace catnip {

struct PortOptions {
  uint16_t port_id = 0;
  // When set, the port is the one of this device name (port_id is ignored).
  std::string port_name;
  std::string netns;
  uint16_t rx_burst = 64;
  uint16_t tx_slots = 128;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint32_t mbufs = 0;  // 0: 8191 standard mbufs, fewer large ones for jumbo MTUs
  uint16_t mtu = 0;    // 0: the port's own; on net_memif above the 1500 it reports
  bool software_checksum = true;
  // Neither compute nor verify checksums on a shared-memory link (net_memif):
  // frames cannot be corrupted between the two processes. Other drivers ignore it.
  bool trusted_link = false;
  bool promiscuous = false;
  bool set_mac = false;
  uint8_t mac[6] = {0};
};

struct ArenaLayout {
  uint32_t rx_lens = 0;
  uint32_t tx_lens = 0;
  uint32_t rx_slots = 0;
  uint32_t tx_slots = 0;
  uint32_t slot_size = 0;
  uint32_t size = 0;
};

struct PortStats {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_bad_checksum = 0;
  uint64_t rx_oversize = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_dropped = 0;  // no mbuf, or the queue stayed full
  uint64_t tx_retries = 0;  // bursts that left frames queued for the next flush
};

struct Offloads {
  bool rx_ip = false, rx_tcp = false, rx_udp = false;
  bool tx_ip = false, tx_tcp = false, tx_udp = false;
};

class Port {
 public:
  // Configures and starts the port; throws CatnipError. The caller holds an
  // EAL reference for the lifetime of the Port.
  explicit Port(const PortOptions& options);
  ~Port();
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Receives one burst into the arena; returns the number of frames whose
  // lengths are now at rx_lens.
  uint32_t Receive(uint8_t* arena);
  // Sends `count` frames from the tx slots (lengths at tx_lens), plus any left
  // queued by an earlier flush. Returns how many frames remain queued.
  uint32_t Transmit(uint8_t* arena, uint32_t count);
  // Stops and closes the port (and removes a virtual device so it can be made
  // again); idempotent.
  void Close();

  bool closed() const { return closed_; }
  uint16_t port_id() const { return options_.port_id; }
  const ArenaLayout& layout() const { return layout_; }
  const PortStats& stats() const { return stats_; }
  const Offloads& hardware() const { return hw_; }
  bool rx_checksum_reported() const { return report_rx_; }
  bool tx_checksum_reported() const { return report_tx_; }
  bool trusted_link() const { return trusted_; }
  uint16_t mtu() const { return mtu_; }
  const uint8_t* mac() const { return mac_; }
  const std::string& driver() const { return driver_; }
  const std::string& device_name() const { return device_name_; }
  uint32_t pending() const { return static_cast<uint32_t>(pending_count_); }
  // Link state without waiting: up, speed in Mbit/s.
  bool LinkUp(uint32_t* speed) const;
  // The driver's own counters (rte_eth_stats): imissed, ierrors, oerrors, rx_nombuf.
  void DriverStats(uint64_t out[4]) const;

 private:
  bool RxChecksumOk(rte_mbuf* m, uint8_t* frame, uint32_t len);
  void PrepareTx(rte_mbuf* m, uint8_t* data, uint32_t len);
  void Unwind();

  PortOptions options_;
  ArenaLayout layout_;
  PortStats stats_;
  Offloads hw_;
  bool use_hw_rx_ = false;
  bool use_hw_tx_ = false;
  bool report_rx_ = false;
  bool report_tx_ = false;
  bool trusted_ = false;
  bool closed_ = false;
  bool started_ = false;
  bool configured_ = false;
  uint16_t mtu_ = 1500;
  uint8_t mac_[6] = {0};
  std::string driver_;
  std::string device_name_;
  bool is_vdev_ = false;
  rte_mempool* pool_ = nullptr;
  std::vector<rte_mbuf*> rx_mbufs_;
  std::vector<rte_mbuf*> tx_new_;
  std::vector<rte_mbuf*> pending_;
  size_t pending_count_ = 0;
};

}  // namespace catnip
