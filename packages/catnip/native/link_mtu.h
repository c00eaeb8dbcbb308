// MTUs above what a virtual driver reports. DPDK 22.11's net_memif and
// net_af_packet both report a 1500-byte limit (max_rx_pktlen 1518), yet carry
// larger frames when their buffers are large enough: a memif link's MTU is what
// both ends set, an af_packet port's is its kernel interface's. Catnip then
// leaves the ethdev MTU alone and checks the real limits itself.
#pragma once

#include <cstdint>
#include <string>

struct rte_device;

namespace catnip {

// Whether `driver` carries frames above the MTU it reports to ethdev.
bool MtuBeyondEthdev(const std::string& driver);

// Why `mtu` cannot work on this device (empty when it can): the buffer size of
// memif (`bsize`), the frame size of af_packet (`framesz`, and a `blocksz`
// that is a multiple of it) or the MTU of the kernel interface behind it.
// Call in the port's network namespace.
std::string LinkMtuProblem(const std::string& driver, const rte_device* device, uint32_t mtu);

// The data room an mbuf of this device needs at least: af_packet refuses a
// pool whose mbufs cannot hold one whole ring frame (framesz minus its header).
uint32_t MinMbufData(const std::string& driver, const rte_device* device);

}  // namespace catnip
