// The one exception type native catnip code throws. The addon boundary turns
// it into a JS Error carrying `code` ('EINVAL'), `errno`, `syscall` and the
// DPDK log lines written while the failing call ran, which the TS side wraps
// into a DemiError. Nothing here aborts the process.
#pragma once

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

namespace catnip {

class CatnipError : public std::exception {
 public:
  CatnipError(int err, std::string syscall, std::string message, std::string log = "")
      : errno_(err),
        syscall_(std::move(syscall)),
        message_(std::move(message)),
        log_(std::move(log)) {}

  const char* what() const noexcept override { return message_.c_str(); }
  int err() const { return errno_; }
  const std::string& syscall() const { return syscall_; }
  const std::string& message() const { return message_; }
  const std::string& log() const { return log_; }
  void set_log(std::string log) { log_ = std::move(log); }

 private:
  int errno_;
  std::string syscall_;
  std::string message_;
  std::string log_;
};

// 'EINVAL' for 22, the symbolic name of any Linux errno; 'EIO' for DPDK's own
// numbers (E_RTE_SECONDARY, ...) that have no Linux name.
std::string ErrnoName(int err);

// strerror for Linux errno values, rte_strerror for DPDK's (>= 1000).
std::string ErrorText(int err);

}  // namespace catnip
