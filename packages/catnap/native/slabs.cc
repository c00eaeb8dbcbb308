#include "slabs.h"

#include <cerrno>
#include <cstdlib>

#include "args.h"

namespace catnap {

namespace {
// Node runs the finalizers of external buffers from the event loop, never
// during a long waitSync loop: past this many uncollected pool slabs, slabs
// come from the allocator, whose memory V8 frees as it collects.
constexpr size_t kMaxOutstandingSlabs = 128;
// Every outstanding slab may come back to the pool. A bulk receiver has about
// a garbage collection's worth of slabs outstanding (V8 collects once external
// memory has grown by tens of MiB): a smaller pool gave most of them back to
// malloc at each collection, and the next slabs were faulted in anew, page by
// page (clear_page was 11 % of a 64 KiB bulk receiver's CPU with 32 blocks).
// The pool only grows to what the process had in flight at once.
constexpr size_t kPooledSlabs = kMaxOutstandingSlabs;
}  // namespace

class Slabs::Pool {
 public:
  ~Pool() {
    for (void* block : free_) std::free(block);
  }
  // Null when too many slabs await their finalizers, or malloc fails.
  void* Take() {
    if (outstanding_ >= kMaxOutstandingSlabs) return nullptr;
    void* block = nullptr;
    if (free_.empty()) {
      block = std::malloc(kSlabBytes);
    } else {
      block = free_.back();
      free_.pop_back();
    }
    if (block != nullptr) outstanding_++;
    return block;
  }
  size_t outstanding() const { return outstanding_; }
  size_t pooled() const { return free_.size(); }
  void Give(void* block) {
    outstanding_--;
    if (free_.size() < kPooledSlabs) {
      free_.push_back(block);
    } else {
      std::free(block);
    }
  }

 private:
  std::vector<void*> free_;
  size_t outstanding_ = 0;
};

struct Slabs::Life {
  std::shared_ptr<Pool> pool;
  void* block = nullptr;
  size_t handed = 0;  // views JS made of it
  size_t freed = 0;   // of those, freed with sgafree
  size_t holds = 0;   // read-ahead ranges still in it
  bool returned = false;
  bool collected = false;

  // Runs on the JS thread only (finalizers and engine calls alike).
  void Return(napi_env env) {
    if (returned) return;
    returned = true;
    pool->Give(block);
    int64_t ignored;
    napi_adjust_external_memory(env, -static_cast<int64_t>(kSlabBytes), &ignored);
  }
};

namespace {
// Runs on the JS thread when V8 collects a slab; the hint keeps the pool alive
// even if the engine that made the slab is gone. A slab whose memory went back
// through sgafree already is not returned again.
void ReturnSlab(napi_env env, void* /*data*/, void* hint) {
  auto* life = static_cast<std::shared_ptr<Slabs::Life>*>(hint);
  (*life)->collected = true;
  (*life)->Return(env);
  delete life;
}
}  // namespace

Napi::ArrayBuffer Slabs::FromPool(Napi::Env env, std::shared_ptr<Life>* life) {
  if (external_refused_) return Napi::ArrayBuffer();
  if (!pool_) pool_ = std::make_shared<Pool>();
  void* block = pool_->Take();
  if (block == nullptr) return Napi::ArrayBuffer();
  auto made = std::make_shared<Life>();
  made->pool = pool_;
  made->block = block;
  auto* hint = new std::shared_ptr<Life>(made);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, block, kSlabBytes, ReturnSlab, hint, &buffer) !=
      napi_ok) {
    // Some runtimes (a V8 sandbox) allow no external memory: use the allocator.
    external_refused_ = true;
    delete hint;
    pool_->Give(block);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return Napi::ArrayBuffer();
  }
  // Tell V8 what the slab holds, so it collects dead slabs as it would
  // ArrayBuffers it allocated itself.
  int64_t ignored;
  napi_adjust_external_memory(env, static_cast<int64_t>(kSlabBytes), &ignored);
  *life = std::move(made);
  return Napi::ArrayBuffer(env, buffer);
}

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
  return Space{static_cast<uint8_t*>(data) + used_, used_, generation_, kSlabBytes - used_,
               current_pooled_};
}

