// Argument and option checks for addon entry points. Any caller can reach an
// addon with anything, so each value is checked for type and range, and a bad
// one is a demi::Error with code EINVAL, never undefined behaviour.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <string>

#include "error.h"

namespace demi {

constexpr double kMaxSafeInteger = 9007199254740991.0;

// A finite number at position `i` (a missing argument is not a number).
inline double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what,
                        const char* syscall) {
  double value = 0;
  // One Node-API call; fails without a pending exception for non-numbers.
  if (napi_get_value_double(info.Env(), info[i], &value) != napi_ok) {
    Fail(EINVAL, syscall, std::string(what) + " must be a number");
  }
  if (!std::isfinite(value)) Fail(EINVAL, syscall, std::string(what) + " must be a finite number");
  return value;
}

inline void CheckInteger(double value, const char* what, int64_t min, int64_t max,
                         const char* syscall) {
  if (value != std::trunc(value) || value < static_cast<double>(min) ||
      value > static_cast<double>(max)) {
    Fail(EINVAL, syscall,
         std::string(what) + " must be an integer in [" + std::to_string(min) + ", " +
             std::to_string(max) + "]");
  }
}

// An integer in [min, max] at position `i`.
inline int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min,
                          int64_t max, const char* syscall) {
  double value = NumberArg(info, i, what, syscall);
  CheckInteger(value, what, min, max, syscall);
  return static_cast<int64_t>(value);
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* what,
                    const char* syscall) {
  if (i >= info.Length() || !info[i].IsBoolean()) {
    Fail(EINVAL, syscall, std::string(what) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

// A string of at most max_len bytes without NUL characters.
inline std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what,
                             size_t max_len, const char* syscall) {
  if (i >= info.Length() || !info[i].IsString()) {
    Fail(EINVAL, syscall, std::string(what) + " must be a string");
  }
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.size() > max_len) Fail(EINVAL, syscall, std::string(what) + " is too long");
  if (s.find('\0') != std::string::npos) {
    Fail(EINVAL, syscall, std::string(what) + " contains a NUL character");
  }
  return s;
}

inline Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t i, const char* what,
                                  const char* syscall) {
  if (i >= info.Length() || !info[i].IsFunction()) {
    Fail(EINVAL, syscall, std::string(what) + " must be a function");
  }
  return info[i].As<Napi::Function>();
}

// Bytes of a Uint8Array (or Buffer).
struct Bytes {
  uint8_t* data;
  size_t length;
};

// Reads a Uint8Array (or Buffer) in one Node-API call; false for anything else.
inline bool GetBytes(napi_env env, napi_value value, Bytes* out) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  // A detached buffer reports no data and zero length; both are safe to use.
  out->data = length == 0 ? nullptr : static_cast<uint8_t*>(data);
  out->length = length;
  return true;
}

// Options objects: an absent (undefined or null) key gives the fallback.
inline std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback,
                                const char* syscall) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) Fail(EINVAL, syscall, std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline uint32_t UintOption(const Napi::Object& o, const char* key, uint32_t fallback, uint32_t min,
                           uint32_t max, const char* syscall) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) Fail(EINVAL, syscall, std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) Fail(EINVAL, syscall, std::string(key) + " must be a finite number");
  CheckInteger(d, key, min, max, syscall);
  return static_cast<uint32_t>(d);
}

inline bool BoolOption(const Napi::Object& o, const char* key, bool fallback, const char* syscall) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) Fail(EINVAL, syscall, std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace demi
