#include "bell.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "futex.h"
#include "segment.h"

namespace catmem {

namespace {

constexpr const char* kBellDir = "/dev/shm/";

uint64_t NewNonce() {
  uint64_t n = 0;
  if (getrandom(&n, sizeof n, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof n))
    n = static_cast<uint64_t>(MonoNs()) * 0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(&n);
  return n;
}

bool SameFile(int fd, const std::string& path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

std::string BellPath(int32_t pid, uint64_t nonce) {
  char tail[64];
  snprintf(tail, sizeof tail, "%" PRId32 ".%016" PRIx64, pid, nonce);
  return std::string(kBellDir) + kBellPrefix + tail;
}

Bell::Bell() {
  // FIFOs of killed processes would pile up (each name is new): sweep them
  // whenever an instance makes its own.
  RemoveStaleBells();
  pid_ = static_cast<int32_t>(getpid());
  for (int attempt = 0;; attempt++) {
    nonce_ = NewNonce();
    path_ = BellPath(pid_, nonce_);
    if (mkfifo(path_.c_str(), 0600) != 0) {
      const int err = errno;
      if (err == EEXIST && attempt < 8) continue;
      throw SysError{err, "cannot create the wake-up FIFO " + path_ + ": " + strerror(err)};
    }
    // Read and write: never end of file, never blocks to open.
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd_ < 0) {
      const int err = errno;
      unlink(path_.c_str());
      throw SysError{err, "cannot open the wake-up FIFO " + path_ + ": " + strerror(err)};
    }
    // A `clean` between mkfifo and open may have removed it as stale.
    if (SameFile(fd_, path_)) return;
    close(fd_);
    fd_ = -1;
    if (attempt >= 8) throw SysError{EAGAIN, "the wake-up FIFO " + path_ + " keeps vanishing"};
  }
}

Bell::~Bell() {
  if (fd_ >= 0) {
    if (SameFile(fd_, path_)) unlink(path_.c_str());
    close(fd_);
  }
}

void Bell::Drain() {
  uint8_t buf[256];
  for (;;) {
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n == static_cast<ssize_t>(sizeof buf)) continue;
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

void Bell::Ring() {
  const uint8_t one = 1;
  while (write(fd_, &one, 1) < 0 && errno == EINTR) {
  }
}

PeerFifo::~PeerFifo() { close(fd); }

namespace {

// Null when it cannot be opened: ENXIO when nobody reads it (its owner is gone;
// the peer's liveness check covers that), EMFILE when out of descriptors (the
// owner's heartbeat finds what is ready). Anything but a FIFO is not written to.
std::shared_ptr<PeerFifo> OpenPeerFifo(int32_t pid, uint64_t nonce) {
  // Leaked on purpose: ringers may outlive static destruction at exit. Every
  // environment (worker) of the process shares it, hence the lock.
  static auto* mu = new std::mutex;
  static auto* open_fifos = new std::map<std::pair<int32_t, uint64_t>, std::weak_ptr<PeerFifo>>;
  static size_t prune_at = 64;
  std::lock_guard<std::mutex> lock(*mu);
  std::weak_ptr<PeerFifo>& slot = (*open_fifos)[{pid, nonce}];
  if (auto fifo = slot.lock()) return fifo;
  int fd = open(BellPath(pid, nonce).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))) {
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    open_fifos->erase({pid, nonce});
    return nullptr;
  }
  auto fifo = std::make_shared<PeerFifo>(fd);
  slot = fifo;
  if (open_fifos->size() >= prune_at) {
    for (auto it = open_fifos->begin(); it != open_fifos->end();)
      it = it->second.expired() ? open_fifos->erase(it) : std::next(it);
    prune_at = std::max<size_t>(64, 2 * open_fifos->size());
  }
  return fifo;
}

}  // namespace

void BellRinger::RingNow(WakeLine* line) {
  // One ring per sleep: whoever swaps the word to 0 writes.
  if (line->loop_wants.exchange(0, std::memory_order_seq_cst) == 0) return;
  const int32_t pid = line->loop_pid.load(std::memory_order_relaxed);
  const uint64_t nonce = line->loop_nonce.load(std::memory_order_relaxed);
  if (fifo_ == nullptr || pid != pid_ || nonce != nonce_) {
    fifo_.reset();
    pid_ = pid;
    nonce_ = nonce;
    fifo_ = OpenPeerFifo(pid, nonce);
    if (fifo_ == nullptr) return;
  }
  // EAGAIN: the FIFO is full, a wake is pending anyway. EPIPE cannot happen
  // while the owner holds it open; Node ignores SIGPIPE should it go meanwhile.
  const uint8_t one = 1;
  while (write(fifo_->fd, &one, 1) < 0 && errno == EINTR) {
  }
}

std::vector<std::string> RemoveStaleBells() {
  std::vector<std::string> removed;
  DIR* dir = opendir(kBellDir);
  if (dir == nullptr) return removed;
  const size_t prefix = strlen(kBellPrefix);
  while (dirent* ent = readdir(dir)) {
    if (strncmp(ent->d_name, kBellPrefix, prefix) != 0) continue;
    const std::string path = std::string(kBellDir) + ent->d_name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      close(fd);  // its owner holds it open: alive
      continue;
    }
    if (errno == ENXIO && unlink(path.c_str()) == 0) removed.emplace_back(ent->d_name);
  }
  closedir(dir);
  return removed;
}

}  // namespace catmem
