// The shared-memory layout of one catmem pipe. README.md ("Shared-memory
// layout") describes the same thing in prose, byte by byte; benchmarks/c/shm-ring.c
// speaks it from C. Change all three together and bump kVersion.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace catmem {

// "DEMIMEM1" read as a little-endian u64.
constexpr uint64_t kMagic = 0x314D454D494D4544ull;
// 2: records never wrap (a wrap marker sends the reader back to the ring's
// start), a producer may wrap early, and a sleeping producer says which head it
// waits for. Version 1 split records across the ring's end.
// 3: a consumer whose event loop sleeps says so in its wake line and names the
// FIFO that wakes it (loop_wants, loop_pid, loop_nonce).
constexpr uint32_t kVersion = 3;
constexpr uint32_t kHeaderSize = 4096;
constexpr uint64_t kMinRingSize = 4096;
constexpr uint64_t kMaxRingSize = 256ull << 20;
constexpr uint64_t kDefaultRingSize = 1ull << 20;
// Every record starts with this many bytes: u32 payload length, u32 zero.
constexpr uint64_t kRecordHeader = 8;
// A record header whose length is this is a wrap marker: the reader continues
// at the start of the ring (the counter moves on to the next multiple of
// ring_size).
constexpr uint32_t kWrapMarker = 0xFFFFFFFFu;
// Bytes of each ring reserved (fallocate) when a segment is created; a
// producer reserves more of its ring only when it has that much in flight.
constexpr uint64_t kInitialReserve = 4096;
constexpr size_t kMaxName = 200;
// Shared-memory object names are this prefix followed by the pipe name.
constexpr const char* kPrefix = "demi-catmem.";
// A LibOS instance's wake-up FIFO is this prefix, its pid, '.', and its nonce
// in 16 hex digits, in /dev/shm.
constexpr const char* kBellPrefix = "demi-catmem-wake.";

// Header.state
enum SegmentState : uint32_t { kInitializing = 0, kReady = 1, kRemoved = 2 };
// EndInfo.state
enum EndState : uint32_t { kVacant = 0, kOpen = 1, kClosed = 2 };

// Open-file-description lock bytes (fcntl F_OFD_SETLK, length 1).
constexpr off_t kLockEnd0 = 0;   // held by the creator while its end is open
constexpr off_t kLockEnd1 = 1;   // held by the opener while its end is open
constexpr off_t kLockSetup = 2;  // held briefly around create/open/close/remove

// Lines are 128 bytes apart: the adjacent-line prefetcher pairs 64-byte lines,
// so 64 would still let producer and consumer counters false-share.
constexpr size_t kLine = 128;

struct alignas(kLine) EndInfo {
  std::atomic<uint32_t> state;  // EndState; kClosed is end-of-file for the peer
  int32_t pid;                  // for listings only; liveness is the lock byte
};

struct alignas(kLine) WakeLine {
  std::atomic<uint32_t> seq;          // futex word: peers add 1 and FUTEX_WAKE
  std::atomic<uint32_t> rx_sleepers;  // waiters of this end waiting for data
  std::atomic<uint32_t> tx_sleepers;  // waiters of this end waiting for space
  uint32_t pad;
  // While tx_sleepers != 0: the consumer wakes this end only once the head of
  // its transmit ring reaches this value (it then has room for a batch).
  std::atomic<uint64_t> tx_wake_head;
  // Non-zero (Want bits) while this end's event loop waits for it: a peer that
  // makes one of them true swaps it to 0 and writes a byte into the FIFO that
  // loop_pid and loop_nonce name (kBellPrefix). Those two are written before
  // loop_wants is set.
  std::atomic<uint32_t> loop_wants;
  std::atomic<int32_t> loop_pid;
  std::atomic<uint64_t> loop_nonce;
};

struct alignas(kLine) Counter {
  std::atomic<uint64_t> value;  // bytes, monotonically increasing, never wraps
  // tail lines only: 1 + the CPU the producer last pushed from (0: unknown). A
  // waiter whose peer runs on its own CPU yields at once instead of spinning.
  std::atomic<uint32_t> cpu;
};

struct alignas(kLine) Header {
  uint64_t magic;
  uint32_t version;
  uint32_t header_size;
  uint64_t ring_size;
  uint64_t segment_size;
  std::atomic<uint32_t> state;  // SegmentState
  uint32_t reserved;
  EndInfo end[2];    // [0] creator, [1] opener
  WakeLine wake[2];  // [i] wakes end i
  // Ring r carries end r's pushes to end 1-r: tail written by end r,
  // head written by end 1-r.
  Counter tail[2];
  Counter head[2];
};

static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "u32 atomics must be lock-free in shared memory");
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "u64 atomics must be lock-free in shared memory");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4,
              "atomics must have plain size");
static_assert(offsetof(Header, state) == 32, "layout");
static_assert(offsetof(Header, end) == 128, "layout");
static_assert(offsetof(Header, wake) == 384, "layout");
static_assert(offsetof(Header, tail) == 640, "layout");
static_assert(offsetof(Header, head) == 896, "layout");
static_assert(sizeof(Header) == 1152, "layout");
static_assert(offsetof(WakeLine, tx_wake_head) == 16, "layout");
static_assert(offsetof(WakeLine, loop_wants) == 24, "layout");
static_assert(offsetof(WakeLine, loop_nonce) == 32, "layout");
static_assert(sizeof(Header) <= kHeaderSize, "header fits its page");

inline uint64_t RingOffset(int ring, uint64_t ring_size) {
  return kHeaderSize + static_cast<uint64_t>(ring) * ring_size;
}
inline uint64_t SegmentSize(uint64_t ring_size) { return kHeaderSize + 2 * ring_size; }
inline uint64_t InitialReserve(uint64_t ring_size) {
  return ring_size < kInitialReserve ? ring_size : kInitialReserve;
}
// Largest payload one record carries: a record then fills at most half the ring,
// so a producer can write one while the consumer reads the other.
inline uint64_t MaxPayload(uint64_t ring_size) { return ring_size / 2 - kRecordHeader; }
inline uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }
inline bool ValidRingSize(uint64_t n) {
  return n >= kMinRingSize && n <= kMaxRingSize && (n & (n - 1)) == 0;
}

}  // namespace catmem
