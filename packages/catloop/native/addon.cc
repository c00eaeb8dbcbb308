// The JS-facing surface. Every entry point checks every argument and reports
// problems as exceptions carrying `code` and `errno`; nothing here aborts.
// push, pop and handshake are one call each and return plain numbers, so the
// hot path allocates nothing on the native side.
#include <demi/args.h>
#include <demi/error.h>
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "connector.h"
#include "js_ops.h"
#include "listener.h"
#include "names.h"
#include "ring.h"
#include "segment.h"
#include "waiter.h"

using catmem::Context;
using catmem::End;
using catmem::SysError;

namespace {

using demi::Fail;

double IntArg(const Napi::CallbackInfo& info, size_t i, const char* what, double min, double max) {
  return static_cast<double>(demi::IntegerArg(info, i, what, static_cast<int64_t>(min),
                                              static_cast<int64_t>(max), "catloop"));
}

std::string IpArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsString())
    Fail(EINVAL, "catloop", "address must be a string");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  catloop::ParseIp(s);
  return s;
}

uint64_t RingSizeArg(const Napi::CallbackInfo& info, size_t i) {
  const double v = IntArg(info, i, "ring size", static_cast<double>(catmem::kMinRingSize),
                          static_cast<double>(catmem::kMaxRingSize));
  if (!catmem::ValidRingSize(static_cast<uint64_t>(v)))
    Fail(EINVAL, "catloop", "ring size must be a power of two from 4 KiB to 256 MiB");
  return static_cast<uint64_t>(v);
}

}  // namespace

class CatloopAddon : public Napi::Addon<CatloopAddon>, public demi::GuardedMethods<CatloopAddon> {
 public:
  static constexpr const char* kName = "catloop";

  CatloopAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(
        exports,
        {
            InstanceMethod("newContext", &CatloopAddon::Guarded<&CatloopAddon::NewContext>),
            InstanceMethod("destroyContext", &CatloopAddon::Guarded<&CatloopAddon::DestroyContext>),
            InstanceMethod("setStaging", &CatloopAddon::Guarded<&CatloopAddon::SetStaging>),
            InstanceMethod("bind", &CatloopAddon::Guarded<&CatloopAddon::Bind>),
            InstanceMethod("listen", &CatloopAddon::Guarded<&CatloopAddon::Listen>),
            InstanceMethod("accept", &CatloopAddon::Guarded<&CatloopAddon::Accept>),
            InstanceMethod("connect", &CatloopAddon::Guarded<&CatloopAddon::Connect>),
            InstanceMethod("handshake", &CatloopAddon::Guarded<&CatloopAddon::Handshake>),
            InstanceMethod("info", &CatloopAddon::Guarded<&CatloopAddon::Info>),
            InstanceMethod("push", &CatloopAddon::Guarded<&CatloopAddon::Push>),
            InstanceMethod("pop", &CatloopAddon::Guarded<&CatloopAddon::Pop>),
            InstanceMethod("popWait", &CatloopAddon::Guarded<&CatloopAddon::PopWait>),
            InstanceMethod("close", &CatloopAddon::Guarded<&CatloopAddon::Close>),
            InstanceMethod("sleep", &CatloopAddon::Guarded<&CatloopAddon::Sleep>),
            InstanceMethod("setWakeups", &CatloopAddon::Guarded<&CatloopAddon::SetWakeups>),
            InstanceMethod("trim", &CatloopAddon::Guarded<&CatloopAddon::Trim>),
            InstanceMethod("ready", &CatloopAddon::Guarded<&CatloopAddon::Ready>),
        });
    exports.Set("maxBacklog", Napi::Number::New(env, catloop::kMaxBacklog));
    exports.Set("minRingSize", Napi::Number::New(env, static_cast<double>(catmem::kMinRingSize)));
    exports.Set("maxRingSize", Napi::Number::New(env, static_cast<double>(catmem::kMaxRingSize)));
  }

  ~CatloopAddon() {
    // The environment is going away (process exit, worker end): close
    // listeners first so their queued clients are refused, then everything.
    for (size_t i = 0; i < slots_.size(); i++) Release(slots_[i]);
    // contexts_ (declared last) shuts the contexts down next.
  }

 private:
  struct Slot {
    std::shared_ptr<End> end;  // listener: end 0 of its control pipe; connection: its pipe end
    std::unique_ptr<catloop::Listener> listener;
    std::unique_ptr<catloop::Connecting> connecting;
    Context* ctx = nullptr;
  };

  Napi::Value NewContext(const Napi::CallbackInfo& info) { return contexts_.New(info); }

  Context& Ctx(const Napi::CallbackInfo& info, size_t i) { return contexts_.Get(info, i); }

  Slot& SlotArg(const Napi::CallbackInfo& info, size_t i) {
    const double h = IntArg(info, i, "handle", 1, 1e9);
    if (h > slots_.size() || !slots_[static_cast<size_t>(h) - 1].end)
      Fail(EBADF, "catloop", "no such socket handle");
    return slots_[static_cast<size_t>(h) - 1];
  }

  Slot& ListenerArg(const Napi::CallbackInfo& info, size_t i) {
    Slot& slot = SlotArg(info, i);
    if (!slot.listener) Fail(EINVAL, "catloop", "not a bound socket");
    return slot;
  }

  Slot& ConnectionArg(const Napi::CallbackInfo& info, size_t i) {
    Slot& slot = SlotArg(info, i);
    if (slot.listener) Fail(EINVAL, "catloop", "not a connection");
    return slot;
  }

  // A connection whose handshake is done: data can move.
  Slot& ConnectedArg(const Napi::CallbackInfo& info, size_t i) {
    Slot& slot = SlotArg(info, i);
    if (slot.listener || slot.connecting) Fail(ENOTCONN, "catloop", "the socket is not connected");
    return slot;
  }

  Napi::Value Adopt(Napi::Env env, Context& ctx, std::shared_ptr<End> end,
                    std::unique_ptr<catloop::Listener> listener,
                    std::unique_ptr<catloop::Connecting> connecting) {
    ctx.Add(end);
    size_t index = 0;
    while (index < slots_.size() && slots_[index].end) index++;
    if (index == slots_.size()) slots_.emplace_back();
    Slot& slot = slots_[index];
    slot.end = std::move(end);
    slot.listener = std::move(listener);
    slot.connecting = std::move(connecting);
    slot.ctx = &ctx;
    return Napi::Number::New(env, static_cast<double>(index + 1));
  }

  // Closes whatever the slot holds and empties it.
  void Release(Slot& slot) {
    if (!slot.end) return;
    std::shared_ptr<End> end = std::move(slot.end);
    if (slot.listener) {
      slot.listener->Close();
    } else {
      end->Close();
    }
    slot.listener.reset();
    slot.connecting.reset();
    if (slot.ctx != nullptr) slot.ctx->Remove(end.get());
    slot.ctx = nullptr;
  }

  Napi::Value DestroyContext(const Napi::CallbackInfo& info) {
    Context& ctx = Ctx(info, 0);
    for (Slot& slot : slots_) {
      if (slot.ctx == &ctx) Release(slot);
    }
    contexts_.Destroy(ctx);
    return info.Env().Undefined();
  }

  Napi::Value SetStaging(const Napi::CallbackInfo& info) {
    catmem::SetStaging(Ctx(info, 0), info, 1, kName);
    return info.Env().Undefined();
  }

  // bind(ctx, ip, port, firstEphemeral) -> [handle, port]
  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Context& ctx = Ctx(info, 0);
    const std::string ip = IpArg(info, 1);
    const uint32_t port = static_cast<uint32_t>(IntArg(info, 2, "port", 0, 65535));
    const uint32_t first = static_cast<uint32_t>(IntArg(info, 3, "first ephemeral port", 1, 65535));
    uint32_t bound = 0;
    auto map = catloop::ClaimAddress(ip, port, catloop::kControlRingSize, first, true, &bound);
    auto listener = std::make_unique<catloop::Listener>(std::move(map));
    std::shared_ptr<End> end = listener->end();
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, Adopt(env, ctx, std::move(end), std::move(listener), nullptr));
    out.Set(1u, Napi::Number::New(env, bound));
    return out;
  }

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Slot& slot = ListenerArg(info, 0);
    const uint32_t backlog = static_cast<uint32_t>(IntArg(info, 1, "backlog", 0, 65535));
    slot.listener->Listen(backlog);
    return info.Env().Undefined();
  }

  // accept(handle) -> undefined (nothing queued) | [handle, peer address, peer port, address the
  // peer connected to]
  Napi::Value Accept(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Slot& slot = ListenerArg(info, 0);
    if (!slot.listener->listening()) Fail(EINVAL, "catloop", "the socket is not listening");
    catloop::Listener::Accepted accepted;
    bool got = false;
    got = slot.listener->Accept(&accepted);
    if (!got) {
      slot.ctx->WantChanged(*slot.end);
      return env.Undefined();
    }
    Context& ctx = *slot.ctx;  // slots_ may grow below: no references into it after Adopt
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(1u, Napi::String::New(env, catloop::FormatIp(accepted.ip_be)));
    out.Set(2u, Napi::Number::New(env, accepted.port));
    out.Set(3u, Napi::String::New(env, catloop::FormatIp(accepted.dest_ip_be)));
    out.Set(0u, Adopt(env, ctx, std::move(accepted.end), nullptr, nullptr));
    return out;
  }

  // connect(ctx, ip, port, localIp, localPort, ringSize, firstEphemeral) -> [handle, local
  // address, local port]
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Context& ctx = Ctx(info, 0);
    const std::string ip = IpArg(info, 1);
    const uint32_t port = static_cast<uint32_t>(IntArg(info, 2, "port", 1, 65535));
    const std::string local_ip = IpArg(info, 3);
    const uint32_t local_port = static_cast<uint32_t>(IntArg(info, 4, "local port", 0, 65535));
    const uint64_t ring_size = RingSizeArg(info, 5);
    const uint32_t first = static_cast<uint32_t>(IntArg(info, 6, "first ephemeral port", 1, 65535));
    auto connecting = std::make_unique<catloop::Connecting>();
    catloop::Connected c =
        catloop::Connect(ip, port, local_ip, local_port, ring_size, first, connecting.get());
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(1u, Napi::String::New(env, c.local_ip));
    out.Set(2u, Napi::Number::New(env, c.local_port));
    out.Set(0u, Adopt(env, ctx, std::move(c.end), nullptr, std::move(connecting)));
    return out;
  }

  // handshake(handle) -> 1 connected, 0 still waiting, or a negative errno
  Napi::Value Handshake(const Napi::CallbackInfo& info) {
    Slot& slot = ConnectionArg(info, 0);
    if (!slot.connecting) return Napi::Number::New(info.Env(), 1);
    const int r = catloop::Handshake(*slot.end, *slot.connecting);
    if (r == 0) slot.ctx->WantChanged(*slot.end);
    if (r == 1) slot.connecting.reset();
    return Napi::Number::New(info.Env(), r);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Slot& slot = ConnectionArg(info, 0);
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(slot.end->ring_size())));
    out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(slot.end->max_payload())));
    return out;
  }

  Napi::Value Push(const Napi::CallbackInfo& info) {
    Slot& slot = ConnectedArg(info, 0);
    return catmem::Push(*slot.end, *slot.ctx, info, 1, kName);
  }

  Napi::Value Pop(const Napi::CallbackInfo& info) {
    Slot& slot = ConnectedArg(info, 0);
    return catmem::Pop(*slot.end, *slot.ctx, info, 1, kName, false, false);
  }

  // A pop that waits when nothing is there (a wait of 0 does not sleep).
  Napi::Value PopWait(const Napi::CallbackInfo& info) {
    Slot& slot = ConnectedArg(info, 0);
    return catmem::Pop(*slot.end, *slot.ctx, info, 1, kName, true, false);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release(SlotArg(info, 0));
    return info.Env().Undefined();
  }

  Napi::Value Sleep(const Napi::CallbackInfo& info) {
    catmem::Sleep(Ctx(info, 0), info, 1, kName);
    return info.Env().Undefined();
  }

  Napi::Value Trim(const Napi::CallbackInfo& info) {
    catmem::Trim(Ctx(info, 0));
    return info.Env().Undefined();
  }

  // ready(ctx, out: Uint32Array) -> how many of the context's sockets have
  // what they wait for (data, room, a queued connection, an answer, the
  // peer's close or death); their handles fill out, as many as fit. One pass
  // over the native slots: a wake-up then costs JS only the ready sockets.
  Napi::Value Ready(const Napi::CallbackInfo& info) {
    Context& ctx = Ctx(info, 0);
    if (info.Length() < 2 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      Fail(EINVAL, "catloop", "the ready list must be a Uint32Array");
    Napi::Uint32Array out = info[1].As<Napi::Uint32Array>();
    uint32_t* handles = out.Data();
    const size_t room = out.ElementLength();
    size_t n = 0;
    for (size_t i = 0; i < slots_.size(); i++) {
      const Slot& slot = slots_[i];
      if (slot.ctx != &ctx || !slot.end || !slot.end->Ready()) continue;
      if (n < room) handles[n] = static_cast<uint32_t>(i + 1);
      n++;
    }
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }

  Napi::Value SetWakeups(const Napi::CallbackInfo& info) {
    catmem::SetWakeups(Ctx(info, 0), info, 1, kName);
    return info.Env().Undefined();
  }

  std::vector<Slot> slots_;
  catmem::ContextTable contexts_{kName};
};

NODE_API_ADDON(CatloopAddon)
