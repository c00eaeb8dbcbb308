// An OS-level failure on its way to JS: carries the errno code name, the
// syscall, and a message that says what to do about it.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace catpowder {

class SysError : public std::runtime_error {
 public:
  SysError(int err, std::string syscall, const std::string& message)
      : std::runtime_error(message), errno_(err), syscall_(std::move(syscall)) {}

  int err() const { return errno_; }
  const std::string& syscall() const { return syscall_; }

 private:
  int errno_;
  std::string syscall_;
};

// "EPERM" for EPERM; nullptr for numbers without a name here.
const char* ErrnoName(int err);

// strerror-like text, thread-safe.
std::string ErrnoText(int err);

}  // namespace catpowder
