#include "args.h"

#include <cerrno>
#include <cmath>
#include <string>

#include "errors.h"

namespace catnap {

namespace {
constexpr double kMaxSafeInteger = 9007199254740991.0;
}

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what, const char* syscall) {
  double value = 0;
  // One Node-API call: fails with napi_number_expected (no pending exception) for non-numbers;
  // a missing argument reads as undefined.
  if (napi_get_value_double(info.Env(), info[i], &value) != napi_ok) {
    ThrowErrno(info.Env(), EINVAL, syscall, std::string(what) + " must be a number");
  }
  if (!std::isfinite(value)) {
    ThrowErrno(info.Env(), EINVAL, syscall, std::string(what) + " must be a finite number");
  }
  return value;
}

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min,
                   int64_t max, const char* syscall) {
  double value = NumberArg(info, i, what, syscall);
  if (value != std::trunc(value) || value < static_cast<double>(min) ||
      value > static_cast<double>(max)) {
    ThrowErrno(info.Env(), EINVAL, syscall,
               std::string(what) + " must be an integer in [" + std::to_string(min) + ", " +
                   std::to_string(max) + "]");
  }
  return static_cast<int64_t>(value);
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* what, const char* syscall) {
  if (i >= info.Length() || !info[i].IsBoolean()) {
    ThrowErrno(info.Env(), EINVAL, syscall, std::string(what) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

double TokenArg(const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  double value = NumberArg(info, i, "queue token", syscall);
  if (value != std::trunc(value) || value < 1 || value > kMaxSafeInteger) {
    ThrowErrno(info.Env(), EINVAL, syscall, "queue token must be a positive safe integer");
  }
  return value;
}

uint32_t Ipv4Arg(const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  return static_cast<uint32_t>(IntegerArg(info, i, "IPv4 address", 0, 0xffffffffLL, syscall));
}

bool GetBytes(napi_env env, napi_value value, Bytes* out) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  // Fails with napi_invalid_arg (no pending exception) when value is not a typed array.
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  // A detached buffer reports no data and zero length; both are safe to use.
  out->data = length == 0 ? nullptr : static_cast<const uint8_t*>(data);
  out->length = length;
  return true;
}

}  // namespace catnap
