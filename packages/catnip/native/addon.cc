// Node-API surface of catnip: the EAL (shared per process) and Port objects,
// one per catnip instance. Every argument is checked here; errors become JS
// Errors with code/errno/syscall/dpdkLog that the TS side wraps in DemiError.
#include <demi/args.h>
#include <napi.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "control.h"
#include "eal.h"
#include "error.h"
#include "log_capture.h"
#include "port.h"

namespace catnip {

namespace {

class PortWrap;

// Per Node environment (main thread or worker): what to release when it ends.
struct EnvState {
  std::set<PortWrap*> ports;
  int retained = 0;
};

[[noreturn]] void ThrowInvalid(const std::string& message, const std::string& syscall = "catnip") {
  throw CatnipError(EINVAL, syscall, message);
}

EnvState* State(Napi::Env env) { return env.GetInstanceData<EnvState>(); }

uint32_t GetUint(const Napi::Object& o, const char* key, uint32_t def, uint32_t min, uint32_t max) {
  return demi::UintOption(o, key, def, min, max, "catnip");
}

bool GetBool(const Napi::Object& o, const char* key, bool def) {
  return demi::BoolOption(o, key, def, "catnip");
}

std::string GetString(const Napi::Object& o, const char* key) {
  return demi::StringOption(o, key, "", "catnip");
}

std::vector<std::string> GetStringArray(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) ThrowInvalid(std::string(key) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 1024) ThrowInvalid(std::string(key) + " has too many entries");
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString())
      ThrowInvalid(std::string(key) + "[" + std::to_string(i) + "] must be a string");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body()) {
  return demi::Guard(env, "catnip", std::forward<F>(body));
}

