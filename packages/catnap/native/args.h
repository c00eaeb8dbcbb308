// catnap's argument checks on top of @demi/native's (demi/args.h): queue
// tokens and IPv4 addresses as the TS side passes them.
#pragma once
#include <demi/args.h>
#include <demi/error.h>
#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstdint>

namespace catnap {

using demi::BoolArg;
using demi::Bytes;
using demi::Fail;
using demi::FailSys;
using demi::GetBytes;
using demi::IntegerArg;
using demi::NumberArg;

// A queue token: a positive safe integer, kept as the double JS gave.
inline double TokenArg(const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  double value = NumberArg(info, i, "queue token", syscall);
  if (value != std::trunc(value) || value < 1 || value > demi::kMaxSafeInteger) {
    Fail(EINVAL, syscall, "queue token must be a positive safe integer");
  }
  return value;
}

// An IPv4 address as a host-order integer (0..2^32-1).
inline uint32_t Ipv4Arg(const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  return static_cast<uint32_t>(IntegerArg(info, i, "IPv4 address", 0, 0xffffffffLL, syscall));
}

}  // namespace catnap
