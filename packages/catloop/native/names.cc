#include "names.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace catloop {

using catmem::Header;
using catmem::Mapping;
using catmem::SysError;

namespace {

std::string ObjectPath(const std::string& name) {
  return "/" + std::string(catmem::kPrefix) + name;
}

// An fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// A read-only view of a segment's header page.
class HeaderPage {
 public:
  explicit HeaderPage(int fd) {
    struct stat st;
    if (fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= catmem::kHeaderSize) {
      file_size_ = static_cast<uint64_t>(st.st_size);
      base_ = mmap(nullptr, catmem::kHeaderSize, PROT_READ, MAP_SHARED, fd, 0);
    }
  }
  ~HeaderPage() {
    if (base_ != MAP_FAILED) munmap(base_, catmem::kHeaderSize);
  }
  HeaderPage(const HeaderPage&) = delete;
  HeaderPage& operator=(const HeaderPage&) = delete;
  const Header* header() const {
    return base_ == MAP_FAILED ? nullptr : static_cast<const Header*>(base_);
  }
  const Block* block() const { return base_ == MAP_FAILED ? nullptr : BlockOf(base_); }
  uint64_t file_size() const { return file_size_; }

 private:
  void* base_ = MAP_FAILED;
  uint64_t file_size_ = 0;
};

bool HeldByOther(int fd, off_t byte) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return true;  // cannot tell: never call a live end dead
  return fl.l_type != F_UNLCK;
}

// Same test as catmem's: an end is alive while marked open and its lock byte is held.
bool AnyEndLive(int fd, const HeaderPage& page) {
  const Header* h = page.header();
  if (h == nullptr || h->magic != catmem::kMagic)
    return HeldByOther(fd, catmem::kLockEnd0) || HeldByOther(fd, catmem::kLockEnd1);
  if (h->state.load(std::memory_order_acquire) == catmem::kRemoved) return false;
  return (h->end[0].state.load(std::memory_order_acquire) == catmem::kOpen &&
          HeldByOther(fd, catmem::kLockEnd0)) ||
         (h->end[1].state.load(std::memory_order_acquire) == catmem::kOpen &&
          HeldByOther(fd, catmem::kLockEnd1));
}

// A header that a segment fully created by catmem would have.
bool ValidReadyHeader(const Header* h, uint64_t file_size) {
  if (h == nullptr || h->magic != catmem::kMagic || h->version != catmem::kVersion) return false;
  if (h->state.load(std::memory_order_acquire) != catmem::kReady) return false;
  const uint64_t ring = h->ring_size;
  return h->header_size == catmem::kHeaderSize && catmem::ValidRingSize(ring) &&
         h->segment_size == catmem::SegmentSize(ring) && file_size >= catmem::SegmentSize(ring);
}

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
    if (e.err == EEXIST) return nullptr;
    throw;
  }
}

// Whether the name still refers to the object open on fd.
bool SameObject(int fd, const std::string& name) {
  struct stat a;
  struct stat b;
  const std::string path = "/dev/shm" + ObjectPath(name);
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
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

std::shared_ptr<Mapping> MapExisting(const std::string& name) {
  if (!catmem::ValidName(name)) return nullptr;
  Fd fd(shm_open(ObjectPath(name).c_str(), O_RDWR | O_CLOEXEC, 0));
  if (fd.get() < 0) return nullptr;
  uint64_t ring_size = 0;
  {
    HeaderPage page(fd.get());
    if (!ValidReadyHeader(page.header(), page.file_size())) return nullptr;
    ring_size = page.header()->ring_size;
  }
  const uint64_t size = catmem::SegmentSize(ring_size);
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) return nullptr;
  auto map = std::make_shared<Mapping>(fd.release(), base, size, name, catmem::Place{});
  // Re-read through the mapping we will use: its ring size decides every offset.
  if (map->header()->ring_size != ring_size) return nullptr;
  return map;
}

bool NameLive(const std::string& name) {
  if (!catmem::ValidName(name)) return false;
  Fd fd(shm_open(ObjectPath(name).c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  HeaderPage page(fd.get());
  return AnyEndLive(fd.get(), page);
}

void RemoveIfStale(const std::string& name) {
  if (!catmem::ValidName(name)) return;
  Fd fd(shm_open(ObjectPath(name).c_str(), O_RDWR | O_CLOEXEC, 0));
  if (fd.get() < 0) return;
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = catmem::kLockSetup;
  fl.l_len = 1;
  // Non-blocking: whoever holds the setup lock is alive and will decide.
  if (fcntl(fd.get(), F_OFD_SETLK, &fl) != 0) return;
  {
    HeaderPage page(fd.get());
    const Header* h = page.header();
    // Already removed: the name may belong to a newer segment by now.
    if (h != nullptr && h->magic == catmem::kMagic &&
        h->state.load(std::memory_order_acquire) == catmem::kRemoved)
      return;
    if (!AnyEndLive(fd.get(), page) && SameObject(fd.get(), name)) {
      // As catmem does: mark it removed for anyone still holding it open, then unlink.
      void* base =
          mmap(nullptr, catmem::kHeaderSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
      if (base != MAP_FAILED) {
        Header* h = static_cast<Header*>(base);
        if (h->magic == catmem::kMagic) h->state.store(catmem::kRemoved, std::memory_order_release);
        munmap(base, catmem::kHeaderSize);
      }
      shm_unlink(ObjectPath(name).c_str());
    }
  }
  // Closing the fd drops the lock.
}

bool ConnectionWaiting(const std::string& name, uint64_t nonce) {
  if (!catmem::ValidName(name)) return false;
  Fd fd(shm_open(ObjectPath(name).c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  HeaderPage page(fd.get());
  const Block* b = page.block();
  return ValidReadyHeader(page.header(), page.file_size()) && b->magic == kConnectionMagic &&
         b->nonce == nonce && b->state.load(std::memory_order_acquire) == kConnecting;
}

}  // namespace catloop
