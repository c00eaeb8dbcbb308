#include "slabs.h"

#include <cerrno>

#include "args.h"

namespace catnap {

Slabs::Space Slabs::Reserve(Napi::Env env, size_t want) {
  void* data = nullptr;
  size_t length = 0;
  if (!current_.IsEmpty()) {
    // Re-read every time: JS may have detached (transferred) the slab since.
    napi_get_arraybuffer_info(env, current_.Value(), &data, &length);
  }
  if (data == nullptr || length != kSlabBytes || kSlabBytes - used_ < want) {
    Fresh(env);
    napi_get_arraybuffer_info(env, current_.Value(), &data, &length);
    if (data == nullptr || length != kSlabBytes) Fail(ENOMEM, "pop", "no slab memory");
  }
  return Space{static_cast<uint8_t*>(data) + used_, used_, generation_};
}

void Slabs::Commit(size_t used) {
  // Keep every pop's data 8-byte aligned, so wider typed-array views work.
  used_ += (used + 7) & ~static_cast<size_t>(7);
  if (used_ > kSlabBytes) used_ = kSlabBytes;
}

void Slabs::Fresh(Napi::Env env) {
  Napi::ArrayBuffer slab;
  if (!allocate_.IsEmpty()) {
    Napi::Value made = allocate_.Call({});
    if (made.IsArrayBuffer() && made.As<Napi::ArrayBuffer>().ByteLength() == kSlabBytes) {
      slab = made.As<Napi::ArrayBuffer>();
    }
  }
  if (slab.IsEmpty()) slab = Napi::ArrayBuffer::New(env, kSlabBytes);
  if (!current_.IsEmpty()) retired_.emplace_back(generation_, std::move(current_));
  current_ = Napi::Persistent(slab);
  generation_ += 1;
  used_ = 0;
}

Napi::Value Slabs::Lookup(Napi::Env /*env*/, double generation) {
  if (generation == generation_ && !current_.IsEmpty()) return current_.Value();
  for (auto& [gen, ref] : retired_) {
    if (gen == generation) return ref.Value();
  }
  Fail(EINVAL, "slab", "no slab of that generation in the last call");
}

void Slabs::Release() {
  retired_.clear();
  current_.Reset();
  allocate_.Reset();
}

}  // namespace catnap
