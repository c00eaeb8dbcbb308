#include "names.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace catloop {

using catmem::Mapping;
using catmem::SysError;

namespace {

bool PortConflict(const std::string& ip, uint32_t port) {
  if (ip != "0.0.0.0") return NameLive(PipeName("0.0.0.0", port));
  // A wildcard listener takes the port on every address: any live name on it conflicts.
  const std::string suffix = ":" + std::to_string(port);
  const std::string prefix = std::string(catmem::kPrefix) + kNamePrefix;
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return false;
  bool conflict = false;
  while (dirent* e = readdir(dir)) {
    const std::string file = e->d_name;
    if (file.size() <= prefix.size() + suffix.size() ||
        file.compare(0, prefix.size(), prefix) != 0 ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    if (NameLive(file.substr(strlen(catmem::kPrefix)))) {
      conflict = true;
      break;
    }
  }
  closedir(dir);
  return conflict;
}

std::shared_ptr<Mapping> TryCreate(const std::string& name, uint64_t ring_size) {
  try {
    return catmem::CreateSegment(name, ring_size, catmem::Place{});
  } catch (const SysError& e) {
    if (e.err() == EEXIST) return nullptr;
    throw;
  }
}

std::atomic<uint32_t> ephemeral_cursor{0};

}  // namespace

uint32_t ParseIp(const std::string& ip) {
  in_addr a;
  if (ip.size() > 15 || inet_pton(AF_INET, ip.c_str(), &a) != 1)
    throw SysError{EINVAL, "not a dotted IPv4 address: " + ip};
  return a.s_addr;
}

std::string FormatIp(uint32_t ip_be) {
  char buf[INET_ADDRSTRLEN];
  in_addr a;
  a.s_addr = ip_be;
  if (inet_ntop(AF_INET, &a, buf, sizeof buf) == nullptr) return "0.0.0.0";
  return buf;
}

std::shared_ptr<Mapping> ClaimAddress(const std::string& ip, uint32_t port, uint64_t ring_size,
                                      uint32_t first_ephemeral, bool check_wildcard,
                                      uint32_t* port_out) {
  ParseIp(ip);
  if (port > 65535) throw SysError{EINVAL, "port must be 0-65535"};
  if (port != 0) {
    if (check_wildcard && PortConflict(ip, port))
      throw SysError{EADDRINUSE, ip + ":" + std::to_string(port) +
                                     " is in use (by a listener on the same port)"};
    auto map = TryCreate(PipeName(ip, port), ring_size);
    if (!map) throw SysError{EADDRINUSE, ip + ":" + std::to_string(port) + " is in use"};
    *port_out = port;
    return map;
  }
  if (first_ephemeral < 1 || first_ephemeral > 65535)
    throw SysError{EINVAL, "first ephemeral port must be 1-65535"};
  const uint32_t count = 65536 - first_ephemeral;
  uint32_t start = ephemeral_cursor.load(std::memory_order_relaxed);
  if (start == 0) start = static_cast<uint32_t>(getpid()) * 2654435761u;  // processes start apart
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t candidate = first_ephemeral + (start + k) % count;
    if (check_wildcard && PortConflict(ip, candidate)) continue;
    auto map = TryCreate(PipeName(ip, candidate), ring_size);
    if (map) {
      ephemeral_cursor.store((start + k + 1) | 0x80000000u, std::memory_order_relaxed);
      *port_out = candidate;
      return map;
    }
  }
  throw SysError{EADDRNOTAVAIL, "every ephemeral port from " + std::to_string(first_ephemeral) +
                                    " on " + ip + " is in use"};
}

bool OutOfDescriptors(int err) { return err == EMFILE || err == ENFILE; }

std::shared_ptr<Mapping> MapExisting(const std::string& name) {
  errno = 0;
  std::shared_ptr<Mapping> map = catmem::MapExisting(name, catmem::Place{});
  // Out of descriptors is this process's trouble, not a missing segment.
  if (!map && OutOfDescriptors(errno)) {
    const int err = errno;
    throw SysError{err, "cannot open " + name + ": " + strerror(err)};
  }
  return map;
}

bool NameLive(const std::string& name) { return catmem::SegmentLive(name, catmem::Place{}); }

void RemoveIfStale(const std::string& name) { catmem::RemoveIfStale(name, catmem::Place{}); }

bool ConnectionWaiting(const std::string& name, uint64_t nonce) {
  std::shared_ptr<Mapping> map = MapExisting(name);
  if (!map) return false;
  const Block* b = BlockOf(map->base());
  return b->magic == kConnectionMagic && b->nonce == nonce &&
         b->state.load(std::memory_order_acquire) == kConnecting;
}

}  // namespace catloop
