// The JS-facing operations on contexts and ring ends that the catmem and
// catloop addons share (catloop builds on catmem's rings): the table of
// contexts JS names by number, and the bodies of setStaging, push, pop,
// popWait, sleep and setWakeups. Each addon adds only its own handles.
#pragma once

#include <demi/args.h>
#include <demi/error.h>
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "ring.h"
#include "waiter.h"

namespace catmem {

// Contexts (one per LibOS instance), numbered from 1 as JS sees them.
class ContextTable {
 public:
  explicit ContextTable(const char* syscall) : syscall_(syscall) {}
  ~ContextTable() {
    for (auto& ctx : contexts_) {
      if (ctx) ctx->Shutdown();
    }
  }

  // newContext(onWake) -> id
  Napi::Value New(const Napi::CallbackInfo& info) {
    Napi::Function on_wake = demi::FunctionArg(info, 0, "the wake-up function", syscall_);
    contexts_.push_back(Context::Create(info.Env(), on_wake));
    return Napi::Number::New(info.Env(), static_cast<double>(contexts_.size()));
  }

  Context& Get(const Napi::CallbackInfo& info, size_t i) {
    const int64_t id = demi::IntegerArg(info, i, "context", 1, 1000000000, syscall_);
    if (static_cast<size_t>(id) > contexts_.size() || !contexts_[id - 1]) {
      demi::Fail(EBADF, syscall_, "no such context");
    }
    return *contexts_[id - 1];
  }

  // Shuts the context down and forgets it; its id is not reused.
  void Destroy(Context& ctx) {
    ctx.Shutdown();
    for (auto& c : contexts_) {
      if (c.get() == &ctx) c.reset();
    }
  }

