#include "link_mtu.h"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace catnip {

namespace {

// The drivers' defaults for the devargs read here.
constexpr uint32_t kMemifDefaultBsize = 2048;
constexpr uint32_t kAfPacketDefaultFramesz = 2048;
// af_packet's data room in a ring frame: framesz minus the TPACKET_V2 header.
constexpr uint32_t kTpacket2Header = 32;
constexpr uint32_t kEthHeader = 14;

// The value of `key=` in a device's devargs, or empty.
std::string Devarg(const rte_device* dev, const char* key) {
  const rte_devargs* da = dev != nullptr ? rte_dev_devargs(dev) : nullptr;
  if (da == nullptr || da->args == nullptr) return "";
  const std::string args = std::string(",") + da->args;
  const std::string needle = std::string(",") + key + "=";
  size_t at = args.find(needle);
  if (at == std::string::npos) return "";
  size_t start = at + needle.size();
  return args.substr(start, args.find(',', start) - start);
}

uint32_t DevargUint(const rte_device* dev, const char* key, uint32_t fallback) {
  std::string v = Devarg(dev, key);
  return v.empty() ? fallback : static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 0));
}

// The MTU of a kernel interface in the current network namespace, or 0.
uint32_t KernelMtu(const std::string& iface) {
  if (iface.empty() || iface.size() >= IFNAMSIZ) return 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  ifreq req;
  std::memset(&req, 0, sizeof(req));
  std::memcpy(req.ifr_name, iface.c_str(), iface.size());
  int ret = ioctl(fd, SIOCGIFMTU, &req);
  close(fd);
  return ret == 0 ? static_cast<uint32_t>(req.ifr_mtu) : 0;
}

}  // namespace

bool MtuBeyondEthdev(const std::string& driver) {
  return driver == "net_memif" || driver == "net_af_packet";
}

uint32_t MinMbufData(const std::string& driver, const rte_device* device) {
  if (driver != "net_af_packet") return 0;
  const uint32_t framesz = DevargUint(device, "framesz", kAfPacketDefaultFramesz);
  return framesz > kTpacket2Header ? framesz - kTpacket2Header : 0;
}

std::string LinkMtuProblem(const std::string& driver, const rte_device* device, uint32_t mtu) {
  const uint32_t frame = mtu + kEthHeader;
  const std::string m = std::to_string(mtu);
  if (driver == "net_memif") {
    // DPDK 22.11's memif garbles frames that span several of its buffers once
    // the ring is busy (we saw duplicated and merged frames): a frame must fit one.
    const uint32_t bsize = DevargUint(device, "bsize", kMemifDefaultBsize);
    if (frame <= bsize) return "";
    return "an MTU of " + m + " needs net_memif buffers of at least " + std::to_string(frame) +
           " bytes; add bsize=" + std::to_string(frame) +
           " (or more) to the vdev on both ends (it has " + std::to_string(bsize) + ")";
  }
  if (driver == "net_af_packet") {
    const uint32_t framesz = DevargUint(device, "framesz", kAfPacketDefaultFramesz);
    const uint32_t blocksz = DevargUint(device, "blocksz", 4096);
    if (framesz == 0 || blocksz % framesz != 0) {
      // The driver finds ring frames at multiples of framesz, the kernel packs
      // whole frames into each block: unless they agree, nothing is sent.
      return "net_af_packet's blocksz (" + std::to_string(blocksz) +
             ") must be a multiple of its framesz (" + std::to_string(framesz) + ")";
    }
    if (frame + kTpacket2Header > framesz) {
      return "an MTU of " + m + " needs net_af_packet ring frames of at least " +
             std::to_string(frame + kTpacket2Header) +
             " bytes; add framesz= and blocksz= (a multiple of the page size, at least framesz) "
             "to the vdev (framesz is " +
             std::to_string(framesz) + ")";
    }
    if (mtu <= 1500) return "";
    const std::string iface = Devarg(device, "iface");
    const uint32_t kernel = KernelMtu(iface);
    if (kernel < mtu) {
      return "the MTU of " + iface + " is " + std::to_string(kernel) + ", below " + m +
             ": the kernel would drop larger frames; set it first (ip link set " + iface + " mtu " +
             m + ", and the same on its peer)";
    }
    return "";
  }
  return "";
}

}  // namespace catnip
