// @demi/catnap's addon: the Engine class plus the record layout constants the
// TS side reads, so both sides agree by construction.
#include <demi/error.h>
#include <napi.h>

#include "engine.h"
#include "records.h"
#include "slabs.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createEngine",
              Napi::Function::New(env, &demi::Entry<&catnap::Engine::Create>, "createEngine"));
  exports.Set("RECORD_SLOTS", Napi::Number::New(env, catnap::kSlots));
  exports.Set("RECORD_CAPACITY", Napi::Number::New(env, catnap::kRecordCapacity));
  exports.Set("RECORD_ARRAY_LENGTH", Napi::Number::New(env, catnap::kRecordArrayLength));
  exports.Set("IN_WAKE", Napi::Number::New(env, catnap::kInWake));
  exports.Set("WANT_WAKEUPS", Napi::Number::New(env, catnap::kWantWakeups));
  exports.Set("SLAB_BYTES", Napi::Number::New(env, static_cast<double>(catnap::kSlabBytes)));
  return exports;
}

}  // namespace

NODE_API_MODULE(demi_catnap, Init)
