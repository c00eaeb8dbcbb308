// Naming, creating, joining, leaving and removing the shared-memory object of a
// pipe. Every state change of the header happens under the setup lock byte, and
// each open end holds its own lock byte, so a crashed process is noticed by the
// kernel releasing its locks: no timeouts, no reliance on pids never being reused.
#pragma once

#include <demi/error.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"

namespace catmem {

// A failure of a pipe operation: @demi/native's error, which the addon
// boundary turns into a JS error that the TS layer wraps in a DemiError.
struct SysError : demi::Error {
  SysError(int err, std::string message) : demi::Error(err, "catmem", std::move(message)) {}
};

// Where segments live: POSIX shared memory (shm_open) when dir is empty, else
// regular files in dir (for another tmpfs mount chosen by the user).
struct Place {
  std::string dir;
};

// One process's mapping of one segment. Unmaps and closes on destruction, which
// also drops any lock this open file description holds.
class Mapping {
 public:
  Mapping(int fd, void* base, uint64_t size, std::string name, Place place);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  Header* header() const { return static_cast<Header*>(base_); }
  uint8_t* base() const { return static_cast<uint8_t*>(base_); }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  const Place& place() const { return place_; }

 private:
  int fd_;
  void* base_;
  uint64_t size_;
  std::string name_;
  Place place_;
};

bool ValidName(const std::string& name);

// Reserves (fallocate) bytes of the object, so touching them cannot SIGBUS on
// a full tmpfs; 0 or the errno (ENOSPC). A file system without fallocate
// counts as success.
int ReserveRange(int fd, uint64_t offset, uint64_t length);
// Gives bytes of the object back (punches a hole): every process mapping them
// sees zeros afterwards and stops counting their pages.
void ReleaseRange(int fd, uint64_t offset, uint64_t length);

// Takes the open-file-description lock on one byte of the segment (waiting
// for it when `wait`); returns 0 or the errno (EAGAIN: someone else holds it).
int LockByte(int fd, off_t byte, bool wait);
void UnlockByte(int fd, off_t byte);

// Creates pipe `name` and returns end 0. EEXIST if a live pipe has the name;
// a pipe none of whose ends is alive is taken over.
std::shared_ptr<Mapping> CreateSegment(const std::string& name, uint64_t ring_size,
                                       const Place& place);
// Joins pipe `name` as end 1. ENOENT if absent (or its creator is gone), EBUSY
// if it already has its second end.
std::shared_ptr<Mapping> OpenSegment(const std::string& name, const Place& place);
// Marks end `side` closed (end of file for the peer) and, when no other end is
// open, removes the name. The mapping itself stays valid until released.
void CloseEnd(Mapping& map, int side);
// True when the end on `side` is marked open but its process no longer holds
// the end's lock byte: it died without closing.
bool EndDied(const Mapping& map, int side);

// Whether segment `name` exists and one of its ends is alive: the one
// liveness rule, shared with catloop.
bool SegmentLive(const std::string& name, const Place& place);
// Removes segment `name` if it exists and no end of it is alive; leaves it
// when another process holds its setup lock (that process is alive and decides).
void RemoveIfStale(const std::string& name, const Place& place);
// Maps an existing, ready segment without joining it as either end (catloop's
// clients write into a listener's control ring). nullptr when there is none.
std::shared_ptr<Mapping> MapExisting(const std::string& name, const Place& place);

struct PipeInfo {
  std::string name;
  uint64_t ring_size = 0;
  uint32_t state = 0;  // SegmentState, or 99 when the header is unreadable
  uint32_t end_state[2] = {0, 0};
  int32_t pid[2] = {0, 0};
  bool alive[2] = {false, false};
  bool stale = false;  // no end alive: safe to remove
};

std::vector<PipeInfo> ListSegments(const Place& place);
// Removes every stale segment; returns the names removed.
std::vector<std::string> RemoveStaleSegments(const Place& place);

}  // namespace catmem
