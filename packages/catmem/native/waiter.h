// How a LibOS instance sleeps. Synchronous waits sleep on the JS thread, on the
// pipes' futex words (Sleep). Asynchronous waits sleep in the event loop: the
// instance's bell (a FIFO, bell.h) is polled by libuv on the JS thread, each
// end it waits on says so in its wake line, and the peer that makes the wait
// ready writes into the bell: one thread wake-up per hand-off, as for a
// socket. A 100 ms timer checks peers' liveness meanwhile. While no async wait
// is outstanding the poll handle is unref'd, so it never keeps Node alive.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "bell.h"
#include "ring.h"

namespace catmem {

class Context {
 public:
  static std::shared_ptr<Context> Create(Napi::Env env, Napi::Function on_wake);
  explicit Context(Napi::Env env) : env_(env) {}
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  void Add(const std::shared_ptr<End>& end);
  void Remove(const End* end);
  // The end has started wanting something: while async waits are
  // outstanding, its peer is asked to ring the bell.
  void WantChanged(End& end) {
    if (active_ && !waking_) Announce(end);
  }
  // Spins briefly, yields, then sleeps on the futexes of the ends that want
  // something, for at most timeout_ns. Checks peers' liveness on the way.
  void Sleep(int64_t timeout_ns);
  // Starts or stops waking the event loop for async waits. Throws SysError
  // when the bell cannot be made (first call only).
  void SetActive(bool active);
  // JS thread: End::Trim on every end.
  void Trim();
  // Closes the bell's handles and every end. Idempotent.
  void Shutdown();

  void SetStaging(Napi::ArrayBuffer buffer);
  uint8_t* staging() const { return staging_; }
  uint64_t staging_size() const { return staging_size_; }

 private:
  struct Handles;  // the libuv handles, freed by their close callbacks
  static void OnReadable(uv_poll_t* poll, int status, int events);
  static void OnHeartbeat(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);
  // Runs the JS wake-up function (completions), then asks again for every end
  // that still wants something.
  static void Wake(Handles* h);
  void Start();
  // Payload bytes the ends popped so far, when there are few enough to spin
  // for (0 otherwise).
  uint64_t Consumed() const;
  // After a pass that popped something, spins up to budget_ns for what the
  // ends wait for next (see kBulkSpinNs, kReplySpinNs); true when it came.
  // Without yield_to_peer it gives up at once when a peer shares this CPU.
  bool SpinForMore(int64_t budget_ns, bool yield_to_peer) const;
  // Tells the end's peer that this loop waits for it; rings the bell at once
  // when what it waits for is already there.
  void Announce(End& end);
  void AnnounceAll();
  void Withdraw();

  Napi::Env env_;
  Napi::FunctionReference on_wake_;
  std::unique_ptr<Napi::AsyncContext> async_;
  std::vector<std::shared_ptr<End>> ends_;
  std::unique_ptr<Bell> bell_;
  Handles* handles_ = nullptr;
  bool active_ = false;
  bool shut_ = false;
  bool idle_ = false;           // the last Sleep timed out
  bool waking_ = false;         // Wake runs the completions: announce after
  uint32_t reply_skip_ = 0;     // wake-ups left that do not spin for a reply
  uint32_t reply_backoff_ = 1;  // reply_skip_ after the next spin that fails
  uint32_t shared_waits_ = 0;   // Sleeps that found the peer on this CPU
  Napi::Reference<Napi::ArrayBuffer> staging_ref_;
  uint8_t* staging_ = nullptr;
  uint64_t staging_size_ = 0;
};

}  // namespace catmem
