// Errors thrown to JS carry `code` ('EBADF'), `errno` (Linux number) and
// `syscall`, the shape the TS layer turns into a DemiError.
#pragma once
#include <napi.h>

#include <string>

namespace catnap {

// 'EADDRINUSE' for 98; "E<n>" for numbers the table does not name.
std::string ErrnoName(int err);

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what);

// Throws ErrnoError as a C++ exception (node-addon-api turns it into a JS throw).
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what);

// The same, with the kernel's description of `err` appended to `what`.
[[noreturn]] void ThrowSys(Napi::Env env, int err, const char* syscall, const std::string& what);

}  // namespace catnap
