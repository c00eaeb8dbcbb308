#include "device.h"

#include <cerrno>
#include <cmath>
#include <new>
#include <string>

#include "netns.h"
#include "sys_error.h"

namespace catpowder {

namespace {

constexpr uint32_t kMaxSlots = 4096;
constexpr uint32_t kMaxRingFrames = 1u << 18;

Napi::Error ToJsError(Napi::Env env, int err, const std::string& syscall,
                      const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  const char* name = ErrnoName(err);
  e.Set("code", name != nullptr ? std::string(name) : "E" + std::to_string(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", syscall);
  return e;
}

// Runs a method body, turning every C++ failure into a JS error with a code.
template <typename F>
auto Guard(Napi::Env env, const char* syscall, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const SysError& e) {
    throw ToJsError(env, e.err(), e.syscall(), e.what());
  } catch (const std::bad_alloc&) {
    throw ToJsError(env, ENOMEM, syscall, "out of memory");
  } catch (const std::exception& e) {
    throw ToJsError(env, EIO, syscall, e.what());
  }
}

SysError Invalid(const std::string& what) { return SysError(EINVAL, "open", what); }

std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Invalid(std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

uint32_t UintOption(const Napi::Object& o, const char* key, uint32_t fallback, uint32_t min,
                    uint32_t max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Invalid(std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < min || d > max) {
    throw Invalid(std::string(key) + " must be an integer in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  }
  return static_cast<uint32_t>(d);
}

bool BoolOption(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw Invalid(std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

Napi::Function Device::Define(Napi::Env env) {
  return DefineClass(env, "RawDevice",
                     {
                         InstanceMethod("receive", &Device::Receive),
                         InstanceMethod("transmit", &Device::Transmit),
                         InstanceMethod("setWakeup", &Device::SetWakeup),
                         InstanceMethod("close", &Device::Close),
                         InstanceMethod("stats", &Device::Stats),
                         InstanceMethod("info", &Device::Info),
                     });
}

Device::Device(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Device>(info) {
  Guard(info.Env(), "open", [&] { Open(info); });
}

void Device::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Invalid("RawDevice needs an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  std::string name = StringOption(o, "interfaceName", "");
  uint32_t index = UintOption(o, "interfaceIndex", 0, 0, 0x7fffffff);
  if (name.empty() && index == 0)
    throw Invalid("name the interface: interfaceName (or interfaceIndex)");
  BackendOptions opts;
  opts.mode = StringOption(o, "mode", "af_packet");
  if (opts.mode != "af_packet" && opts.mode != "af_xdp")
    throw Invalid("mode must be 'af_packet' or 'af_xdp'");
  opts.xdpMode = StringOption(o, "xdpMode", "skb");
  if (opts.xdpMode != "skb" && opts.xdpMode != "native")
    throw Invalid("xdpMode must be 'skb' or 'native'");
  opts.queue = UintOption(o, "queue", 0, 0, 63);
  opts.ringFrames = UintOption(o, "ringFrames", 4096, 64, kMaxRingFrames);
  opts.promiscuous = BoolOption(o, "promiscuous", false);
  slots_ = UintOption(o, "batchSize", 64, 1, kMaxSlots);
  verifyRx_ = BoolOption(o, "verifyChecksums", true);
  fillTx_ = BoolOption(o, "fillChecksums", true);
  std::string netns = StringOption(o, "netns", "");

  if (opts.mode == "af_xdp" && *XdpUnavailableReason() != '\0') {
    throw SysError(ENOTSUP, "open", XdpUnavailableReason());
  }
  {
    NetnsScope scope(netns);
    iface_ = LookupInterface(name, static_cast<int>(index));
    if (iface_.mtu < 68 || iface_.mtu > 65535)
      throw Invalid("interface " + iface_.name + " has an unusable MTU");
    opts.maxFrame = iface_.mtu + 14;
    backend_ =
        opts.mode == "af_xdp" ? OpenXdpBackend(iface_, opts) : OpenPacketBackend(iface_, opts);
  }
  // Slots hold a frame with one VLAN tag of slack, rounded to a cache line.
  slotSize_ = (opts.maxFrame + 4 + 63) & ~63u;
  rxData_ = Napi::Persistent(
      Napi::ArrayBuffer::New(env, static_cast<size_t>(slots_) * slotSize_).As<Napi::Object>());
  rxLens_ =
      Napi::Persistent(Napi::ArrayBuffer::New(env, slots_ * sizeof(uint32_t)).As<Napi::Object>());
  txData_ = Napi::Persistent(
      Napi::ArrayBuffer::New(env, static_cast<size_t>(slots_) * slotSize_).As<Napi::Object>());
  txLens_ =
      Napi::Persistent(Napi::ArrayBuffer::New(env, slots_ * sizeof(uint32_t)).As<Napi::Object>());
  if (napi_add_env_cleanup_hook(env, &Device::OnEnvCleanup, this) == napi_ok) cleanupHook_ = true;
}

Device::~Device() {
  if (cleanupHook_) napi_remove_env_cleanup_hook(Env(), &Device::OnEnvCleanup, this);
  cleanupHook_ = false;
  Shutdown();
}

void Device::OnEnvCleanup(void* arg) {
  auto* self = static_cast<Device*>(arg);
  self->cleanupHook_ = false;
  self->Shutdown();
}

void Device::Shutdown() {
  StopPolling();
  if (poll_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  backend_.reset();
}

Backend& Device::Live(const char* syscall) {
  if (!backend_) throw SysError(EBADF, syscall, "the device is closed");
  return *backend_;
}

Arena Device::ArenaOf(Napi::ObjectReference& data, Napi::ObjectReference& lens,
                      const char* syscall) {
  Napi::ArrayBuffer d = data.Value().As<Napi::ArrayBuffer>();
  Napi::ArrayBuffer l = lens.Value().As<Napi::ArrayBuffer>();
  // A transferred (detached) arena has no memory behind it any more.
  if (d.IsDetached() || l.IsDetached() ||
      d.ByteLength() < static_cast<size_t>(slots_) * slotSize_ ||
      l.ByteLength() < slots_ * sizeof(uint32_t)) {
    throw SysError(EINVAL, syscall, "the device's arena was detached");
  }
  Arena a;
  a.data = static_cast<uint8_t*>(d.Data());
  a.lens = static_cast<uint32_t*>(l.Data());
  a.slotSize = slotSize_;
  a.slots = slots_;
  return a;
}

Napi::Value Device::Receive(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "receive", [&]() -> Napi::Value {
    Backend& b = Live("receive");
    Arena rx = ArenaOf(rxData_, rxLens_, "receive");
    return Napi::Number::New(info.Env(), b.Receive(rx, verifyRx_));
  });
}

Napi::Value Device::Transmit(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "transmit", [&]() -> Napi::Value {
    Backend& b = Live("transmit");
    if (info.Length() < 1 || !info[0].IsNumber())
      throw SysError(EINVAL, "transmit", "transmit(count) needs a number");
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > slots_) {
      throw SysError(EINVAL, "transmit",
                     "count must be an integer in [0, " + std::to_string(slots_) + "]");
    }
    Arena tx = ArenaOf(txData_, txLens_, "transmit");
    return Napi::Number::New(info.Env(), b.Transmit(tx, static_cast<uint32_t>(d), fillTx_));
  });
}

Napi::Value Device::SetWakeup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, "setWakeup", [&]() -> Napi::Value {
    Napi::Value arg = info.Length() > 0 ? info[0] : env.Undefined();
    if (arg.IsUndefined() || arg.IsNull()) {
      // Async waits come and go once per operation: rather than an epoll_ctl
      // pair each time, leave the watch armed but unref'd (it holds no event
      // loop open) and stop it the first time it fires with nobody to call.
      if (!onReadable_.IsEmpty()) onReadable_.Reset();
      if (polling_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      return env.Undefined();
    }
    if (!arg.IsFunction())
      throw SysError(EINVAL, "setWakeup", "setWakeup takes a function or undefined");
    Backend& b = Live("setWakeup");
    onReadable_ = Napi::Persistent(arg.As<Napi::Function>());
    if (!asyncContext_)
      asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "catpowder:readable");
    if (poll_ == nullptr) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
        throw SysError(EIO, "setWakeup", "no event loop");
      auto* handle = new uv_poll_t();
      int r = uv_poll_init(loop, handle, b.Fd());
      if (r != 0) {
        delete handle;
        throw SysError(-r, "uv_poll_init",
                       "cannot watch the device: " + std::string(uv_strerror(r)));
      }
      handle->data = this;
      poll_ = handle;
    }
    if (!polling_) {
      int r = uv_poll_start(poll_, UV_READABLE, &Device::OnPoll);
      if (r != 0)
        throw SysError(-r, "uv_poll_start",
                       "cannot watch the device: " + std::string(uv_strerror(r)));
      polling_ = true;
      Ref();  // a watched device must not be collected while libuv points at it
    }
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return env.Undefined();
  });
}

void Device::StopPolling() {
  if (polling_) {
    uv_poll_stop(poll_);  // a stopped handle does not keep the loop alive
    polling_ = false;
    Unref();
  }
  if (!onReadable_.IsEmpty()) onReadable_.Reset();
}

void Device::OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<Device*>(handle->data);
  if (self == nullptr || !self->polling_) return;
  if (self->onReadable_.IsEmpty()) {
    self->StopPolling();  // fired while nobody waits: now really stop watching
    return;
  }
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  if (status < 0) {
    // The descriptor broke (interface gone): stop spinning, let JS poll once more.
    uv_poll_stop(handle);
  }
  Napi::FunctionReference& fn = self->onReadable_;
  try {
    // MakeCallback, so promise continuations run before control returns to libuv.
    fn.MakeCallback(env.Global(), {}, *self->asyncContext_);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value Device::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value Device::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, "stats", [&]() -> Napi::Value {
    Backend& b = Live("stats");
    b.UpdateStats();
    const DeviceStats& s = b.stats;
    Napi::Object o = Napi::Object::New(env);
    o.Set("rxFrames", Napi::Number::New(env, static_cast<double>(s.rxFrames)));
    o.Set("rxBytes", Napi::Number::New(env, static_cast<double>(s.rxBytes)));
    o.Set("rxDropped", Napi::Number::New(env, static_cast<double>(s.rxDropped)));
    o.Set("rxPartialChecksums", Napi::Number::New(env, static_cast<double>(s.rxPartialChecksums)));
    o.Set("txFrames", Napi::Number::New(env, static_cast<double>(s.txFrames)));
    o.Set("txBytes", Napi::Number::New(env, static_cast<double>(s.txBytes)));
    o.Set("txDropped", Napi::Number::New(env, static_cast<double>(s.txDropped)));
    o.Set("kernelDrops", Napi::Number::New(env, static_cast<double>(s.kernelDrops)));
    const char* lastErr = s.lastTxErrno != 0 ? ErrnoName(s.lastTxErrno) : nullptr;
    o.Set("lastTxError",
          lastErr != nullptr ? Napi::Value(Napi::String::New(env, lastErr)) : env.Null());
    return o;
  });
}

Napi::Value Device::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, "info", [&]() -> Napi::Value {
    Backend& b = Live("info");
    Napi::Object o = Napi::Object::New(env);
    o.Set("interfaceName", iface_.name);
    o.Set("interfaceIndex", Napi::Number::New(env, iface_.index));
    o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, iface_.mac, 6));
    o.Set("mtu", Napi::Number::New(env, iface_.mtu));
    o.Set("mode", b.Mode());
    o.Set("fd", Napi::Number::New(env, b.Fd()));
    o.Set("slots", Napi::Number::New(env, slots_));
    o.Set("slotSize", Napi::Number::New(env, slotSize_));
    o.Set("rxData", rxData_.Value());
    o.Set("rxLens", rxLens_.Value());
    o.Set("txData", txData_.Value());
    o.Set("txLens", txLens_.Value());
    return o;
  });
}

}  // namespace catpowder