class PortWrap : public Napi::ObjectWrap<PortWrap>, public demi::GuardedMethods<PortWrap> {
 public:
  static constexpr const char* kName = "catnip";

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Port",
                       {
                           InstanceMethod("rx", &PortWrap::Guarded<&PortWrap::Rx>),
                           InstanceMethod("tx", &PortWrap::Guarded<&PortWrap::Tx>),
                           InstanceMethod("close", &PortWrap::Guarded<&PortWrap::Close>),
                           InstanceMethod("info", &PortWrap::Guarded<&PortWrap::Info>),
                           InstanceMethod("stats", &PortWrap::Guarded<&PortWrap::Stats>),
                           InstanceMethod("link", &PortWrap::Guarded<&PortWrap::Link>),
                           InstanceAccessor<&PortWrap::Arena>("arena"),
                       });
  }

  // new Port({ealArgs, netns, restoreAffinity, portId, rxBurst, txSlots, rxDesc,
  //           txDesc, mbufs, mtu, softwareChecksum, trustedLink, promiscuous, mac})
  explicit PortWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PortWrap>(info) {
    Napi::Env env = info.Env();
    Guard(env, [&]() -> Napi::Value {
      if (info.Length() != 1 || !info[0].IsObject())
        ThrowInvalid("new Port(options) needs an options object");
      Napi::Object o = info[0].As<Napi::Object>();
      EalRequest eal;
      eal.args = GetStringArray(o, "ealArgs");
      eal.netns = GetString(o, "netns");
      eal.restore_affinity = GetBool(o, "restoreAffinity", false);
      PortOptions p;
      p.netns = eal.netns;
      p.port_id = static_cast<uint16_t>(GetUint(o, "portId", 0, 0, RTE_MAX_ETHPORTS - 1));
      p.port_name = GetString(o, "portName");
      if (p.port_name.size() > 256) ThrowInvalid("portName is too long");
      p.rx_burst = static_cast<uint16_t>(GetUint(o, "rxBurst", 64, 1, 512));
      p.tx_slots = static_cast<uint16_t>(GetUint(o, "txSlots", 128, 1, 1024));
      p.rx_desc = static_cast<uint16_t>(GetUint(o, "rxDesc", 1024, 16, 8192));
      p.tx_desc = static_cast<uint16_t>(GetUint(o, "txDesc", 1024, 16, 8192));
      p.mbufs = GetUint(o, "mbufs", 0, 0, 1u << 20);
      if (p.mbufs != 0 && p.mbufs < 1023) ThrowInvalid("mbufs must be at least 1023");
      p.mtu = static_cast<uint16_t>(GetUint(o, "mtu", 0, 0, 9216));
      if (p.mtu != 0 && p.mtu < 68) ThrowInvalid("mtu must be 0 (the port's own) or at least 68");
      p.software_checksum = GetBool(o, "softwareChecksum", true);
      p.trusted_link = GetBool(o, "trustedLink", false);
      p.promiscuous = GetBool(o, "promiscuous", false);
      Napi::Value mac = o.Get("mac");
      if (!mac.IsUndefined()) {
        if (!mac.IsTypedArray() ||
            mac.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
            mac.As<Napi::Uint8Array>().ElementLength() != 6) {
          ThrowInvalid("mac must be a Uint8Array of 6 bytes");
        }
        std::memcpy(p.mac, mac.As<Napi::Uint8Array>().Data(), 6);
        p.set_mac = true;
      }
      uint64_t mark = LogCapture::Mark();
      EalAcquire(eal);
      try {
        RunOnControlThread([&] { port_ = std::make_unique<Port>(p); });
      } catch (CatnipError& e) {
        EalRelease(false);
        // Drivers that failed to probe during rte_eal_init said why there.
        e.set_log(LogCapture::Since(mark));
        throw;
      } catch (...) {
        EalRelease(false);
        throw;
      }
      CreateArena(env, port_->layout().size);
      env_state_ = State(env);
      env_state_->ports.insert(this);
      return env.Undefined();
    });
  }

  ~PortWrap() override {
    if (env_state_ != nullptr) env_state_->ports.erase(this);
    Release();
  }

  // Closes the port and drops the EAL reference; safe to call twice.
  void Release() {
    if (port_ == nullptr) return;
    RunOnControlThread([&] { port_->Close(); });
    QuiesceControlThread();
    port_.reset();
    EalRelease();
  }

  void Forget() {
    if (env_state_ != nullptr) env_state_->ports.erase(this);
    env_state_ = nullptr;
  }

 private:
  // The arena is memory of ours shared by this object and the ArrayBuffer JS
  // sees, freed when both let go: JS detaching or dropping the buffer can never
  // leave native code writing into freed memory, and no per-call check is needed.
  struct ArenaMemory {
    explicit ArenaMemory(size_t n) : size(n), data(static_cast<uint8_t*>(std::calloc(1, n))) {}
    ~ArenaMemory() { std::free(data); }
    size_t size;
    uint8_t* data;
  };

  static void FinalizeArena(napi_env, void*, void* hint) {
    delete static_cast<std::shared_ptr<ArenaMemory>*>(hint);
  }

  void CreateArena(Napi::Env env, size_t size) {
    auto memory = std::make_shared<ArenaMemory>(size);
    if (memory->data == nullptr)
      throw CatnipError(ENOMEM, "catnip", "cannot allocate the frame arena");
    auto* hint = new std::shared_ptr<ArenaMemory>(memory);
    napi_value value;
    napi_status status =
        napi_create_external_arraybuffer(env, memory->data, size, FinalizeArena, hint, &value);
    if (status == napi_ok) {
      arena_memory_ = memory;
      arena_ = Napi::Persistent(Napi::ArrayBuffer(env, value));
      return;
    }
    // Runtimes that forbid external buffers (a V8 sandbox): a V8-owned buffer,
    // checked on every call instead.
    delete hint;
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, size);
    std::memset(ab.Data(), 0, size);
    arena_ = Napi::Persistent(ab);
  }

  // The arena's memory, or nullptr if the port is closed (or a V8-owned arena
  // was detached): then nothing is read or written.
  uint8_t* ArenaData() {
    if (port_ == nullptr) return nullptr;
    if (arena_memory_ != nullptr) return arena_memory_->data;
    if (arena_.IsEmpty()) return nullptr;
    Napi::ArrayBuffer ab = arena_.Value();
    if (ab.IsDetached() || ab.ByteLength() != port_->layout().size) return nullptr;
    return static_cast<uint8_t*>(ab.Data());
  }

  Napi::Value Rx(const Napi::CallbackInfo& info) {
    uint8_t* arena = ArenaData();
    if (arena == nullptr) return Closed(info.Env(), "rx");
    return Napi::Number::New(info.Env(), port_->Receive(arena));
  }

  Napi::Value Tx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t* arena = ArenaData();
    if (arena == nullptr) return Closed(env, "tx");
    if (info.Length() != 1 || !info[0].IsNumber()) {
      throw CatnipError(EINVAL, "tx", "tx(count) needs a number");
    }
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= port_->layout().size) || d != std::floor(d)) {
      throw CatnipError(EINVAL, "tx", "count must be a whole number of tx slots");
    }
    uint32_t count = static_cast<uint32_t>(d);
    const ArenaLayout& l = port_->layout();
    if (count > (l.size - l.tx_slots) / l.slot_size) {
      throw CatnipError(EINVAL, "tx", "count exceeds the number of tx slots");
    }
    return Napi::Number::New(env, port_->Transmit(arena, count));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Forget();
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Closed(Napi::Env /*env*/, const char* syscall) {
    throw CatnipError(EBADF, syscall, "the DPDK port is closed");
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (port_ == nullptr) return Closed(env, "info");
    Napi::Object o = Napi::Object::New(env);
    const ArenaLayout& l = port_->layout();
    Napi::Object layout = Napi::Object::New(env);
    layout.Set("rxLens", l.rx_lens);
    layout.Set("txLens", l.tx_lens);
    layout.Set("rxSlots", l.rx_slots);
    layout.Set("txSlots", l.tx_slots);
    layout.Set("slotSize", l.slot_size);
    layout.Set("size", l.size);
    o.Set("layout", layout);
    o.Set("portId", port_->port_id());
    o.Set("mtu", port_->mtu());
    o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, port_->mac(), 6));
    o.Set("driver", port_->driver());
    o.Set("device", port_->device_name());
    o.Set("rxChecksum", port_->rx_checksum_reported());
    o.Set("trustedLink", port_->trusted_link());
    o.Set("txChecksum", port_->tx_checksum_reported());
    const Offloads& hw = port_->hardware();
    Napi::Object h = Napi::Object::New(env);
    h.Set("rxIpv4", hw.rx_ip);
    h.Set("rxTcp", hw.rx_tcp);
    h.Set("rxUdp", hw.rx_udp);
    h.Set("txIpv4", hw.tx_ip);
    h.Set("txTcp", hw.tx_tcp);
    h.Set("txUdp", hw.tx_udp);
    o.Set("hardwareChecksum", h);
    return o;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (port_ == nullptr) return Closed(env, "stats");
    const PortStats& s = port_->stats();
    uint64_t drv[4];
    port_->DriverStats(drv);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rxFrames", static_cast<double>(s.rx_frames));
    o.Set("rxBytes", static_cast<double>(s.rx_bytes));
    o.Set("rxBadChecksum", static_cast<double>(s.rx_bad_checksum));
    o.Set("rxOversize", static_cast<double>(s.rx_oversize));
    o.Set("txFrames", static_cast<double>(s.tx_frames));
    o.Set("txBytes", static_cast<double>(s.tx_bytes));
    o.Set("txDropped", static_cast<double>(s.tx_dropped));
    o.Set("txRetries", static_cast<double>(s.tx_retries));
    o.Set("txQueued", port_->pending());
    o.Set("rxMissed", static_cast<double>(drv[0]));
    o.Set("rxErrors", static_cast<double>(drv[1]));
    o.Set("txErrors", static_cast<double>(drv[2]));
    o.Set("rxNoMbuf", static_cast<double>(drv[3]));
    return o;
  }

  Napi::Value Link(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (port_ == nullptr) return Closed(env, "link");
    uint32_t speed = 0;
    bool up = port_->LinkUp(&speed);
    Napi::Object o = Napi::Object::New(env);
    o.Set("up", up);
    o.Set("speedMbps", speed);
    return o;
  }

  Napi::Value Arena(const Napi::CallbackInfo& info) {
    if (arena_.IsEmpty()) return info.Env().Undefined();
    return arena_.Value();
  }

  std::unique_ptr<Port> port_;
  std::shared_ptr<ArenaMemory> arena_memory_;
  Napi::Reference<Napi::ArrayBuffer> arena_;
  EnvState* env_state_ = nullptr;
};

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("dpdk", true);
  o.Set("version", DpdkVersion());
  o.Set("builtAgainst", DEMI_CATNIP_DPDK_VERSION);
  return o;
}