 private:
  const char* syscall_;
  std::vector<std::shared_ptr<Context>> contexts_;
};

// 0 to 60000 ms at position i, in nanoseconds.
inline int64_t WaitArgNs(const Napi::CallbackInfo& info, size_t i, const char* what,
                         const char* syscall) {
  const double ms = demi::NumberArg(info, i, what, syscall);
  if (ms < 0 || ms > 60000) demi::Fail(EINVAL, syscall, std::string(what) + " is 0 to 60000 ms");
  return static_cast<int64_t>(ms * 1e6);
}

// setStaging(ctx, buffer): where pops copy their bytes.
inline void SetStaging(Context& ctx, const Napi::CallbackInfo& info, size_t i,
                       const char* syscall) {
  if (i >= info.Length() || !info[i].IsArrayBuffer()) {
    demi::Fail(EINVAL, syscall, "staging must be an ArrayBuffer");
  }
  ctx.SetStaging(info[i].As<Napi::ArrayBuffer>());
}

// push(handle, data) -> bytes written, 0 when the ring is full, or a negative errno.
inline Napi::Value Push(End& end, Context& ctx, const Napi::CallbackInfo& info, size_t i,
                        const char* syscall) {
  demi::Bytes bytes{};
  if (!demi::GetBytes(info.Env(), info[i], &bytes)) {
    demi::Fail(EINVAL, syscall, "push data must be a Uint8Array");
  }
  if (bytes.length == 0) return Napi::Number::New(info.Env(), 0);
  const int64_t r = end.Push(bytes.data, bytes.length);
  if (r >= 0 && static_cast<uint64_t>(r) < bytes.length) ctx.WantChanged(end);
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// Pops of more than this many bytes arrive in a buffer of their own, filled
// straight from the ring; shorter ones go through the staging buffer, where JS
// copies them out (cheaper than making a buffer natively for a few bytes).
constexpr uint64_t kOwnBufferAbove = 4096;

// Where a long pop lands: the spare ArrayBuffer JS offers (the memory of a
// freed pop, see PopPool) when the bytes fit it without wasting more than half
// of it, else a Buffer made for them.
struct OwnBuffer {
  napi_env env;
  napi_value spare = nullptr;
  uint8_t* spare_data = nullptr;
  size_t spare_length = 0;
  bool used_spare = false;
  napi_value buffer = nullptr;
};

inline uint8_t* PlaceOwnBuffer(void* arg, uint64_t n) {
  auto* own = static_cast<OwnBuffer*>(arg);
  if (own->spare_data != nullptr && n <= own->spare_length && own->spare_length / 2 <= n) {
    own->used_spare = true;
    return own->spare_data;
  }
  void* data = nullptr;
  // Node leaves the Buffer uninitialized: the pop fills it.
  if (napi_create_buffer(own->env, n, &data, &own->buffer) != napi_ok) {
    own->buffer = nullptr;
    return nullptr;  // the staging buffer takes the bytes instead
  }
  return static_cast<uint8_t*>(data);
}

// The optional spare ArrayBuffer at position i (undefined: none).
inline void SpareArg(OwnBuffer& own, const Napi::CallbackInfo& info, size_t i,
                     const char* syscall) {
  if (i >= info.Length() || info[i].IsUndefined()) return;
  if (!info[i].IsArrayBuffer()) demi::Fail(EINVAL, syscall, "spare must be an ArrayBuffer");
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(info.Env(), info[i], &data, &length) != napi_ok) return;
  if (data == nullptr || length == 0) return;  // detached
  own.spare = info[i];
  own.spare_data = static_cast<uint8_t*>(data);
  own.spare_length = length;
}

// pop(handle, max[, spare]) / popWait(handle, max, ms[, spare]): pops into the
// staging buffer and returns the byte count, or returns a Uint8Array holding
// the bytes (see kOwnBufferAbove): a view of the first bytes of spare when
// they went there, else a Buffer of their own. With a wait (popWait), when
// nothing is there it waits as sleep() does and tries once more: one crossing
// instead of three on the path of a waitSync'd pop. A wait of 0 still sleeps
// (checking the peer is alive) when sleep_at_zero.
inline Napi::Value Pop(End& end, Context& ctx, const Napi::CallbackInfo& info, size_t i,
                       const char* syscall, bool wait, bool sleep_at_zero) {
  const int64_t max = demi::IntegerArg(info, i, "pop size", 1, int64_t{1} << 40, syscall);
  const int64_t wait_ns = wait ? WaitArgNs(info, i + 1, "popWait", syscall) : 0;
  if (ctx.staging() == nullptr || ctx.staging_size() == 0) {
    demi::Fail(EINVAL, syscall, "no staging buffer");
  }
  OwnBuffer own{info.Env()};
  SpareArg(own, info, wait ? i + 2 : i + 1, syscall);
  const uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(max), ctx.staging_size());
  int64_t r = end.Pop(ctx.staging(), n, kOwnBufferAbove, PlaceOwnBuffer, &own);
  if (r == kAgain && wait && (wait_ns > 0 || sleep_at_zero)) {
    ctx.Sleep(wait_ns);
    r = end.Pop(ctx.staging(), n, kOwnBufferAbove, PlaceOwnBuffer, &own);
  }
  if (r == kAgain) ctx.WantChanged(end);
  if (r > 0 && own.used_spare) {
    napi_value view = nullptr;
    if (napi_create_typedarray(info.Env(), napi_uint8_array, static_cast<size_t>(r), own.spare, 0,
                               &view) == napi_ok) {
      return Napi::Value(info.Env(), view);
    }
    // The bytes have left the ring: hand them over in a copy rather than lose them.
    void* copy = nullptr;
    if (napi_create_buffer_copy(info.Env(), static_cast<size_t>(r), own.spare_data, &copy, &view) !=
        napi_ok) {
      demi::Fail(ENOMEM, syscall, "no memory for the popped bytes");
    }
    return Napi::Value(info.Env(), view);
  }
  if (r > 0 && own.buffer != nullptr) return Napi::Value(info.Env(), own.buffer);
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// sleep(ctx, ms)
inline void Sleep(Context& ctx, const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  ctx.Sleep(WaitArgNs(info, i, "sleep", syscall));
}

// trim(ctx): gives back ring memory of ends idle since the last call.
inline void Trim(Context& ctx) { ctx.Trim(); }

// setWakeups(ctx, active)
inline void SetWakeups(Context& ctx, const Napi::CallbackInfo& info, size_t i,
                       const char* syscall) {
  ctx.SetActive(demi::BoolArg(info, i, "setWakeups' argument", syscall));
}

}  // namespace catmem
