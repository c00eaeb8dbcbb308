// Process-shared futexes on words inside the mapped segment. No FUTEX_PRIVATE_FLAG:
// the kernel keys these by (inode, offset), so a wake in one process reaches a
// waiter in another.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>

namespace catmem {

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

// Same as the kernel's struct futex_waitv (Linux 5.16+).
struct FutexWaitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

constexpr uint32_t kFutexShared32 = 2;         // FUTEX_32
constexpr uint32_t kFutexPrivate32 = 2 | 128;  // FUTEX_32 | FUTEX_PRIVATE_FLAG

inline void FutexWakeShared(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

inline void FutexWakePrivate(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

inline int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Sleeps until any word differs from its val or a wake arrives, at most rel_ns.
// Returns false when futex_waitv is unusable here (kernel before 5.16, or it
// refuses the arguments), so the caller can fall back to a short FUTEX_WAIT.
inline bool FutexWaitMany(FutexWaitv* waiters, unsigned n, int64_t rel_ns) {
  int64_t deadline = MonoNs() + rel_ns;
  timespec ts{static_cast<time_t>(deadline / 1000000000), static_cast<long>(deadline % 1000000000)};
  long r = syscall(SYS_futex_waitv, waiters, n, 0, &ts, CLOCK_MONOTONIC);
  return r >= 0 || errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR;
}

}  // namespace catmem
