#include "interface.h"

#include <demi/error.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace catpowder {

namespace {
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

void Ioctl(int fd, unsigned long request, ifreq* req, const std::string& name, const char* what) {
  if (ioctl(fd, request, req) != 0) {
    int err = errno;
    if (err == ENODEV) {
      throw demi::Error(ENODEV, "ioctl",
                        "no interface " + name + " in this network namespace; see: ip link show");
    }
    throw demi::Error(
        err, "ioctl",
        std::string("cannot read ") + what + " of " + name + ": " + demi::ErrnoText(err));
  }
}
}  // namespace

InterfaceInfo LookupInterface(const std::string& requested, int index) {
  InterfaceInfo info;
  if (!requested.empty()) {
    if (requested.size() >= IFNAMSIZ) {
      throw demi::Error(EINVAL, "if_nametoindex",
                        "interface name " + requested + " is longer than 15 characters");
    }
    unsigned idx = if_nametoindex(requested.c_str());
    if (idx == 0) {
      throw demi::Error(
          ENODEV, "if_nametoindex",
          "no interface " + requested + " in this network namespace; see: ip link show");
    }
    info.name = requested;
    info.index = static_cast<int>(idx);
  } else {
    char buf[IF_NAMESIZE] = {0};
    if (index <= 0 || if_indextoname(static_cast<unsigned>(index), buf) == nullptr) {
      throw demi::Error(ENODEV, "if_indextoname",
                        "no interface with index " + std::to_string(index) +
                            " in this network namespace; see: ip link show");
    }
    info.name = buf;
    info.index = index;
  }

  Fd sock{socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) {
    int err = errno;
    throw demi::Error(err, "socket",
                      "cannot open a socket to query interfaces: " + demi::ErrnoText(err));
  }
  ifreq req;
  std::memset(&req, 0, sizeof req);
  std::memcpy(req.ifr_name, info.name.c_str(), info.name.size());

  Ioctl(sock.fd, SIOCGIFHWADDR, &req, info.name, "the hardware address");
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    throw demi::Error(EINVAL, "ioctl",
                      "interface " + info.name + " is not Ethernet (link type " +
                          std::to_string(req.ifr_hwaddr.sa_family) +
                          "); catpowder needs an Ethernet interface such as a NIC or a veth");
  }
  std::memcpy(info.mac, req.ifr_hwaddr.sa_data, 6);

  Ioctl(sock.fd, SIOCGIFMTU, &req, info.name, "the MTU");
  info.mtu = static_cast<uint32_t>(req.ifr_mtu);

  Ioctl(sock.fd, SIOCGIFFLAGS, &req, info.name, "the flags");
  if ((req.ifr_flags & IFF_UP) == 0) {
    throw demi::Error(
        ENETDOWN, "ioctl",
        "interface " + info.name + " is down; bring it up with: ip link set " + info.name + " up");
  }
  return info;
}

}  // namespace catpowder
