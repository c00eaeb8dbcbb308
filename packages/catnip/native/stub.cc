// The addon built without DPDK (its development files were missing, or
// DEMI_CATNIP_NO_DPDK was set): it loads, reports why, and every attempt to
// open a port fails with the command that fixes it.
#include <napi.h>

namespace {

constexpr const char* kReason =
    "built without DPDK: apt-get install dpdk libdpdk-dev pkg-config, then npm run build";

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("dpdk", false);
  o.Set("reason", kReason);
  return o;
}

Napi::Value Unavailable(const Napi::CallbackInfo& info) {
  Napi::Error err = Napi::Error::New(info.Env(), kReason);
  err.Set("code", "ENOTSUP");
  err.Set("errno", Napi::Number::New(info.Env(), 95));
  err.Set("syscall", "rte_eal_init");
  throw err;
}

Napi::Value EalStatus(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("state", "down");
  o.Set("refs", Napi::Number::New(info.Env(), 0));
  o.Set("args", Napi::Array::New(info.Env()));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("Port", Napi::Function::New(env, Unavailable, "Port"));
  exports.Set("ealStatus", Napi::Function::New(env, EalStatus));
  exports.Set("retainEal", Napi::Function::New(env, Unavailable));
  exports.Set("releaseEal", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
                return i.Env().Undefined();
              }));
  exports.Set("dpdkLog", Napi::Function::New(env, [](const Napi::CallbackInfo& i) -> Napi::Value {
                return Napi::String::New(i.Env(), "");
              }));
  return exports;
}

}  // namespace

NODE_API_MODULE(demi_catnip, Init)