Slabs::Held Slabs::Hold(size_t offset, size_t length) {
  Held held;
  held.slab = Napi::Persistent(current_.Value());
  held.generation = generation_;
  held.offset = offset;
  held.length = length;
  auto it = lives_.find(generation_);
  if (it != lives_.end()) it->second->holds++;
  return held;
}

void Slabs::Drop(Held& held) {
  auto it = lives_.find(held.generation);
  if (it != lives_.end() && it->second->holds > 0) it->second->holds--;
  retired_.emplace_back(held.generation, std::move(held.slab));
  held = Held{};
}

void Slabs::Handed(double generation) {
  auto it = lives_.find(generation);
  if (it != lives_.end()) it->second->handed++;
}

void Slabs::Freed(Napi::Env env, double generation) {
  auto it = lives_.find(generation);
  if (it == lives_.end()) return;
  it->second->freed++;
  MaybeReturn(env, generation);
}

// Only a slab no pop can name again: not the current one, no read-ahead bytes
// (a read-ahead range dropped with its socket keeps it until collected), and
// every view handed out freed. Its JS ArrayBuffer lives on, but only freed
// views (and the engine's references) can reach it.
void Slabs::MaybeReturn(Napi::Env env, double generation) {
  if (generation == generation_ && !current_.IsEmpty()) return;
  auto it = lives_.find(generation);
  if (it == lives_.end()) return;
  Life& life = *it->second;
  if (life.returned || life.collected || life.holds > 0 || life.freed < life.handed) return;
  life.Return(env);
  returned_early_ += 1;
  lives_.erase(it);
}

Slabs::Stats Slabs::GetStats() const {
  return Stats{pool_ ? pool_->outstanding() : 0, pool_ ? pool_->pooled() : 0, returned_early_};
}

void Slabs::Commit(size_t used) {
  // Keep every pop's data 8-byte aligned, so wider typed-array views work.
  used_ += (used + 7) & ~static_cast<size_t>(7);
  if (used_ > kSlabBytes) used_ = kSlabBytes;
}

void Slabs::Fresh(Napi::Env env) {
  // The slab being replaced may be all freed already: its memory can back
  // the next one. Slabs V8 collected meanwhile need no counting any more.
  if (!current_.IsEmpty()) retired_.emplace_back(generation_, std::move(current_));
  MaybeReturn(env, generation_);
  for (auto it = lives_.begin(); it != lives_.end();) {
    it = it->second->collected || it->second->returned ? lives_.erase(it) : std::next(it);
  }
  std::shared_ptr<Life> life;
  Napi::ArrayBuffer slab = FromPool(env, &life);
  current_pooled_ = !slab.IsEmpty();
  if (slab.IsEmpty() && !allocate_.IsEmpty()) {
    Napi::Value made = allocate_.Call({});
    if (made.IsArrayBuffer() && made.As<Napi::ArrayBuffer>().ByteLength() == kSlabBytes) {
      slab = made.As<Napi::ArrayBuffer>();
    }
  }
  if (slab.IsEmpty()) slab = Napi::ArrayBuffer::New(env, kSlabBytes);
  current_ = Napi::Persistent(slab);
  generation_ += 1;
  used_ = 0;
  if (life) lives_.emplace(generation_, std::move(life));
}

Napi::Value Slabs::Find(double generation) {
  if (generation == generation_ && !current_.IsEmpty()) return current_.Value();
  for (auto& [gen, ref] : retired_) {
    if (gen == generation) return ref.Value();
  }
  return Napi::Value();
}

void Slabs::Release() {
  retired_.clear();
  current_.Reset();
  current_pooled_ = false;
  lives_.clear();  // their slabs go back when V8 collects them
  allocate_.Reset();
  pool_.reset();  // live slabs keep it until V8 collects them
}

}  // namespace catnap
