// How a LibOS instance sleeps. Synchronous waits sleep on the JS thread (Sleep);
// asynchronous waits are served by one waiter thread per instance that sleeps on
// the pipes' futex words and wakes the event loop through a thread-safe function
// (a libuv async handle underneath). The thread is parked while no async wait is
// outstanding, and its handle is unref'd then, so it never keeps Node alive.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ring.h"

namespace catmem {

class Context : public std::enable_shared_from_this<Context> {
 public:
  // The thread-safe function keeps the context alive until Node finalizes it,
  // which also happens, without any call from us, when the environment exits.
  static std::shared_ptr<Context> Create(Napi::Env env, Napi::Function on_wake);
  Context() = default;
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  void Add(const std::shared_ptr<End>& end);
  void Remove(const End* end);
  // Tells a sleeping waiter thread that an end has started wanting something.
  void WantChanged() {
    if (sleeping_.load(std::memory_order_seq_cst)) Poke();
  }
  // Spins briefly, yields, then sleeps on the futexes of the ends that want
  // something, for at most timeout_ns. Checks peers' liveness on the way.
  void Sleep(int64_t timeout_ns);
  void SetActive(Napi::Env env, bool active);
  // JS thread: End::Trim on every end.
  void Trim();
  // Stops and joins the thread and closes every end. Idempotent.
  void Shutdown();

  void SetStaging(Napi::ArrayBuffer buffer);
  uint8_t* staging() const { return staging_; }
  uint64_t staging_size() const { return staging_size_; }

 private:
  void Run();
  void Loop();
  void StopThread();
  // Node finalized the thread-safe function: never touch it again.
  void TsfnGone();
  void Poke();
  void Ack();
  std::vector<std::shared_ptr<End>> Wanting();

  std::mutex mu_;  // guards ends_ against the waiter thread's snapshots
  std::vector<std::shared_ptr<End>> ends_;
  std::atomic<uint32_t> control_{0};  // private futex word: pokes the thread
  std::atomic<bool> active_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> parked_{false};  // waiting on control_ while inactive or notified
  std::atomic<bool> notified_{false};
  bool started_ = false;
  bool shut_ = false;
  bool referenced_ = false;
  bool tsfn_gone_ = false;
  bool idle_ = false;          // the last Sleep timed out (JS thread only)
  uint32_t shared_waits_ = 0;  // Sleeps that found the peer on this CPU (JS thread only)
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  Napi::Reference<Napi::ArrayBuffer> staging_ref_;
  uint8_t* staging_ = nullptr;
  uint64_t staging_size_ = 0;
};

}  // namespace catmem
