// @demi/catpowder's native side: raw Ethernet devices (AF_PACKET, AF_XDP) that
// move frames in batches between the kernel and arenas JS reads as views.
#include <demi/args.h>
#include <demi/error.h>
#include <demi/netns.h>
#include <napi.h>

#include <memory>
#include <string>

#include "backend.h"
#include "device.h"

namespace catpowder {

#ifndef DEMI_HAVE_XDP
std::string XdpUnavailableReason() {
  return "this build of @demi/catpowder has no AF_XDP (libxdp's and libbpf's headers were "
         "missing when it was built): apt-get install -y libxdp-dev libbpf-dev, then rebuild the "
         "addon; or use raw_socket.mode: af_packet";
}

std::unique_ptr<Backend> OpenXdpBackend(const InterfaceInfo&, const BackendOptions&) {
  return nullptr;  // never reached: Device checks XdpUnavailableReason() first
}
#endif

namespace {

Napi::Value Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const std::string reason = XdpUnavailableReason();
  o.Set("afXdp", Napi::Boolean::New(env, reason.empty()));
  o.Set("afXdpUnavailable",
        reason.empty() ? env.Null() : Napi::Value(Napi::String::New(env, reason)));
  return o;
}

// Calls fn() with this thread inside a named network namespace, then returns:
// sockets fn creates synchronously belong to that namespace.
Napi::Value RunInNetns(const Napi::CallbackInfo& info) {
  std::string name = demi::StringArg(info, 0, "runInNetns(name, fn): name", 200, "setns");
  Napi::Function fn = demi::FunctionArg(info, 1, "runInNetns(name, fn): fn", "setns");
  demi::NetnsScope scope(name);
  return fn.Call({});  // the scope returns the thread home even when fn throws
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("runInNetns", Napi::Function::New(env, demi::Entry<RunInNetns>, "runInNetns"));
  exports.Set("RawDevice", Device::Define(env));
  exports.Set("features", Napi::Function::New(env, demi::Entry<Features>, "features"));
  return exports;
}

}  // namespace
}  // namespace catpowder

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return catpowder::Init(env, exports);
}

NODE_API_MODULE(demi_catpowder, InitModule)
