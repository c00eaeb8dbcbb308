#include "segment.h"

#include <demi/fd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "futex.h"

namespace catmem {

namespace {

// A write lock (or unlock) request for one byte of the segment file.
struct flock OneByte(short type, off_t byte) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return fl;
}

}  // namespace

int LockByte(int fd, off_t byte, bool wait) {
  struct flock fl = OneByte(F_WRLCK, byte);
  for (;;) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

void UnlockByte(int fd, off_t byte) {
  struct flock fl = OneByte(F_UNLCK, byte);
  fcntl(fd, F_OFD_SETLK, &fl);
}

namespace {

std::string ObjectName(const std::string& name) { return std::string(kPrefix) + name; }

std::string Describe(const std::string& name, const Place& place) {
  return place.dir.empty() ? "/dev/shm/" + ObjectName(name) : place.dir + "/" + ObjectName(name);
}

int OpenObject(const std::string& name, const Place& place, int flags) {
  if (place.dir.empty()) return shm_open(("/" + ObjectName(name)).c_str(), flags | O_CLOEXEC, 0600);
  return open((place.dir + "/" + ObjectName(name)).c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void UnlinkObject(const std::string& name, const Place& place) {
  if (place.dir.empty()) {
    shm_unlink(("/" + ObjectName(name)).c_str());
  } else {
    unlink((place.dir + "/" + ObjectName(name)).c_str());
  }
}

// Whether another open file description (any process, this one included) holds
// the byte. When the kernel cannot tell, says yes: never declare a live peer dead.
bool HeldByOther(int fd, off_t byte) {
  struct flock fl = OneByte(F_WRLCK, byte);
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return true;
  return fl.l_type != F_UNLCK;
}

using Fd = demi::UniqueFd;

class SetupLock {
 public:
  explicit SetupLock(int fd) : fd_(fd) {
    int err = LockByte(fd, kLockSetup, true);
    if (err != 0)
      throw SysError{err, std::string("cannot take the pipe's setup lock: ") + strerror(err)};
  }
  ~SetupLock() { UnlockByte(fd_, kLockSetup); }
  SetupLock(const SetupLock&) = delete;
  SetupLock& operator=(const SetupLock&) = delete;

 private:
  int fd_;
};

class HeaderView {
 public:
  HeaderView(int fd, bool writable) {
    base_ = mmap(nullptr, kHeaderSize, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                 fd, 0);
  }
  ~HeaderView() {
    if (base_ != MAP_FAILED) munmap(base_, kHeaderSize);
  }
  HeaderView(const HeaderView&) = delete;
  HeaderView& operator=(const HeaderView&) = delete;
  Header* get() const { return base_ == MAP_FAILED ? nullptr : static_cast<Header*>(base_); }

 private:
  void* base_;
};

uint64_t FileSize(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

enum class Verdict { kLive, kStale, kRemoved };

bool EndLive(const Header* h, int fd, int side) {
  return h->end[side].state.load(std::memory_order_acquire) == kOpen &&
         HeldByOther(fd, side == 0 ? kLockEnd0 : kLockEnd1);
}

// Decides what an existing object is. Call with the setup lock held.
Verdict Inspect(int fd) {
  bool locked = HeldByOther(fd, kLockEnd0) || HeldByOther(fd, kLockEnd1);
  if (FileSize(fd) < kHeaderSize) return locked ? Verdict::kLive : Verdict::kStale;
  HeaderView view(fd, false);
  const Header* h = view.get();
  if (h == nullptr) return locked ? Verdict::kLive : Verdict::kStale;
  if (h->magic == kMagic && h->state.load(std::memory_order_acquire) == kRemoved)
    return Verdict::kRemoved;
  if (h->magic == kMagic && h->version == kVersion) {
    return EndLive(h, fd, 0) || EndLive(h, fd, 1) ? Verdict::kLive : Verdict::kStale;
  }
  return locked ? Verdict::kLive : Verdict::kStale;
}

// Marks a stale object removed, so anyone holding it open (and waiting for the
// setup lock) knows the name now belongs to someone else, then unlinks it.
void RemoveStale(int fd, const std::string& name, const Place& place) {
  if (FileSize(fd) < kHeaderSize && ftruncate(fd, kHeaderSize) != 0) {
    UnlinkObject(name, place);
    return;
  }
  {
    HeaderView view(fd, true);
    if (Header* h = view.get()) {
      h->magic = kMagic;
      h->state.store(kRemoved, std::memory_order_release);
    }
  }
  UnlinkObject(name, place);
}

void* MapAll(int fd, uint64_t size) {
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return base;
}

// Sizes the object and reserves its header and the first bytes of each ring
// now (tmpfs would otherwise raise SIGBUS on first touch when full); producers
// reserve more of their ring as they come to need it (ReserveRange).
int Reserve(int fd, uint64_t ring_size) {
  if (ftruncate(fd, static_cast<off_t>(SegmentSize(ring_size))) != 0) return errno;
  int err = ReserveRange(fd, 0, kHeaderSize);
  for (int ring = 0; ring < 2 && err == 0; ring++)
    err = ReserveRange(fd, RingOffset(ring, ring_size), InitialReserve(ring_size));
  return err;
}

}  // namespace

int ReserveRange(int fd, uint64_t offset, uint64_t length) {
  for (;;) {
    if (fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0) return 0;
    if (errno == EINTR) continue;
    // Not supported by this file system: pages come on first touch, as before.
    if (errno == EOPNOTSUPP || errno == ENOSYS) return 0;
    return errno;
  }
}

void ReleaseRange(int fd, uint64_t offset, uint64_t length) {
  fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
            static_cast<off_t>(length));
}

Mapping::Mapping(int fd, void* base, uint64_t size, std::string name, Place place)
    : fd_(fd), base_(base), size_(size), name_(std::move(name)), place_(std::move(place)) {}

Mapping::~Mapping() {
  munmap(base_, size_);
  close(fd_);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::shared_ptr<Mapping> CreateSegment(const std::string& name, uint64_t ring_size,
                                       const Place& place) {
  if (!ValidName(name))
    throw SysError{EINVAL, "pipe name must be 1-200 characters of [A-Za-z0-9._:-]"};
  if (!ValidRingSize(ring_size))
    throw SysError{EINVAL, "ring size must be a power of two from 4 KiB to 256 MiB"};
  const uint64_t size = SegmentSize(ring_size);
  for (int attempt = 0; attempt < 16; attempt++) {
    Fd fd(OpenObject(name, place, O_RDWR | O_CREAT | O_EXCL));
    if (fd.get() >= 0) {
      fchmod(fd.get(), 0600);
      SetupLock setup(fd.get());
      int err = LockByte(fd.get(), kLockEnd0, false);
      if (err == 0) err = Reserve(fd.get(), ring_size);
      void* base = err == 0 ? MapAll(fd.get(), size) : MAP_FAILED;
      if (err == 0 && base == MAP_FAILED) err = errno;
      if (err != 0) {
        UnlinkObject(name, place);
        throw SysError{err == ENOSPC ? ENOSPC : err,
                       "cannot create " + Describe(name, place) + ": " + strerror(err)};
      }
      Header* h = static_cast<Header*>(base);
      h->version = kVersion;
      h->header_size = kHeaderSize;
      h->ring_size = ring_size;
      h->segment_size = size;
      h->end[0].pid = static_cast<int32_t>(getpid());
      h->end[0].state.store(kOpen, std::memory_order_relaxed);
      h->magic = kMagic;
      h->state.store(kReady, std::memory_order_release);
      return std::make_shared<Mapping>(fd.release(), base, size, name, place);
    }
    if (errno != EEXIST) {
      int err = errno;
      throw SysError{err, "cannot create " + Describe(name, place) + ": " + strerror(err)};
    }
    Fd old(OpenObject(name, place, O_RDWR));
    if (old.get() < 0) {
      if (errno == ENOENT) continue;  // removed meanwhile: try again
      int err = errno;
      throw SysError{err == EACCES ? EEXIST : err,
                     "a pipe named " + name + " exists and cannot be opened: " + strerror(err)};
    }
    SetupLock setup(old.get());
    switch (Inspect(old.get())) {
      case Verdict::kRemoved:
        continue;
      case Verdict::kLive:
        throw SysError{EEXIST,
                       "a live pipe named " + name + " exists (" + Describe(name, place) + ")"};
      case Verdict::kStale:
        RemoveStale(old.get(), name, place);
        continue;
    }
  }
  throw SysError{EEXIST, "pipe " + name + " keeps being re-created by another process"};
}

std::shared_ptr<Mapping> OpenSegment(const std::string& name, const Place& place) {
  if (!ValidName(name))
    throw SysError{EINVAL, "pipe name must be 1-200 characters of [A-Za-z0-9._:-]"};
  Fd fd(OpenObject(name, place, O_RDWR));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) throw SysError{ENOENT, "no pipe named " + name + " (createPipe it first)"};
    throw SysError{err, "cannot open " + Describe(name, place) + ": " + strerror(err)};
  }
  SetupLock setup(fd.get());
  const uint64_t file_size = FileSize(fd.get());
  if (file_size < kHeaderSize)
    throw SysError{
        ENOENT,
        "pipe " + name + " was never completely created (remove it with `demi-catmem clean`)"};
  uint64_t ring_size = 0;
  {
    HeaderView view(fd.get(), false);
    const Header* h = view.get();
    if (h == nullptr) throw SysError{errno, "cannot map " + Describe(name, place)};
    if (h->magic != kMagic)
      throw SysError{EINVAL, Describe(name, place) + " is not a catmem pipe (bad magic)"};
    uint32_t state = h->state.load(std::memory_order_acquire);
    if (state == kRemoved) throw SysError{ENOENT, "no pipe named " + name + " (it was closed)"};
    if (h->version != kVersion)
      throw SysError{EINVAL, "pipe " + name + " has layout version " + std::to_string(h->version) +
                                 "; this build speaks " + std::to_string(kVersion)};
    if (state != kReady) throw SysError{ENOENT, "pipe " + name + " was never completely created"};
    ring_size = h->ring_size;
    if (h->header_size != kHeaderSize || !ValidRingSize(ring_size) ||
        h->segment_size != SegmentSize(ring_size) || file_size < SegmentSize(ring_size)) {
      throw SysError{EINVAL, Describe(name, place) + " has an inconsistent header"};
    }
    if (!EndLive(h, fd.get(), 0))
      throw SysError{ENOENT, "pipe " + name + " has no creator any more (it closed or exited)"};
    if (h->end[1].state.load(std::memory_order_acquire) != kVacant)
      throw SysError{EBUSY, "pipe " + name + " already has both ends"};
  }
  if (LockByte(fd.get(), kLockEnd1, false) != 0)
    throw SysError{EBUSY, "pipe " + name + " already has both ends"};
  const uint64_t size = SegmentSize(ring_size);
  void* base = MapAll(fd.get(), size);
  if (base == MAP_FAILED) {
    int err = errno;
    UnlockByte(fd.get(), kLockEnd1);
    throw SysError{err, "cannot map " + Describe(name, place) + ": " + strerror(err)};
  }
  Header* h = static_cast<Header*>(base);
  h->end[1].pid = static_cast<int32_t>(getpid());
  h->end[1].state.store(kOpen, std::memory_order_release);
  return std::make_shared<Mapping>(fd.release(), base, size, name, place);
}

void CloseEnd(Mapping& map, int side) {
  Header* h = map.header();
  const int peer = 1 - side;
  h->end[side].state.store(kClosed, std::memory_order_seq_cst);
  h->wake[peer].seq.fetch_add(1, std::memory_order_seq_cst);
  FutexWakeShared(&h->wake[peer].seq);
  try {
    SetupLock setup(map.fd());
    UnlockByte(map.fd(), side == 0 ? kLockEnd0 : kLockEnd1);
    if (!EndLive(h, map.fd(), peer) && h->state.load(std::memory_order_acquire) != kRemoved) {
      h->state.store(kRemoved, std::memory_order_release);
      UnlinkObject(map.name(), map.place());
    }
  } catch (const SysError&) {
    // Without the setup lock the name stays; `demi-catmem clean` removes it.
    UnlockByte(map.fd(), side == 0 ? kLockEnd0 : kLockEnd1);
  }
}

bool EndDied(const Mapping& map, int side) {
  const Header* h = map.header();
  return h->end[side].state.load(std::memory_order_acquire) == kOpen &&
         !HeldByOther(map.fd(), side == 0 ? kLockEnd0 : kLockEnd1);
}

namespace {

// Whether the name still refers to the object open on fd.
bool SameObject(int fd, const std::string& name, const Place& place) {
  struct stat a;
  struct stat b;
  return fstat(fd, &a) == 0 && stat(Describe(name, place).c_str(), &b) == 0 &&
         a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// A header that a segment fully created here would have.
bool ValidReadyHeader(const Header* h, uint64_t file_size) {
  if (h == nullptr || h->magic != kMagic || h->version != kVersion) return false;
  if (h->state.load(std::memory_order_acquire) != kReady) return false;
  const uint64_t ring = h->ring_size;
  return h->header_size == kHeaderSize && ValidRingSize(ring) &&
         h->segment_size == SegmentSize(ring) && file_size >= SegmentSize(ring);
}

}  // namespace

bool SegmentLive(const std::string& name, const Place& place) {
  if (!ValidName(name)) return false;
  Fd fd(OpenObject(name, place, O_RDONLY));
  return fd.valid() && Inspect(fd.get()) == Verdict::kLive;
}

void RemoveIfStale(const std::string& name, const Place& place) {
  if (!ValidName(name)) return;
  Fd fd(OpenObject(name, place, O_RDWR));
  if (!fd.valid()) return;
  // Non-blocking: whoever holds the setup lock is alive and will decide.
  if (LockByte(fd.get(), kLockSetup, false) != 0) return;
  // A removed one may have had its name taken by a newer segment since.
  if (Inspect(fd.get()) == Verdict::kStale && SameObject(fd.get(), name, place)) {
    RemoveStale(fd.get(), name, place);
  }
  UnlockByte(fd.get(), kLockSetup);
}

std::shared_ptr<Mapping> MapExisting(const std::string& name, const Place& place) {
  if (!ValidName(name)) return nullptr;
  Fd fd(OpenObject(name, place, O_RDWR));
  if (!fd.valid()) return nullptr;
  const uint64_t file_size = FileSize(fd.get());
  if (file_size < kHeaderSize) return nullptr;  // reading past the end would be SIGBUS
  uint64_t ring_size = 0;
  {
    HeaderView view(fd.get(), false);
    if (!ValidReadyHeader(view.get(), file_size)) return nullptr;
    ring_size = view.get()->ring_size;
  }
  const uint64_t size = SegmentSize(ring_size);
  void* base = MapAll(fd.get(), size);
  if (base == MAP_FAILED) return nullptr;
  auto map = std::make_shared<Mapping>(fd.release(), base, size, name, place);
  // Re-read through the mapping to be used: its ring size decides every offset.
  if (map->header()->ring_size != ring_size) return nullptr;
  return map;
}

namespace {

bool ReadInfo(int fd, PipeInfo& info) {
  const bool locked[2] = {HeldByOther(fd, kLockEnd0), HeldByOther(fd, kLockEnd1)};
  info.alive[0] = locked[0];
  info.alive[1] = locked[1];
  if (FileSize(fd) < kHeaderSize) {
    info.state = 99;
  } else {
    HeaderView view(fd, false);
    const Header* h = view.get();
    if (h == nullptr || h->magic != kMagic || h->version != kVersion) {
      info.state = 99;
    } else {
      info.state = h->state.load(std::memory_order_acquire);
      info.ring_size = h->ring_size;
      for (int i = 0; i < 2; i++) {
        info.end_state[i] = h->end[i].state.load(std::memory_order_acquire);
        info.pid[i] = h->end[i].pid;
        info.alive[i] = locked[i] && info.end_state[i] == kOpen;
      }
    }
  }
  info.stale = !info.alive[0] && !info.alive[1] && !(info.state == 99 && (locked[0] || locked[1]));
  return true;
}

std::vector<std::string> Names(const Place& place) {
  std::vector<std::string> names;
  DIR* dir = opendir(place.dir.empty() ? "/dev/shm" : place.dir.c_str());
  if (dir == nullptr) return names;
  const size_t prefix = strlen(kPrefix);
  while (dirent* e = readdir(dir)) {
    std::string file = e->d_name;
    if (file.size() <= prefix || file.compare(0, prefix, kPrefix) != 0) continue;
    std::string name = file.substr(prefix);
    if (ValidName(name)) names.push_back(name);
  }
  closedir(dir);
  return names;
}

}  // namespace

std::vector<PipeInfo> ListSegments(const Place& place) {
  std::vector<PipeInfo> out;
  for (const std::string& name : Names(place)) {
    Fd fd(OpenObject(name, place, O_RDONLY));
    if (fd.get() < 0) continue;
    PipeInfo info;
    info.name = name;
    ReadInfo(fd.get(), info);
    out.push_back(info);
  }
  return out;
}

std::vector<std::string> RemoveStaleSegments(const Place& place) {
  std::vector<std::string> removed;
  for (const std::string& name : Names(place)) {
    Fd fd(OpenObject(name, place, O_RDWR));
    if (fd.get() < 0) continue;
    try {
      SetupLock setup(fd.get());
      if (Inspect(fd.get()) != Verdict::kStale) continue;
      RemoveStale(fd.get(), name, place);
      removed.push_back(name);
    } catch (const SysError&) {
      // Could not lock it: leave it for the next run.
    }
  }
  return removed;
}

}  // namespace catmem
