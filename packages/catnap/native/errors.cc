#include "errors.h"

#include <demi/errno_name.h>

#include <cerrno>
#include <cstring>

namespace catnap {

std::string ErrnoName(int err) {
  const char* name = demi::ErrnoName(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what) {
  Napi::Error error = Napi::Error::New(env, what);
  Napi::Object obj = error.Value();
  obj.Set("code", Napi::String::New(env, ErrnoName(err)));
  obj.Set("errno", Napi::Number::New(env, err));
  obj.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what) {
  throw ErrnoError(env, err, syscall, what);
}

void ThrowSys(Napi::Env env, int err, const char* syscall, const std::string& what) {
  throw ErrnoError(env, err, syscall, what + ": " + std::strerror(err));
}

}  // namespace catnap
