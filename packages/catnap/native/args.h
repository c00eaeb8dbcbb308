// Argument checks for every addon entry point. Any caller can reach the addon
// with anything, so each value is checked for type and range here, and a bad
// one is a JS exception (code EINVAL), never undefined behaviour.
#pragma once
#include <napi.h>

#include <cstdint>

namespace catnap {

// A finite number at position `i`.
double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what, const char* syscall);

// An integer in [min, max] at position `i`.
int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t min,
                   int64_t max, const char* syscall);

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* what, const char* syscall);

// A queue token: a positive safe integer, kept as the double JS gave.
double TokenArg(const Napi::CallbackInfo& info, size_t i, const char* syscall);

// An IPv4 address as a host-order integer (0..2^32-1).
uint32_t Ipv4Arg(const Napi::CallbackInfo& info, size_t i, const char* syscall);

// Bytes of a Uint8Array (or Buffer) argument.
struct Bytes {
  const uint8_t* data;
  size_t length;
};
// Reads a Uint8Array (or Buffer) in one Node-API call; false for anything else.
bool GetBytes(napi_env env, napi_value value, Bytes* out);

}  // namespace catnap
