// Wake-up FIFOs ("bells"): how a producer wakes a consumer's event loop
// directly. Each LibOS instance that waits asynchronously owns one FIFO in
// /dev/shm, polled by libuv on its JS thread; a peer writes one byte into it
// when it makes true what the consumer's loop waits for (WakeLine.loop_wants).
// A FIFO needs no socket and no listener: any process of the same user opens
// it by name, and it has a reader exactly while its owner lives, which is how
// stale ones are told apart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"

namespace catmem {

// /dev/shm/demi-catmem-wake.<pid>.<nonce>
std::string BellPath(int32_t pid, uint64_t nonce);

// The owner's side: the FIFO, open for reading and writing (so it never sees
// end of file, and can ring itself). Unlinked when destroyed.
class Bell {
 public:
  // Removes stale bells, then creates the FIFO; throws SysError (with the
  // errno) when it cannot.
  Bell();
  ~Bell();
  Bell(const Bell&) = delete;
  Bell& operator=(const Bell&) = delete;

  int fd() const { return fd_; }
  int32_t pid() const { return pid_; }
  uint64_t nonce() const { return nonce_; }
  // Reads every pending byte.
  void Drain();
  // Makes the FIFO readable (a wake already pending is enough).
  void Ring();

 private:
  int fd_ = -1;
  int32_t pid_ = 0;
  uint64_t nonce_ = 0;
  std::string path_;
};

// A peer's FIFO, open for writing: shared by every ringer in the process that
// rings the same bell, so a server with 10,000 connections to one client holds
// one descriptor for it, not 10,000. Closed when the last ringer lets go.
struct PeerFifo {
  explicit PeerFifo(int fd) : fd(fd) {}
  ~PeerFifo();
  PeerFifo(const PeerFifo&) = delete;
  PeerFifo& operator=(const PeerFifo&) = delete;
  const int fd;
};

// A producer's side: writes into the peer's bell when the peer's loop waits for
// any of `bits`. Keeps the last FIFO it rang. JS thread only.
class BellRinger {
 public:
  BellRinger() = default;
  BellRinger(const BellRinger&) = delete;
  BellRinger& operator=(const BellRinger&) = delete;

  // Cheap when the peer's loop is not waiting: one load.
  void Ring(WakeLine* line, uint32_t bits) {
    if ((line->loop_wants.load(std::memory_order_seq_cst) & bits) != 0) RingNow(line);
  }
  // Rings whatever the peer waits for (this end is closing).
  void RingAny(WakeLine* line) { Ring(line, ~0u); }

 private:
  void RingNow(WakeLine* line);

  std::shared_ptr<PeerFifo> fifo_;
  int32_t pid_ = 0;
  uint64_t nonce_ = 0;
};

// Removes bells whose owner is gone (no process holds them open); returns
// their file names.
std::vector<std::string> RemoveStaleBells();

}  // namespace catmem
