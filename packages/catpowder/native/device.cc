#include "device.h"

#include <demi/args.h>
#include <demi/error.h>
#include <demi/netns.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <new>
#include <string>

namespace catpowder {

namespace {

constexpr uint32_t kMaxSlots = 4096;
constexpr uint32_t kMaxRingFrames = 1u << 18;

using demi::Guard;

demi::Error Invalid(const std::string& what) { return demi::Error(EINVAL, "open", what); }

std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback) {
  return demi::StringOption(o, key, fallback, "open");
}

uint32_t UintOption(const Napi::Object& o, const char* key, uint32_t fallback, uint32_t min,
                    uint32_t max) {
  return demi::UintOption(o, key, fallback, min, max, "open");
}

bool BoolOption(const Napi::Object& o, const char* key, bool fallback) {
  return demi::BoolOption(o, key, fallback, "open");
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
  // AF_PACKET: ring frames big enough for a GSO/GRO packet of up to 64 KiB from the kernel.
  bool largeReceive = BoolOption(o, "largeReceive", false) && opts.mode == "af_packet";
  opts.ringFrames = UintOption(o, "ringFrames", largeReceive ? 256 : 4096, 64, kMaxRingFrames);
  opts.promiscuous = BoolOption(o, "promiscuous", false);
  slots_ = UintOption(o, "batchSize", 64, 1, kMaxSlots);
  verifyRx_ = BoolOption(o, "verifyChecksums", true);
  fillTx_ = BoolOption(o, "fillChecksums", true);
  opts.segmentationOffload = BoolOption(o, "segmentationOffload", false);
  if (opts.mode != "af_packet") opts.segmentationOffload = false;
  // The largest GSO packet a device takes by default is 64 KiB, Ethernet header included.
  if (opts.segmentationOffload && fillTx_) opts.tsoBytes = 65536 - 14;
  std::string netns = StringOption(o, "netns", "");

  if (opts.mode == "af_xdp") {
    // Only now are libxdp and libbpf loaded: AF_PACKET needs neither.
    const std::string why = XdpUnavailableReason();
    if (!why.empty()) throw demi::Error(ENOTSUP, "open", why);
  }
  {
    demi::NetnsScope scope(netns);
    iface_ = LookupInterface(name, static_cast<int>(index));
    if (iface_.mtu < 68 || iface_.mtu > 65535)
      throw Invalid("interface " + iface_.name + " has an unusable MTU");
    opts.maxFrame = largeReceive ? std::max(iface_.mtu, 65535u) + 14 : iface_.mtu + 14;
    backend_ =
        opts.mode == "af_xdp" ? OpenXdpBackend(iface_, opts) : OpenPacketBackend(iface_, opts);
  }
  // Slots hold a frame with one VLAN tag of slack, rounded to a cache line;
  // sent frames may be segmentation-offload frames.
  slotSize_ = (opts.maxFrame + 4 + 63) & ~63u;
  tso_ = opts.tsoBytes;
  txSlotSize_ = tso_ > 0 ? std::max(slotSize_, (tso_ + 14 + 63) & ~63u) : slotSize_;
  rxData_ = Napi::Persistent(
      Napi::ArrayBuffer::New(env, static_cast<size_t>(slots_) * slotSize_).As<Napi::Object>());
  rxLens_ =
      Napi::Persistent(Napi::ArrayBuffer::New(env, slots_ * sizeof(uint32_t)).As<Napi::Object>());
  txData_ = Napi::Persistent(
      Napi::ArrayBuffer::New(env, static_cast<size_t>(slots_) * txSlotSize_).As<Napi::Object>());
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
  watch_.Close();
  backend_.reset();
}

Backend& Device::Live(const char* syscall) {
  if (!backend_) throw demi::Error(EBADF, syscall, "the device is closed");
  return *backend_;
}

Arena Device::ArenaOf(Napi::ObjectReference& data, Napi::ObjectReference& lens, uint32_t slotSize,
                      const char* syscall) {
  Napi::ArrayBuffer d = data.Value().As<Napi::ArrayBuffer>();
  Napi::ArrayBuffer l = lens.Value().As<Napi::ArrayBuffer>();
  // A transferred (detached) arena has no memory behind it any more.
  if (d.IsDetached() || l.IsDetached() || d.ByteLength() < static_cast<size_t>(slots_) * slotSize ||
      l.ByteLength() < slots_ * sizeof(uint32_t)) {
    throw demi::Error(EINVAL, syscall, "the device's arena was detached");
  }
  Arena a;
  a.data = static_cast<uint8_t*>(d.Data());
  a.lens = static_cast<uint32_t*>(l.Data());
  a.slotSize = slotSize;
  a.slots = slots_;
  return a;
}

Napi::Value Device::Receive(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "receive", [&]() -> Napi::Value {
    Backend& b = Live("receive");
    Arena rx = ArenaOf(rxData_, rxLens_, slotSize_, "receive");
    return Napi::Number::New(info.Env(), b.Receive(rx, verifyRx_));
  });
}

