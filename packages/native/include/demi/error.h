// How native failures reach JS. Native code throws demi::Error (an errno, the
// system call and a message that says what to do); the boundary of every entry
// point turns it, and every other C++ exception, into a JS Error carrying
// `code` ('EBADF'), `errno` and `syscall`, which the TS side wraps in a
// DemiError. No C++ exception ever unwinds into Node: that would abort it.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "errno_name.h"

namespace demi {

class Error : public std::exception {
 public:
  Error(int err, std::string syscall, std::string message)
      : errno_(err), syscall_(std::move(syscall)), message_(std::move(message)) {}

  const char* what() const noexcept override { return message_.c_str(); }
  int err() const { return errno_; }
  const std::string& syscall() const { return syscall_; }
  const std::string& message() const { return message_; }
  // A backend's own extra properties on the JS error (catnip's DPDK log).
  virtual void Decorate(Napi::Object /*error*/) const {}

 private:
  int errno_;
  std::string syscall_;
  std::string message_;
};

[[noreturn]] inline void Fail(int err, const std::string& syscall, const std::string& message) {
  throw Error(err, syscall, message);
}

// strerror, thread-safe.
inline std::string ErrnoText(int err);

// The same, with the kernel's description of `err` after `what`.
[[noreturn]] inline void FailSys(int err, const std::string& syscall, const std::string& what) {
  throw Error(err, syscall, what + ": " + ErrnoText(err));
}

inline std::string ErrnoText(int err) {
  char buf[128];
  buf[0] = '\0';
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  const char* text = strerror_r(err, buf, sizeof buf);  // GNU: may return a static string
  return text != nullptr ? std::string(text) : std::string(buf);
#else
  strerror_r(err, buf, sizeof buf);
  return std::string(buf);
#endif
}

inline Napi::Error JsError(Napi::Env env, int err, const std::string& syscall,
                           const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, ErrnoCode(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

inline Napi::Error JsError(Napi::Env env, const Error& error) {
  Napi::Error e = JsError(env, error.err(), error.syscall(), error.message());
  error.Decorate(e.Value());
  return e;
}

// The JS error for the exception being handled (call inside a catch block).
inline Napi::Error CurrentJsError(Napi::Env env, const char* where) {
  try {
    throw;
  } catch (const Napi::Error& e) {
    return e;
  } catch (const Error& e) {
    return JsError(env, e);
  } catch (const std::bad_alloc&) {
    return JsError(env, ENOMEM, where, std::string(where) + ": out of memory");
  } catch (const std::system_error& e) {
    // std::thread and std::mutex report the errno of the call that failed
    // (EAGAIN when no thread can be created).
    const std::error_category& cat = e.code().category();
    bool posix = cat == std::generic_category() || cat == std::system_category();
    int err = posix && e.code().value() > 0 ? e.code().value() : EIO;
    return JsError(env, err, where, std::string(where) + ": " + e.what());
  } catch (const std::exception& e) {
    return JsError(env, EIO, where, std::string(where) + ": internal error: " + e.what());
  } catch (...) {
    return JsError(env, EIO, where, std::string(where) + ": internal error");
  }
}

// Runs the body of an entry point; any C++ exception leaves as a JS error.
template <typename F>
auto Guard(Napi::Env env, const char* where, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    throw CurrentJsError(env, where);
  }
}

// For callbacks no node-addon-api wrapper protects (libuv handles, thread-safe
// function calls): a failure becomes an uncaught JS exception, never an abort.
template <typename F>
void GuardCallback(Napi::Env env, const char* where, F&& body) noexcept {
  try {
    body();
  } catch (...) {
    try {
      napi_fatal_exception(env, CurrentJsError(env, where).Value());
    } catch (...) {
      // Not even an error object could be made; the failure is dropped, the process lives.
    }
  }
}

// A guarded free function: Napi::Function::New(env, demi::Entry<&Fn>, "name").
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Entry(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "addon", [&] { return Fn(info); });
}

// Mixed into a Napi::Addon or Napi::ObjectWrap class T (which names itself in
// `static constexpr const char* kName`): register &T::template
// Guarded<&T::Method> instead of &T::Method.
template <typename T>
class GuardedMethods {
 public:
  template <Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), T::kName, [&] { return (static_cast<T*>(this)->*Method)(info); });
  }
};

}  // namespace demi
