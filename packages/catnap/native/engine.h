// The catnap engine: kernel sockets under our own queue descriptors, an epoll
// instance (edge-triggered), per-socket operation queues, and the record
// buffer through which completions cross to JS in batches.
#pragma once
#include <demi/error.h>
#include <demi/fd_watch.h>
#include <napi.h>
#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "records.h"
#include "slabs.h"
#include "socket.h"

namespace catnap {

// How long a waitSync poll may spin before it returns to JS, which checks its
// deadline and then spins again or blocks.
constexpr int64_t kSyncSpinNs = 50 * 1000;
// Busy-poll budget after a wake-up, by default and at most (wakeSpinMicros).
constexpr int kDefaultWakeSpinUs = 50;
constexpr int kMaxWakeSpinUs = 1000;
// The most one stream read takes when its pop asked for less: the rest waits
// for the next pops (read-ahead). One recv of up to 256 KiB instead of four of
// 64 KiB: fewer system calls, wake-ups and window updates to the sender.
constexpr size_t kMaxReadAhead = 256 * 1024;

// Socket options every new TCP socket gets (from tcp_socket_options).
struct TcpDefaults {
  bool nodelay = true;
  bool keepalive = false;
  int keep_idle_s = 0;      // 0: the kernel's default
  int keep_interval_s = 0;  // 0: the kernel's default
  bool linger = false;
  int linger_s = 0;
};

// JS sees an engine as a plain object of functions, each bound to the Engine
// through its Node-API callback data (no per-call unwrap). The object and
// every function hold a reference: the Engine lives while any of them does.
class Engine {
 public:
  // createEngine(onWake, records, options?): `records` is the Float64Array over a
  // SharedArrayBuffer that completion records are written into.
  static Napi::Value Create(const Napi::CallbackInfo& info);
  ~Engine();

 private:
  explicit Engine(const Napi::CallbackInfo& info);
  Napi::Env Env() const { return Napi::Env(env_); }
  template <Napi::Value (Engine::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value Call(const Napi::CallbackInfo& info) {
    // The boundary: any C++ exception leaves as a JS error with an errno code.
    return demi::Guard(info.Env(), "catnap",
                       [&] { return (static_cast<Engine*>(info.Data())->*Method)(info); });
  }
  static void Release(napi_env env, void* data, void* hint);

  // ---- entry points from JS (engine.cc); each validates every argument ----
  Napi::Value SlabOf(const Napi::CallbackInfo& info);
  Napi::Value NewSocket(const Napi::CallbackInfo& info);
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value AsyncClose(const Napi::CallbackInfo& info);
  Napi::Value Push(const Napi::CallbackInfo& info);
  Napi::Value Pushto(const Napi::CallbackInfo& info);
  Napi::Value Pop(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value SetWakeups(const Napi::CallbackInfo& info);
  Napi::Value Setsockopt(const Napi::CallbackInfo& info);
  Napi::Value Getsockopt(const Napi::CallbackInfo& info);
  Napi::Value Peername(const Napi::CallbackInfo& info);
  Napi::Value Sockname(const Napi::CallbackInfo& info);
  Napi::Value SocketCount(const Napi::CallbackInfo& info);
  Napi::Value Sgafree(const Napi::CallbackInfo& info);
  Napi::Value SlabStats(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);

  // The socket named by argument `i`, or EBADF.
  Socket& Lookup(const Napi::CallbackInfo& info, size_t i, const char* syscall);
  // Checks the engine is live and points the record writer at the shared buffer.
  void BeginCall(Napi::Env env, const char* syscall);
  Napi::Value PushCommon(const Napi::CallbackInfo& info, const char* syscall, bool to);
  // ---- wake-ups (wake.cc) ----
  static void OnWake(void* self, int status);
  // Calls onWake(n) with the records just harvested; false if JS threw (the
  // exception is in *exception) or the engine cannot call JS any more.
  bool DeliverWake(Napi::Env env, Napi::Value* exception);
  // Whether this wake-up should busy-poll for the next completion.
  bool SpinWorthwhile(int64_t woke_ns) const;
  void ApplyWakeups(Napi::Env env, bool active);

  // ---- the I/O core (io.cc) ----
  uint32_t NextQd();
  Socket* Find(uint32_t qd);
  Socket& Add(int fd, bool stream);  // takes ownership of fd; throws (and closes it) on failure
  void ApplyTcpDefaults(int fd);
  void Destroy(uint32_t qd);
  void CloseAll();

  // Each returns true when the operation completed (a record was written).
  bool PopOnce(Socket& s, double token, uint32_t size);
  // Completes a pop from the bytes a stream read took ahead (s.ahead).
  void PopAhead(Socket& s, double token, uint32_t size);
  bool AcceptOnce(Socket& s, double token);
  bool PushOnce(Socket& s, PendingPush& p);
  // Sends queued stream pushes with one sendmsg and completes those it took
  // whole; false when the kernel took nothing (EAGAIN).
  bool PushBatch(Socket& s);

  // Runs every queued operation the socket's readiness allows, oldest first.
  // Returns false when the socket finished an asyncClose and no longer exists.
  bool Progress(Socket& s);
  void CheckConnect(Socket& s);
  void DrainAccepts(Socket& s);
  void DrainPops(Socket& s);
  void DrainPushes(Socket& s);
  void RecycleCopy(std::vector<uint8_t>&& copy);
  void Defer(Socket& s);
  int WaitKernel(epoll_event* events, int max, double timeout_ms);
  // Harvests what is ready; blocks up to timeout_ms, or first busy-polls for
  // up to spin_ns (only when timeout_ms is 0).
  void PollKernel(double timeout_ms, int64_t spin_ns);
  void Dispatch(const epoll_event* events, int n);

  napi_env env_;
  int js_refs_ = 0;
  int epfd_ = -1;
  TcpDefaults tcp_;
  std::unordered_map<uint32_t, std::unique_ptr<Socket>> sockets_;
  std::vector<uint32_t> deferred_;  // sockets cut short by a full record buffer
  // Copy buffers of completed pushes, reused by the next queued pushes: a fresh
  // allocation of tens of KiB costs a page fault per 4 KiB once malloc has
  // given the memory back to the kernel.
  std::vector<std::vector<uint8_t>> spare_copies_;
  Records records_;
  // A SharedArrayBuffer cannot be detached, so its address stays valid for as
  // long as this reference keeps it alive: no per-call check.
  Napi::ObjectReference record_array_;
  double* record_base_ = nullptr;
  Slabs slabs_;
  Napi::FunctionReference on_wake_;  // weak: the TS object owns the function
  std::unique_ptr<Napi::AsyncContext> async_context_;
  demi::FdWatch wakeup_;
  bool wakeups_ = false;  // the loop is referenced
  // Adaptive busy-poll after a wake-up (wake.cc): the budget (0: never), and
  // when the last wake-up returned to the event loop with waits outstanding.
  int64_t wake_spin_ns_ = kDefaultWakeSpinUs * 1000;
  int64_t slept_at_ns_ = 0;
};

}  // namespace catnap
