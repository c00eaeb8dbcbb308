// @demi/catpowder's native side: raw Ethernet devices (AF_PACKET, AF_XDP) that
// move frames in batches between the kernel and arenas JS reads as views.
#include <napi.h>

#include "backend.h"
#include "device.h"

namespace catpowder {

#ifndef DEMI_HAVE_XDP
const char* XdpUnavailableReason() {
  return "this build of @demi/catpowder has no AF_XDP: install libxdp-dev, libbpf-dev and pkg-config "
         "(apt-get install -y libxdp-dev libbpf-dev pkg-config), then rebuild (npm rebuild @demi/catpowder); "
         "or use raw_socket.mode: af_packet";
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
  o.Set("afXdpUnavailable", *reason == '\0' ? env.Null() : Napi::Value(Napi::String::New(env, reason)));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("RawDevice", Device::Define(env));
  exports.Set("features", Napi::Function::New(env, Features, "features"));
  return exports;
}

}  // namespace
}  // namespace catpowder

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return catpowder::Init(env, exports); }

NODE_API_MODULE(demi_catpowder, InitModule)
