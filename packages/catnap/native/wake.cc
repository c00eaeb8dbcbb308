// Wake-ups: libuv reports the epoll fd readable, the engine harvests what
// completed and hands the batch to JS in one crossing. When completions come
// in quick succession (a round trip, a stream), the wake-up then busy-polls
// briefly for the next one instead of going back to sleep: a wake-up through
// the event loop (epoll, a context switch, libuv, a callback scope) costs more
// than the wait it saves, and this is how async waits beat node:net's round
// trip. An idle connection never spins, nor does a process with many sockets.
#include <sys/epoll.h>

#include "clock.h"
#include "engine.h"

namespace catnap {

namespace {

// Spin after a wake-up only if the previous wait was over within this many
// spin budgets: the next completion is then likely to land within one.
constexpr int64_t kWorthBudgets = 2;
// The longest one wake-up keeps the event loop, so timers and other I/O run.
constexpr int64_t kMaxWakeNs = 1000 * 1000;
// Spin only with this many sockets open (a listener and a connection or two):
// with many connections, sleeping lets completions gather into one batch, and
// a spin that takes them one at a time measured slower (conn-64).
constexpr size_t kMaxSpinSockets = 4;

}  // namespace

void Engine::OnWake(void* self, int /*status*/) {
  // Also on error status: the engine polls, and a failed epoll fd reports nothing.
  Engine* engine = static_cast<Engine*>(self);
  if (engine->epfd_ < 0) return;
  Napi::Env env = engine->Env();
  Napi::HandleScope scope(env);
  Napi::Value fn = engine->on_wake_.Value();
  if (fn.IsEmpty() || !fn.IsFunction()) return;  // the TS object was collected
  demi::GuardCallback(env, "wait", [&] {
    const int64_t woke = MonotonicNs();
    const bool spin = engine->SpinWorthwhile(woke);
    // Harvest here, so a wake-up is one crossing into JS with the batch ready:
    // onWake(n) walks the n records, as after any other call.
    engine->BeginCall(env, "wait");
    engine->PollKernel(0, 0);
    double* control = engine->record_base_;
    // Waits that finish here and the waits their continuations start would
    // turn wake-ups off and on again, one native call each: JS only notes what
    // it wants while kInWake is set, and it is applied once, below.
    control[kInWake] = 1;
    control[kWantWakeups] = engine->wakeups_ ? 1 : 0;
    Napi::Value exception;
    bool delivered = engine->DeliverWake(env, &exception);
    int64_t waiting_since = MonotonicNs();
    // JS consumed every record in the callback (and its microtasks), so the
    // buffer can be reused for the next batch.
    while (delivered && spin && control[kWantWakeups] != 0 && engine->epfd_ >= 0 &&
           waiting_since - woke < kMaxWakeNs) {
      engine->BeginCall(env, "wait");
      engine->PollKernel(0, engine->wake_spin_ns_);
      if (engine->records_.Count() == 0) break;
      delivered = engine->DeliverWake(env, &exception);
      waiting_since = MonotonicNs();
    }
    control[kInWake] = 0;
    // Also after an exception: an uncaughtException handler may keep the process going.
    engine->ApplyWakeups(env, control[kWantWakeups] != 0);
    engine->slept_at_ns_ = engine->wakeups_ ? waiting_since : 0;
    if (!exception.IsEmpty()) napi_fatal_exception(env, exception);
  });
}

bool Engine::DeliverWake(Napi::Env env, Napi::Value* exception) {
  Napi::Value fn = on_wake_.Value();
  if (fn.IsEmpty() || !fn.IsFunction()) return false;
  napi_value count = Napi::Number::New(env, records_.Count());
  try {
    // MakeCallback runs microtasks afterwards, so promises resolved here settle now.
    fn.As<Napi::Function>().MakeCallback(env.Global(), {count}, *async_context_);
  } catch (const Napi::Error& error) {
    *exception = error.Value();
    return false;
  }
  return true;
}

bool Engine::SpinWorthwhile(int64_t woke_ns) const {
  return wake_spin_ns_ > 0 && slept_at_ns_ != 0 && sockets_.size() <= kMaxSpinSockets &&
         woke_ns - slept_at_ns_ <= kWorthBudgets * wake_spin_ns_;
}

void Engine::ApplyWakeups(Napi::Env env, bool active) {
  if (epfd_ < 0 || active == wakeups_) return;
  if (active) wakeup_.Start(env, epfd_, "wait");
  wakeup_.Ref(active);
  wakeups_ = active;
}

}  // namespace catnap
