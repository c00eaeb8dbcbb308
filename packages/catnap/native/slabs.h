// Popped bytes land directly in JS-visible slabs, as Node's Buffer pool does:
// each pop's data is a range of the current slab (JS makes a subarray view of
// it), and a fresh slab starts when the current one cannot hold a whole pop.
// A slab stays alive as long as JS holds any view of it. A pool slab's memory
// also goes back to the pool early, once it is no longer the current slab,
// holds no read-ahead bytes, and every view it handed out was freed with
// sgafree (the caller's promise not to read them again).
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace catnap {

constexpr size_t kSlabBytes = 512 * 1024;

class Slabs {
 public:
  struct Space {
    uint8_t* data;
    size_t offset;
    double generation;
    size_t room;  // bytes from data to the end of the slab (at least what was asked)
    bool pooled;  // pool memory: V8 cannot detach (transfer) it
  };

  // Bytes of a slab kept for later pops: a stream read that took more than
  // its pop asked for. Holds the slab alive while anything is left.
  struct Held {
    Napi::Reference<Napi::ArrayBuffer> slab;
    double generation = 0;
    size_t offset = 0;
    size_t length = 0;
  };

  // Drops the slabs replaced during the previous call: JS has fetched what it needed.
  void BeginCall() {
    if (!retired_.empty()) retired_.clear();
  }

  // Room for `want` (<= kSlabBytes) bytes at the current slab's free offset.
  Space Reserve(Napi::Env env, size_t want);
  void Commit(size_t used);

  // Keeps [offset, offset + length) of the current slab (committed already).
  Held Hold(size_t offset, size_t length);
  // A held range is used up: its slab stays visible to Find until the next
  // call, since a record of this call names it.
  void Drop(Held& held);

  // A pop record names a view of slab `generation`: JS makes one view of it.
  void Handed(double generation);
  // JS freed (sgafree) one view of slab `generation`, once per view.
  void Freed(Napi::Env env, double generation);

  struct Stats {
    size_t outstanding;     // pool blocks backing live slabs
    size_t pooled;          // free pool blocks
    double returned_early;  // slabs given back by sgafree accounting
  };
  Stats GetStats() const;

  // The slab of a generation written into a record of the current call, or
  // an empty value (the caller then looks among held ranges).
  Napi::Value Find(double generation);
  void Release();

  // Where fresh slabs come from when the runtime refuses external ArrayBuffers:
  // a JS function returning an uninitialized ArrayBuffer of kSlabBytes
  // (Buffer.allocUnsafeSlow), which spares the zero-filling of every slab.
  void SetAllocator(Napi::Function allocate) { allocate_ = Napi::Persistent(allocate); }

  // Memory of dead slabs kept for the next ones: its pages are already mapped,
  // so a reused slab costs no page faults (a fresh 512 KiB block is mmap'd by
  // malloc, faulted in page by page and unmapped again when freed).
  class Pool;
  // One pool slab's memory: whoever gives it back first (the sgafree
  // accounting or V8's finalizer) sets `returned`, so it returns once.
  struct Life;

 private:
  void Fresh(Napi::Env env);
  Napi::ArrayBuffer FromPool(Napi::Env env, std::shared_ptr<Life>* life);
  void MaybeReturn(Napi::Env env, double generation);

  std::shared_ptr<Pool> pool_;
  bool external_refused_ = false;
  Napi::FunctionReference allocate_;
  Napi::Reference<Napi::ArrayBuffer> current_;
  bool current_pooled_ = false;
  double generation_ = 0;
  size_t used_ = 0;
  std::vector<std::pair<double, Napi::Reference<Napi::ArrayBuffer>>> retired_;
  // Pool slabs still counted, by generation (none once returned or collected).
  std::unordered_map<double, std::shared_ptr<Life>> lives_;
  double returned_early_ = 0;
};

}  // namespace catnap
