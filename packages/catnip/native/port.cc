#include "port.h"

#include <demi/ipv4_checksum.h>
#include <demi/netns.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "eal.h"
#include "error.h"
#include "link_mtu.h"
#include "log_capture.h"

namespace catnip {

namespace {

constexpr uint64_t kTxCsum =
    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
constexpr uint64_t kRxCsum =
    RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
// How many times one flush offers a partly refused burst again before leaving
// the rest queued for the next flush.
constexpr int kTxAttempts = 4;
std::mutex owned_mu;
std::set<uint16_t> owned_ports;
std::atomic<uint32_t> pool_seq{0};

uint32_t Align64(uint32_t n) { return (n + 63u) & ~63u; }

std::string PortList() {
  std::string out;
  uint16_t id;
  RTE_ETH_FOREACH_DEV(id) {
    char name[RTE_ETH_NAME_MAX_LEN] = {0};
    rte_eth_dev_get_name_by_port(id, name);
    if (!out.empty()) out += ", ";
    out += std::to_string(id) + " (" + name + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Port::Port(const PortOptions& options) : options_(options) {
  uint64_t mark = LogCapture::Mark();
  if (!options.port_name.empty()) {
    uint16_t by_name;
    if (rte_eth_dev_get_port_by_name(options.port_name.c_str(), &by_name) != 0) {
      throw CatnipError(ENODEV, "rte_eth_dev_get_port_by_name",
                        "no DPDK port for device " + options.port_name +
                            " (did its driver fail to probe?); ports: " + PortList());
    }
    options_.port_id = by_name;
  }
  const uint16_t id = options_.port_id;
  auto fail = [&](int err, const std::string& syscall, const std::string& message) {
    std::string log = LogCapture::Since(mark);
    Unwind();
    throw CatnipError(err, syscall, message, log);
  };

  if (!rte_eth_dev_is_valid_port(id)) {
    throw CatnipError(
        ENODEV, "rte_eth_dev_info_get",
        "no DPDK port " + std::to_string(id) + "; ports: " + PortList() +
            ". Add a device to dpdk.eal_init (e.g. --vdev net_af_packet0,iface=eth0, or a NIC "
            "bound to vfio-pci with -a <pci address>) or pick another dpdk.port_id");
  }
  {
    std::lock_guard<std::mutex> lock(owned_mu);
    if (!owned_ports.insert(id).second) {
      throw CatnipError(
          EBUSY, "rte_eth_dev_configure",
          "DPDK port " + std::to_string(id) + " is already used by another catnip instance");
    }
  }
  closed_ = false;

  demi::NetnsScope scope(options.netns);

  rte_eth_dev_info info;
  int ret = rte_eth_dev_info_get(id, &info);
  if (ret != 0) fail(-ret, "rte_eth_dev_info_get", "cannot read port info: " + ErrorText(-ret));
  driver_ = info.driver_name != nullptr ? info.driver_name : "";
  const bool memif = driver_ == "net_memif";
  if (memif) EalNoteMemif();
  trusted_ = options.trusted_link && memif;
  if (info.device != nullptr) {
    device_name_ = rte_dev_name(info.device);
    const rte_bus* bus = rte_dev_bus(info.device);
    is_vdev_ = bus != nullptr && std::strcmp(rte_bus_name(bus), "vdev") == 0;
  }

  hw_.tx_ip = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  hw_.tx_tcp = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  hw_.tx_udp = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  hw_.rx_ip = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  hw_.rx_tcp = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  hw_.rx_udp = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  use_hw_tx_ = (info.tx_offload_capa & kTxCsum) != 0;
  use_hw_rx_ = (info.rx_offload_capa & kRxCsum) != 0;
  // Partial offloads are completed in software; without software help, the
  // stack is told only about complete ones.
  report_tx_ = options.software_checksum || (info.tx_offload_capa & kTxCsum) == kTxCsum;
  report_rx_ = options.software_checksum || (info.rx_offload_capa & kRxCsum) == kRxCsum;
  if (!report_tx_) use_hw_tx_ = false;
  if (trusted_) {
    // Shared memory between two processes that both declared it: nothing can
    // corrupt a frame in flight, so no checksum is computed or verified here.
    report_tx_ = report_rx_ = true;
    use_hw_tx_ = use_hw_rx_ = false;
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  const bool beyond = MtuBeyondEthdev(driver_);
  if (options.mtu != 0) {
    // ethdev also checks the frame against max_rx_pktlen (14 + 4 bytes of
    // header and CRC); memif and af_packet go further (see link_mtu.h).
    const uint32_t eth_max = std::min<uint32_t>(
        info.max_mtu, info.max_rx_pktlen > 18 ? info.max_rx_pktlen - 18 : info.max_mtu);
    if (options.mtu < info.min_mtu || (options.mtu > eth_max && !beyond)) {
      fail(EINVAL, "rte_eth_dev_configure",
           "MTU " + std::to_string(options.mtu) + " is outside what " + driver_ + " allows (" +
               std::to_string(info.min_mtu) + "-" + std::to_string(eth_max) + ")");
    }
    if (options.mtu <= eth_max) conf.rxmode.mtu = options.mtu;
  }
  if (use_hw_rx_) conf.rxmode.offloads = info.rx_offload_capa & kRxCsum;
  if (use_hw_tx_) conf.txmode.offloads = info.tx_offload_capa & kTxCsum;

  ret = rte_eth_dev_configure(id, 1, 1, &conf);
  if (ret != 0) fail(-ret, "rte_eth_dev_configure", "cannot configure port: " + ErrorText(-ret));
  configured_ = true;

  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(id, &mtu) != 0 || mtu == 0) mtu = RTE_ETHER_MTU;
  mtu_ = beyond && options.mtu > mtu ? options.mtu : mtu;
  const uint32_t max_frame = mtu_ + RTE_ETHER_HDR_LEN + 4;  // room for one VLAN tag

  uint16_t nb_rxd = options.rx_desc;
  uint16_t nb_txd = options.tx_desc;
  ret = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);
  if (ret != 0)
    fail(-ret, "rte_eth_dev_adjust_nb_rx_tx_desc", "cannot size queues: " + ErrorText(-ret));

  const std::string problem = LinkMtuProblem(driver_, info.device, mtu_);
  if (!problem.empty()) fail(EINVAL, "rte_eth_dev_configure", problem);
  const uint32_t data_room = std::max({static_cast<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM), max_frame,
                                       MinMbufData(driver_, info.device)}) +
                             RTE_PKTMBUF_HEADROOM;
  if (data_room > UINT16_MAX) fail(EINVAL, "rte_pktmbuf_pool_create", "MTU too large for one mbuf");
  char pool_name[RTE_MEMPOOL_NAMESIZE];
  std::snprintf(pool_name, sizeof(pool_name), "catnip_%u_%u", id, pool_seq.fetch_add(1));
  int socket = rte_eth_dev_socket_id(id);
  // By default the pool takes what 8191 standard mbufs did plus a little: two
  // jumbo ports still fit in the default 128 MiB.
  const uint32_t mbufs =
      options.mbufs != 0
          ? options.mbufs
          : std::max<uint32_t>(1023, std::min<uint32_t>(8191, (8191u * 4352u) / data_room));
  uint32_t cache = std::min<uint32_t>(256, mbufs / 4);
  pool_ = rte_pktmbuf_pool_create(pool_name, mbufs, cache, 0, static_cast<uint16_t>(data_room),
                                  socket < 0 ? SOCKET_ID_ANY : socket);
  if (pool_ == nullptr) {
    fail(rte_errno, "rte_pktmbuf_pool_create",
         "cannot create a pool of " + std::to_string(mbufs) + " mbufs: " + ErrorText(rte_errno) +
             " (give the EAL more memory with -m, or use fewer mbufs)");
  }

  rte_eth_rxconf rxconf = info.default_rxconf;
  rxconf.offloads = conf.rxmode.offloads;
  ret = rte_eth_rx_queue_setup(id, 0, nb_rxd, socket < 0 ? SOCKET_ID_ANY : socket, &rxconf, pool_);
  if (ret != 0)
    fail(-ret, "rte_eth_rx_queue_setup", "cannot set up the RX queue: " + ErrorText(-ret));
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  ret = rte_eth_tx_queue_setup(id, 0, nb_txd, socket < 0 ? SOCKET_ID_ANY : socket, &txconf);
  if (ret != 0)
    fail(-ret, "rte_eth_tx_queue_setup", "cannot set up the TX queue: " + ErrorText(-ret));

  if (options.set_mac) {
    rte_ether_addr addr;
    std::memcpy(addr.addr_bytes, options.mac, 6);
    ret = rte_eth_dev_default_mac_addr_set(id, &addr);
    if (ret != 0) {
      fail(-ret, "rte_eth_dev_default_mac_addr_set",
           "cannot set the MAC address on " + driver_ + ": " + ErrorText(-ret) +
               " (leave demikernel.local_link_addr unset to use the port's own)");
    }
  }
  if (options.promiscuous) {
    ret = rte_eth_promiscuous_enable(id);
    if (ret != 0)
      fail(-ret, "rte_eth_promiscuous_enable",
           "cannot enable promiscuous mode: " + ErrorText(-ret));
  }

  ret = rte_eth_dev_start(id);
  if (ret != 0) fail(-ret, "rte_eth_dev_start", "cannot start port: " + ErrorText(-ret));
  started_ = true;

  rte_ether_addr addr;
  ret = rte_eth_macaddr_get(id, &addr);
  if (ret != 0)
    fail(-ret, "rte_eth_macaddr_get", "cannot read the MAC address: " + ErrorText(-ret));
  std::memcpy(mac_, addr.addr_bytes, 6);

  layout_.slot_size = Align64(max_frame);
  layout_.rx_lens = 0;
  layout_.tx_lens = options.rx_burst * 4u;
  layout_.rx_slots = Align64(layout_.tx_lens + options.tx_slots * 4u);
  layout_.tx_slots = layout_.rx_slots + options.rx_burst * layout_.slot_size;
  layout_.size = layout_.tx_slots + options.tx_slots * layout_.slot_size;

  rx_mbufs_.resize(options.rx_burst);
  tx_new_.resize(options.tx_slots);
  pending_.resize(std::max<size_t>(2u * options.tx_slots, 256));
}

Port::~Port() { Close(); }

void Port::Unwind() {
  if (started_) rte_eth_dev_stop(options_.port_id);
  started_ = false;
  if (configured_) {
    // Queues hold mbufs from our pool: closing releases them before the pool goes.
    rte_eth_dev_close(options_.port_id);
    // Removing a virtual device lets a later instance in this process create it again.
    if (is_vdev_ && !device_name_.empty()) rte_eal_hotplug_remove("vdev", device_name_.c_str());
  }
  configured_ = false;
  if (pool_ != nullptr) rte_mempool_free(pool_);
  pool_ = nullptr;
  std::lock_guard<std::mutex> lock(owned_mu);
  owned_ports.erase(options_.port_id);
  closed_ = true;
}

void Port::Close() {
  if (closed_) return;
  for (size_t i = 0; i < pending_count_; i++) rte_pktmbuf_free(pending_[i]);
  pending_count_ = 0;
  // Some drivers undo kernel state (an XDP program, a TAP device) through
  // sockets opened now, so closing happens in the port's namespace too. A
  // destructor must not throw: if the namespace is gone, close from here.
  try {
    demi::NetnsScope scope(options_.netns);
    Unwind();
    return;
  } catch (const CatnipError&) {
  }
  Unwind();
}

bool Port::RxChecksumOk(rte_mbuf* m, uint8_t* frame, uint32_t len) {
  if (!report_rx_ || trusted_) return true;  // the stack checks them itself, or nobody needs to
  demi::Ipv4View ip;
  bool ok;
  if (!demi::ParseIpv4(frame, len, &ip, &ok)) return true;
  if (!ok) return false;
  uint64_t ipf = RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
  uint64_t l4f = RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
  if (use_hw_rx_) {
    ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    l4f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  }
  if (ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD) return false;
  if (ipf == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && !demi::VerifyIpv4Header(ip)) return false;
  if (ip.protocol != demi::kProtoTcp && ip.protocol != demi::kProtoUdp) return true;
  if (demi::L4Truncated(ip)) return false;  // whatever the NIC says: the header does not fit
  if (l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD) return false;
  if (l4f == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN && !demi::VerifyL4(ip)) return false;
  return true;
}

uint32_t Port::Receive(uint8_t* arena) {
  if (closed_) return 0;
  uint16_t n = rte_eth_rx_burst(options_.port_id, 0, rx_mbufs_.data(), options_.rx_burst);
  auto* lens = reinterpret_cast<uint32_t*>(arena + layout_.rx_lens);
  uint32_t k = 0;
  for (uint16_t i = 0; i < n; i++) {
    rte_mbuf* m = rx_mbufs_[i];
    uint32_t len = rte_pktmbuf_pkt_len(m);
    if (len > layout_.slot_size || len < RTE_ETHER_HDR_LEN) {
      stats_.rx_oversize++;
      continue;
    }
    uint8_t* dst = arena + layout_.rx_slots + k * layout_.slot_size;
    const void* src = rte_pktmbuf_read(m, 0, len, dst);
    if (src == nullptr) {
      stats_.rx_oversize++;
      continue;
    }
    if (src != dst) std::memcpy(dst, src, len);
    if (!RxChecksumOk(m, dst, len)) {
      stats_.rx_bad_checksum++;
      continue;
    }
    lens[k++] = len;
    stats_.rx_bytes += len;
  }
  if (n > 0) rte_pktmbuf_free_bulk(rx_mbufs_.data(), n);
  stats_.rx_frames += k;
  return k;
}

void Port::PrepareTx(rte_mbuf* m, uint8_t* data, uint32_t len) {
  if (!report_tx_ || trusted_) return;  // the stack filled them in, or nobody needs them
  demi::Ipv4View ip;
  bool ok;
  if (!demi::ParseIpv4(data, len, &ip, &ok) || !ok) return;
  bool l4 = ip.protocol == demi::kProtoTcp || ip.protocol == demi::kProtoUdp;
  bool hw_l4 = use_hw_tx_ && !ip.fragment && demi::L4ChecksumOffset(ip) != 0 &&
               ((ip.protocol == demi::kProtoTcp && hw_.tx_tcp) ||
                (ip.protocol == demi::kProtoUdp && hw_.tx_udp));
  bool hw_ip = use_hw_tx_ && hw_.tx_ip;
  if (hw_ip || hw_l4) {
    m->l2_len = RTE_ETHER_HDR_LEN;
    m->l3_len = ip.header_len;
    m->ol_flags |= RTE_MBUF_F_TX_IPV4;
  }
  if (hw_ip) {
    ip.header[10] = ip.header[11] = 0;
    m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
  } else {
    demi::FillIpv4Header(ip);
  }
  if (!l4) return;
  if (hw_l4) {
    m->ol_flags |=
        ip.protocol == demi::kProtoTcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
    uint16_t phdr = demi::PseudoHeaderSum(ip);
    std::memcpy(ip.header + ip.header_len + demi::L4ChecksumOffset(ip), &phdr, 2);
  } else {
    demi::FillL4(ip);
  }
}

uint32_t Port::Transmit(uint8_t* arena, uint32_t count) {
  if (closed_) return 0;
  const auto* lens = reinterpret_cast<const uint32_t*>(arena + layout_.tx_lens);
  if (count > 0) {
    if (rte_pktmbuf_alloc_bulk(pool_, tx_new_.data(), count) != 0) {
      stats_.tx_dropped += count;
      count = 0;
    }
  }
  for (uint32_t i = 0; i < count; i++) {
    rte_mbuf* m = tx_new_[i];
    uint32_t len = lens[i];
    char* data =
        len >= RTE_ETHER_HDR_LEN && len <= layout_.slot_size ? rte_pktmbuf_append(m, len) : nullptr;
    if (data == nullptr || pending_count_ == pending_.size()) {
      rte_pktmbuf_free(m);
      stats_.tx_dropped++;
      continue;
    }
    std::memcpy(data, arena + layout_.tx_slots + i * layout_.slot_size, len);
    PrepareTx(m, reinterpret_cast<uint8_t*>(data), len);
    pending_[pending_count_++] = m;
  }
  size_t sent_total = 0;
  for (int attempt = 0; attempt < kTxAttempts && sent_total < pending_count_; attempt++) {
    uint16_t want =
        static_cast<uint16_t>(std::min<size_t>(pending_count_ - sent_total, UINT16_MAX));
    uint16_t sent = rte_eth_tx_burst(options_.port_id, 0, pending_.data() + sent_total, want);
    for (uint16_t i = 0; i < sent; i++)
      stats_.tx_bytes += rte_pktmbuf_pkt_len(pending_[sent_total + i]);
    sent_total += sent;
    if (sent == 0) break;
  }
  stats_.tx_frames += sent_total;
  if (sent_total < pending_count_ && sent_total > 0) stats_.tx_retries++;
  std::memmove(pending_.data(), pending_.data() + sent_total,
               (pending_count_ - sent_total) * sizeof(rte_mbuf*));
  pending_count_ -= sent_total;
  return static_cast<uint32_t>(pending_count_);
}

bool Port::LinkUp(uint32_t* speed) const {
  *speed = 0;
  if (closed_) return false;
  rte_eth_link link;
  std::memset(&link, 0, sizeof(link));
  if (rte_eth_link_get_nowait(options_.port_id, &link) != 0) return false;
  *speed = link.link_speed;
  return link.link_status == RTE_ETH_LINK_UP;
}

void Port::DriverStats(uint64_t out[4]) const {
  out[0] = out[1] = out[2] = out[3] = 0;
  if (closed_) return;
  rte_eth_stats s;
  if (rte_eth_stats_get(options_.port_id, &s) != 0) return;
  out[0] = s.imissed;
  out[1] = s.ierrors;
  out[2] = s.oerrors;
  out[3] = s.rx_nombuf;
}

}  // namespace catnip