Napi::Value EalStatusJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EalStatus s = EalGetStatus();
  Napi::Object o = Napi::Object::New(env);
  o.Set("state", s.state);
  o.Set("refs", s.refs);
  Napi::Array args = Napi::Array::New(env, s.args.size());
  for (size_t i = 0; i < s.args.size(); i++) args.Set(static_cast<uint32_t>(i), s.args[i]);
  o.Set("args", args);
  if (!s.last_failure.empty()) o.Set("lastFailure", s.last_failure);
  if (!s.cleanup_skipped.empty()) o.Set("cleanupSkipped", s.cleanup_skipped);
  return o;
}

Napi::Value RetainEal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    EalRetain();
    State(env)->retained++;
    return env.Undefined();
  });
}

Napi::Value ReleaseEal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState* s = State(env);
  if (s->retained > 0) {
    s->retained--;
    EalRelease();
  }
  return env.Undefined();
}

Napi::Value DpdkLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 1 && info[0].IsBoolean())
    LogCapture::SetForward(info[0].As<Napi::Boolean>().Value());
  return Napi::String::New(env, LogCapture::Since(0));
}

void NoopFinalize(Napi::Env, EnvState*) {}

void CleanupEnv(EnvState* s) {
  // The environment is ending (process exit or worker end): close what it
  // still holds so ports stop and, with the last reference, the EAL cleans up.
  std::set<PortWrap*> ports;
  ports.swap(s->ports);
  for (PortWrap* p : ports) p->Release();
  for (; s->retained > 0; s->retained--) EalRelease();
  EalCleanupIfIdle();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Never freed: Port finalizers may run after the environment's own data is gone.
  auto* state = new EnvState();
  env.SetInstanceData<EnvState, NoopFinalize>(state);
  env.AddCleanupHook(CleanupEnv, state);
  exports.Set("Port", PortWrap::Define(env));
  exports.Set("buildInfo", Napi::Function::New(env, demi::Entry<BuildInfo>, "buildInfo"));
  exports.Set("ealStatus", Napi::Function::New(env, demi::Entry<EalStatusJs>, "ealStatus"));
  exports.Set("retainEal", Napi::Function::New(env, demi::Entry<RetainEal>, "retainEal"));
  exports.Set("releaseEal", Napi::Function::New(env, demi::Entry<ReleaseEal>, "releaseEal"));
  exports.Set("dpdkLog", Napi::Function::New(env, demi::Entry<DpdkLog>, "dpdkLog"));
  return exports;
}

}  // namespace

}  // namespace catnip

static Napi::Object InitCatnip(Napi::Env env, Napi::Object exports) {
  return catnip::Init(env, exports);
}

NODE_API_MODULE(demi_catnip, InitCatnip)
