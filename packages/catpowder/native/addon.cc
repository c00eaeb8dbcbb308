// @demi/catpowder's native side: raw Ethernet devices (AF_PACKET, AF_XDP) that
// move frames in batches between the kernel and arenas JS reads as views.
#include <napi.h>

#include <memory>
#include <string>

#include "backend.h"
#include "device.h"
#include "netns.h"
#include "sys_error.h"

namespace catpowder {

#ifndef DEMI_HAVE_XDP
const char* XdpUnavailableReason() {
  return "this build of @demi/catpowder has no AF_XDP: install libxdp-dev, libbpf-dev and "
         "pkg-config (apt-get install -y libxdp-dev libbpf-dev pkg-config), then rebuild the "
         "addon (npm run build in the @demi/catpowder package); or use raw_socket.mode: af_packet";
}

std::unique_ptr<Backend> OpenXdpBackend(const InterfaceInfo&, const BackendOptions&) {
  return nullptr;  // never reached: Device checks XdpUnavailableReason() first
}
#endif

namespace {

Napi::Value Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const char* reason = XdpUnavailableReason();
  o.Set("afXdp", Napi::Boolean::New(env, *reason == '\0'));
  o.Set("afXdpUnavailable",
        *reason == '\0' ? env.Null() : Napi::Value(Napi::String::New(env, reason)));
  return o;
}

// Calls fn() with this thread inside a named network namespace, then returns:
// sockets fn creates synchronously belong to that namespace.
Napi::Value RunInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) {
    Napi::Error e =
        Napi::Error::New(env, "runInNetns(name, fn) needs a namespace name and a function");
    e.Set("code", "EINVAL");
    e.Set("syscall", "setns");
    throw e;
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Function fn = info[1].As<Napi::Function>();
  std::unique_ptr<NetnsScope> scope;
  try {
    scope = std::make_unique<NetnsScope>(name);
  } catch (const SysError& err) {
    Napi::Error e = Napi::Error::New(env, err.what());
    const char* code = ErrnoName(err.err());
    e.Set("code", code != nullptr ? code : "EIO");
    e.Set("errno", Napi::Number::New(env, err.err()));
    e.Set("syscall", err.syscall());
    throw e;
  }
  return fn.Call({});  // the scope returns the thread home even when fn throws
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("runInNetns", Napi::Function::New(env, RunInNetns, "runInNetns"));
  exports.Set("RawDevice", Device::Define(env));
  exports.Set("features", Napi::Function::New(env, Features, "features"));
  return exports;
}

}  // namespace
}  // namespace catpowder

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return catpowder::Init(env, exports);
}

NODE_API_MODULE(demi_catpowder, InitModule)
