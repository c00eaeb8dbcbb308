// DPDK's log, kept in memory instead of printed: the EAL and the drivers say why
// they failed only there, so errors quote the lines logged during the failing
// call. The last kCapacity bytes are kept; with DEMI_DPDK_LOG=1 (or
// SetForward(true)) every line is also copied to stderr.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace catnip {

class LogCapture {
 public:
  static constexpr size_t kCapacity = 64 * 1024;

  // The FILE* handed to rte_openlog_stream; created once, never closed.
  static FILE* Stream();
  // A position in the log; Since(mark) returns what was written after it.
  static uint64_t Mark();
  static std::string Since(uint64_t mark);
  static void SetForward(bool forward);
};

}  // namespace catnip