Napi::Value Device::Transmit(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "transmit", [&]() -> Napi::Value {
    Backend& b = Live("transmit");
    if (info.Length() < 1 || !info[0].IsNumber())
      throw demi::Error(EINVAL, "transmit", "transmit(count) needs a number");
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > slots_) {
      throw demi::Error(EINVAL, "transmit",
                        "count must be an integer in [0, " + std::to_string(slots_) + "]");
    }
    Arena tx = ArenaOf(txData_, txLens_, txSlotSize_, "transmit");
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
      if (watch_.started()) watch_.Ref(false);
      return env.Undefined();
    }
    if (!arg.IsFunction())
      throw demi::Error(EINVAL, "setWakeup", "setWakeup takes a function or undefined");
    Backend& b = Live("setWakeup");
    onReadable_ = Napi::Persistent(arg.As<Napi::Function>());
    if (!asyncContext_)
      asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "catpowder:readable");
    if (!watch_.started()) {
      watch_.Start(env, b.Fd(), "setWakeup");
      Ref();  // a watched device must not be collected while libuv points at it
    }
    watch_.Ref(true);
    return env.Undefined();
  });
}

void Device::StopPolling() {
  if (watch_.started()) {
    watch_.Stop();
    Unref();
  }
  if (!onReadable_.IsEmpty()) onReadable_.Reset();
}

void Device::OnReadable(void* owner, int status) {
  auto* self = static_cast<Device*>(owner);
  if (!self->watch_.started()) return;
  if (self->onReadable_.IsEmpty()) {
    self->StopPolling();  // fired while nobody waits: now really stop watching
    return;
  }
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  // The descriptor broke (interface gone): stop spinning, let JS poll once more.
  if (status < 0) {
    self->watch_.Stop();
    self->Unref();
  }
  demi::GuardCallback(env, "wait", [&] {
    // MakeCallback, so promise continuations run before control returns to libuv.
    self->onReadable_.MakeCallback(env.Global(), {}, *self->asyncContext_);
  });
}

Napi::Value Device::Close(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "close", [&]() -> Napi::Value {
    Shutdown();
    return info.Env().Undefined();
  });
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
    o.Set("txOffloadFrames", Napi::Number::New(env, static_cast<double>(s.txOffloadFrames)));
    o.Set("kernelDrops", Napi::Number::New(env, static_cast<double>(s.kernelDrops)));
    const char* lastErr = s.lastTxErrno != 0 ? demi::ErrnoName(s.lastTxErrno) : nullptr;
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
    o.Set("txSlotSize", Napi::Number::New(env, txSlotSize_));
    o.Set("tso", Napi::Number::New(env, tso_));
    o.Set("rxData", rxData_.Value());
    o.Set("rxLens", rxLens_.Value());
    o.Set("txData", txData_.Value());
    o.Set("txLens", txLens_.Value());
    return o;
  });
}

}  // namespace catpowder
