// The JS-facing surface. Every entry point checks every argument and reports
// problems as exceptions carrying `code` and `errno`; nothing here aborts.
// push and pop are one call each and return plain numbers, so the hot path
// allocates nothing on the native side.
#include <demi/args.h>
#include <demi/error.h>
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bell.h"
#include "js_ops.h"
#include "ring.h"
#include "segment.h"
#include "waiter.h"

using catmem::Context;
using catmem::End;

namespace {

using demi::Fail;

double IntArg(const Napi::CallbackInfo& info, size_t i, const char* what, double min, double max) {
  return static_cast<double>(demi::IntegerArg(info, i, what, static_cast<int64_t>(min),
                                              static_cast<int64_t>(max), "catmem"));
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what, size_t max_len) {
  return demi::StringArg(info, i, what, max_len, "catmem");
}

catmem::Place PlaceArg(const Napi::CallbackInfo& info, size_t i) {
  catmem::Place place;
  if (info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull())
    place.dir = StringArg(info, i, "directory", 4000);
  return place;
}

}  // namespace

class CatmemAddon : public Napi::Addon<CatmemAddon>, public demi::GuardedMethods<CatmemAddon> {
 public:
  static constexpr const char* kName = "catmem";

  CatmemAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(
        exports,
        {
            InstanceMethod("newContext", &CatmemAddon::Guarded<&CatmemAddon::NewContext>),
            InstanceMethod("destroyContext", &CatmemAddon::Guarded<&CatmemAddon::DestroyContext>),
            InstanceMethod("setStaging", &CatmemAddon::Guarded<&CatmemAddon::SetStaging>),
            InstanceMethod("create", &CatmemAddon::Guarded<&CatmemAddon::Create>),
            InstanceMethod("open", &CatmemAddon::Guarded<&CatmemAddon::Open>),
            InstanceMethod("info", &CatmemAddon::Guarded<&CatmemAddon::Info>),
            InstanceMethod("push", &CatmemAddon::Guarded<&CatmemAddon::Push>),
            InstanceMethod("pop", &CatmemAddon::Guarded<&CatmemAddon::Pop>),
            InstanceMethod("close", &CatmemAddon::Guarded<&CatmemAddon::Close>),
            InstanceMethod("sleep", &CatmemAddon::Guarded<&CatmemAddon::Sleep>),
            InstanceMethod("popWait", &CatmemAddon::Guarded<&CatmemAddon::PopWait>),
            InstanceMethod("setWakeups", &CatmemAddon::Guarded<&CatmemAddon::SetWakeups>),
            InstanceMethod("trim", &CatmemAddon::Guarded<&CatmemAddon::Trim>),
            InstanceMethod("list", &CatmemAddon::Guarded<&CatmemAddon::List>),
            InstanceMethod("removeStale", &CatmemAddon::Guarded<&CatmemAddon::RemoveStale>),
            InstanceMethod("removeStaleBells",
                           &CatmemAddon::Guarded<&CatmemAddon::RemoveStaleBells>),
        });
    exports.Set("layoutVersion", Napi::Number::New(env, catmem::kVersion));
    exports.Set("defaultRingSize",
                Napi::Number::New(env, static_cast<double>(catmem::kDefaultRingSize)));
    exports.Set("minRingSize", Napi::Number::New(env, static_cast<double>(catmem::kMinRingSize)));
    exports.Set("maxRingSize", Napi::Number::New(env, static_cast<double>(catmem::kMaxRingSize)));
  }

 private:
  struct Slot {
    std::shared_ptr<End> end;
    Context* ctx = nullptr;
  };

  Napi::Value NewContext(const Napi::CallbackInfo& info) { return contexts_.New(info); }

  Context& Ctx(const Napi::CallbackInfo& info, size_t i) { return contexts_.Get(info, i); }

  Slot& SlotArg(const Napi::CallbackInfo& info, size_t i) {
    const double h = IntArg(info, i, "handle", 1, 1e9);
    if (h > slots_.size() || !slots_[static_cast<size_t>(h) - 1].end)
      Fail(EBADF, "catmem", "no such pipe handle");
    return slots_[static_cast<size_t>(h) - 1];
  }

  Napi::Value DestroyContext(const Napi::CallbackInfo& info) {
    Context& ctx = Ctx(info, 0);
    for (Slot& slot : slots_) {
      if (slot.ctx == &ctx) {
        slot.end.reset();
        slot.ctx = nullptr;
      }
    }
    contexts_.Destroy(ctx);
    return info.Env().Undefined();
  }

  Napi::Value SetStaging(const Napi::CallbackInfo& info) {
    catmem::SetStaging(Ctx(info, 0), info, 1, kName);
    return info.Env().Undefined();
  }

  Napi::Value Adopt(const Napi::CallbackInfo& info, Context& ctx,
                    std::shared_ptr<catmem::Mapping> map, int side) {
    auto end = std::make_shared<End>(std::move(map), side);
    ctx.Add(end);
    size_t index = 0;
    while (index < slots_.size() && slots_[index].end) index++;
    if (index == slots_.size()) slots_.emplace_back();
    slots_[index].end = end;
    slots_[index].ctx = &ctx;
    return Napi::Number::New(info.Env(), static_cast<double>(index + 1));
  }

  Napi::Value Create(const Napi::CallbackInfo& info) {
    Context& ctx = Ctx(info, 0);
    const std::string name = StringArg(info, 1, "pipe name", 1024);
    const double ring_size = IntArg(info, 2, "ring size", 0, 1e12);
    const catmem::Place place = PlaceArg(info, 3);
    return Adopt(info, ctx, catmem::CreateSegment(name, static_cast<uint64_t>(ring_size), place),
                 0);
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Context& ctx = Ctx(info, 0);
    const std::string name = StringArg(info, 1, "pipe name", 1024);
    const catmem::Place place = PlaceArg(info, 2);
    return Adopt(info, ctx, catmem::OpenSegment(name, place), 1);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Slot& slot = SlotArg(info, 0);
    Napi::Array out = Napi::Array::New(info.Env(), 4);
    out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(slot.end->ring_size())));
    out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(slot.end->max_payload())));
    out.Set(2u, Napi::Number::New(info.Env(), slot.end->side()));
    // What the event loop's spin decisions count (tests check it).
    out.Set(3u, Napi::Number::New(info.Env(), static_cast<double>(slot.end->rx_consumed())));
    return out;
  }

  Napi::Value Push(const Napi::CallbackInfo& info) {
    Slot& slot = SlotArg(info, 0);
    return catmem::Push(*slot.end, *slot.ctx, info, 1, kName);
  }

  Napi::Value Pop(const Napi::CallbackInfo& info) {
    Slot& slot = SlotArg(info, 0);
    return catmem::Pop(*slot.end, *slot.ctx, info, 1, kName, false, false);
  }

  // A pop that waits when nothing is there (catmem checks the peer even for 0 ms).
  Napi::Value PopWait(const Napi::CallbackInfo& info) {
    Slot& slot = SlotArg(info, 0);
    return catmem::Pop(*slot.end, *slot.ctx, info, 1, kName, true, true);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Slot& slot = SlotArg(info, 0);
    std::shared_ptr<End> end = std::move(slot.end);
    Context* ctx = slot.ctx;
    slot.ctx = nullptr;
    end->Close();
    ctx->Remove(end.get());
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

  Napi::Value SetWakeups(const Napi::CallbackInfo& info) {
    catmem::SetWakeups(Ctx(info, 0), info, 1, kName);
    return info.Env().Undefined();
  }

  Napi::Value List(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto pipes = catmem::ListSegments(PlaceArg(info, 0));
    Napi::Array out = Napi::Array::New(env, pipes.size());
    for (size_t i = 0; i < pipes.size(); i++) {
      const auto& p = pipes[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", p.name);
      o.Set("ringSize", Napi::Number::New(env, static_cast<double>(p.ring_size)));
      o.Set("state", Napi::Number::New(env, p.state));
      Napi::Array ends = Napi::Array::New(env, 2);
      for (uint32_t k = 0; k < 2; k++) {
        Napi::Object e = Napi::Object::New(env);
        e.Set("state", Napi::Number::New(env, p.end_state[k]));
        e.Set("pid", Napi::Number::New(env, p.pid[k]));
        e.Set("alive", Napi::Boolean::New(env, p.alive[k]));
        ends.Set(k, e);
      }
      o.Set("ends", ends);
      o.Set("stale", Napi::Boolean::New(env, p.stale));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value RemoveStale(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto names = catmem::RemoveStaleSegments(PlaceArg(info, 0));
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) out.Set(static_cast<uint32_t>(i), names[i]);
    return out;
  }

  Napi::Value RemoveStaleBells(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto names = catmem::RemoveStaleBells();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) out.Set(static_cast<uint32_t>(i), names[i]);
    return out;
  }

  std::vector<Slot> slots_;
  catmem::ContextTable contexts_{kName};
};

NODE_API_ADDON(CatmemAddon)
