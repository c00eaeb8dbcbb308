// One open end of a pipe: pushes into its transmit ring, pops from its receive
// ring. push and pop run on the JS thread only and make no system call unless
// the peer has said it is asleep. The waiter thread reads the shared counters
// and the want flags, nothing else.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "bell.h"
#include "layout.h"
#include "segment.h"

namespace catmem {

// Results of Pop besides a byte count (> 0), as negative errno values.
constexpr int64_t kPopEof = 0;
constexpr int64_t kAgain = -EAGAIN;

enum Want : uint32_t { kWantRx = 1, kWantTx = 2 };

class End {
 public:
  End(std::shared_ptr<Mapping> map, int side);

  // Writes as much of data as fits, whole records only: a message of at most
  // max_payload() bytes is written entirely or not at all; longer data is cut
  // into max_payload() records. Returns bytes written (0: ring full; the end
  // then wants space) or -EPIPE (peer closed) / -ECONNRESET (peer died).
  int64_t Push(const uint8_t* data, uint64_t len);
  // Where a pop of more than its threshold copies instead (a buffer made for
  // exactly those n bytes), or nullptr to use `out` after all.
  using Placer = uint8_t* (*)(void* arg, uint64_t n);
  // Copies up to max bytes of the next record to out (or, when they are more
  // than big_at, to where place says). Returns bytes (> 0), 0 at end of file,
  // kAgain when empty (the end then wants data), -ECONNRESET when the peer died
  // and everything it sent has been read.
  int64_t Pop(uint8_t* out, uint64_t max, uint64_t big_at = UINT64_MAX, Placer place = nullptr,
              void* arg = nullptr);
  // Marks this end closed (end of file for the peer); idempotent.
  void Close();
  // JS thread, now and then: when nothing was pushed since the last call and
  // the peer has read everything, returns the transmit ring to its first
  // bytes and gives the memory beyond them back (both processes' pages).
  void Trim();
  // Writes up to the ring's end before wrapping (a producer that lives for one
  // record, which must not waste ring space on an early wrap).
  void UseWholeRing();

  // For waiters (any thread): is what this end wants available now?
  bool Ready();
  // Whether the peer last pushed from the CPU this thread runs on: spinning
  // would only delay it.
  bool PeerSharesCpu() const;
  // Checks, at most every 100 ms per end, whether the peer died without closing.
  void CheckPeer(int64_t now_ns);
  // Payload bytes this end has popped, ever (JS thread only): record headers,
  // padding and the ring space a wrap marker skips do not count.
  uint64_t rx_consumed() const { return rx_payload_; }
  // Whether CheckPeer found the peer dead.
  bool PeerDied() const { return PeerGone(); }

  uint64_t max_payload() const { return max_payload_; }
  uint64_t ring_size() const { return ring_size_; }
  int side() const { return side_; }
  bool closed() const { return closed_; }
  uint32_t wants() const { return want_.load(std::memory_order_seq_cst); }
  WakeLine* my_wake() const { return &hdr_->wake[side_]; }
  const std::shared_ptr<Mapping>& mapping() const { return map_; }

 private:
  void Want(uint32_t bit);
  void Unwant(uint32_t bit) {
    if (want_.load(std::memory_order_relaxed) & bit)
      want_.fetch_and(~bit, std::memory_order_relaxed);
  }
  bool PeerGone() const;
  void WakePeer();
  // Makes `need` contiguous bytes writable at the tail: 1 ready, 0 not yet
  // (the end then wants space), or a negative errno.
  int MakeRoom(uint64_t need);
  void WriteWrap();
  bool Reserve(uint64_t limit);
  void Publish();

  std::shared_ptr<Mapping> map_;
  Header* hdr_;
  const int side_;
  const uint64_t ring_size_;
  const uint64_t mask_;
  const uint64_t max_payload_;
  uint8_t* tx_data_;
  uint8_t* rx_data_;
  std::atomic<uint64_t>* tx_tail_;
  std::atomic<uint32_t>* tx_cpu_;
  const std::atomic<uint32_t>* rx_cpu_;
  std::atomic<uint64_t>* tx_head_;
  std::atomic<uint64_t>* rx_tail_;
  std::atomic<uint64_t>* rx_head_;
  WakeLine* peer_wake_;
  EndInfo* peer_info_;
  BellRinger bell_;  // the peer's event loop

  // JS thread only.
  uint64_t tx_tail_local_ = 0;
  uint64_t tx_head_cache_ = 0;
  uint64_t rx_head_local_ = 0;
  uint64_t rx_tail_cache_ = 0;
  uint64_t rx_partial_ = 0;    // bytes of the current record already popped
  uint64_t rx_payload_ = 0;    // payload bytes popped, ever
  uint64_t tx_published_ = 0;  // the tail value last stored
  uint64_t tx_limit_ = 0;      // this producer wraps before this ring offset
  uint64_t tx_reserved_ = 0;   // bytes of the transmit ring known to be reserved
  uint64_t pushes_ = 0;        // pushes that wrote something
  uint64_t pushes_at_trim_ = 0;
  bool starved_ = false;  // a push had to wait since the limit last grew
  bool closed_ = false;

  std::atomic<uint32_t> want_{0};
  std::atomic<uint64_t> tx_need_{0};  // the head at which a waiting push retries
  std::atomic<bool> peer_dead_{false};
  std::atomic<int64_t> last_check_ns_{0};
};

}  // namespace catmem
