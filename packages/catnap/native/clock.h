// The monotonic clock the busy-polling loops measure their budgets with.
#pragma once
#include <cstdint>
#include <ctime>

namespace catnap {

inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace catnap
