#include "waiter.h"

#include <demi/error.h>
#include <sched.h>

#include <algorithm>
#include <utility>

#include "futex.h"

namespace catmem {

namespace {

// Liveness checks and re-evaluation happen at least this often while waiting.
constexpr int64_t kHeartbeatNs = 100 * 1000 * 1000;
// A sync wait whose peer runs on another CPU spins up to kSpinNs: the peer is
// running and a reply is usually microseconds away, while sched_yield would
// hand this core to any other busy process for a whole time slice. A sync wait
// whose peer last ran on this CPU yields at once, up to kYields times, since
// spinning only delays the peer. Either then sleeps on the futex.
// The waiter thread spins kWaiterSpinNs (unless the peer shares its CPU) after
// each wake-up: enough to catch a prompt reply without the peer's FUTEX_WAKE,
// and bounded, so an idle wait costs no CPU.
constexpr int64_t kSpinNs = 50000;
constexpr int64_t kWaiterSpinNs = 20000;
constexpr int kYields = 8;
constexpr uint32_t kSpreadEvery = 64;
// futex_waitv takes at most 128 words; one is the waiter's own control word.
constexpr unsigned kMaxWait = 127;
constexpr int64_t kFallbackSliceNs = 1000 * 1000;

using Ends = std::vector<std::shared_ptr<End>>;

bool AnyReady(const Ends& ends) {
  for (const auto& e : ends) {
    if (e->Ready()) return true;
  }
  return false;
}

void CheckPeers(const Ends& ends) {
  const int64_t now = MonoNs();
  for (const auto& e : ends) e->CheckPeer(now);
}

void Nap(int64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  nanosleep(&ts, nullptr);
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Announces this thread as a sleeper on every end that wants something, checks
// once more (the peer either sees the announcement or we see its data), then
// sleeps on all their futex words (and `control`, if given) at most rel_ns.
bool SleepOn(const Ends& ends, int64_t rel_ns, std::atomic<uint32_t>* control,
             uint32_t control_seen) {
  FutexWaitv words[kMaxWait + 1];
  std::pair<End*, uint32_t> registered[kMaxWait];
  unsigned n = 0;
  bool truncated = false;
  for (const auto& e : ends) {
    const uint32_t wants = e->wants();
    if (wants == 0) continue;
    if (n == kMaxWait) {
      truncated = true;
      break;
    }
    WakeLine* line = e->my_wake();
    const uint32_t seq = line->seq.load(std::memory_order_seq_cst);
    if (wants & kWantRx) line->rx_sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (wants & kWantTx) line->tx_sleepers.fetch_add(1, std::memory_order_seq_cst);
    words[n] = FutexWaitv{seq, reinterpret_cast<uint64_t>(&line->seq), kFutexShared32, 0};
    registered[n] = {e.get(), wants};
    n++;
  }
  const unsigned sleepers = n;
  if (control != nullptr)
    words[n++] = FutexWaitv{control_seen, reinterpret_cast<uint64_t>(control), kFutexPrivate32, 0};
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool ready = AnyReady(ends);
  if (!ready) {
    const int64_t slice = truncated ? std::min(rel_ns, kFallbackSliceNs) : rel_ns;
    if (n == 0) {
      Nap(std::min(rel_ns, kFallbackSliceNs));
    } else if (!FutexWaitMany(words, n, slice)) {
      // No usable futex_waitv: sleep on one word, briefly, and re-check the rest.
      const int64_t ns = std::min(slice, kFallbackSliceNs);
      timespec ts{0, static_cast<long>(ns)};
      const int op =
          (words[0].flags & kFutexPrivate32) == kFutexPrivate32 ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT;
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(words[0].uaddr), op,
              static_cast<uint32_t>(words[0].val), &ts, nullptr, 0);
    }
  }
  for (unsigned i = 0; i < sleepers; i++) {
    WakeLine* line = registered[i].first->my_wake();
    if (registered[i].second & kWantRx) line->rx_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    if (registered[i].second & kWantTx) line->tx_sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
  return ready || AnyReady(ends);
}

}  // namespace

std::shared_ptr<Context> Context::Create(Napi::Env env, Napi::Function on_wake) {
  auto ctx = std::make_shared<Context>();
  auto* holder = new std::shared_ptr<Context>(ctx);
  try {
    ctx->tsfn_ = Napi::ThreadSafeFunction::New(
        env, on_wake, "demi-catmem-waiter", 0, 1,
        [](Napi::Env, std::shared_ptr<Context>* h) {
          (*h)->TsfnGone();
          delete h;
        },
        holder);
  } catch (...) {
    delete holder;
    throw;
  }
  ctx->tsfn_.Unref(env);
  return ctx;
}

Context::~Context() { Shutdown(); }

void Context::Add(const std::shared_ptr<End>& end) {
  std::lock_guard<std::mutex> lock(mu_);
  ends_.push_back(end);
}

void Context::Remove(const End* end) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ends_.erase(std::remove_if(ends_.begin(), ends_.end(),
                               [end](const std::shared_ptr<End>& e) { return e.get() == end; }),
                ends_.end());
  }
  // The waiter may be asleep on this end's word: let it drop its reference.
  if (sleeping_.load(std::memory_order_seq_cst)) Poke();
}

std::vector<std::shared_ptr<End>> Context::Wanting() {
  std::lock_guard<std::mutex> lock(mu_);
  Ends out;
  for (const auto& e : ends_) {
    if (e->wants() != 0) out.push_back(e);
  }
  return out;
}

void Context::Sleep(int64_t timeout_ns) {
  const int64_t start = MonoNs();
  const int64_t deadline = start + timeout_ns;
  // The JS thread is the only one changing ends_, so it reads it without the
  // lock; ends that want nothing are never Ready() and are not slept on.
  const Ends& ends = ends_;
  bool wanting = false;
  for (const auto& e : ends) {
    if (e->wants() != 0) wanting = true;
  }
  if (!wanting) {
    Nap(std::min(timeout_ns, kFallbackSliceNs));
    return;
  }
  CheckPeers(ends);
  if (AnyReady(ends)) return;
  bool spin = true;
  for (const auto& e : ends) {
    if (e->PeerSharesCpu()) spin = false;
  }
  // After a sleep that timed out, nothing is imminent: go straight to sleeping.
  bool quiet = idle_;
  idle_ = false;
  if (quiet) spin = false;
  // Yielding keeps both processes runnable on one CPU, where the scheduler
  // leaves them (they look cache-hot) even when another CPU is idle. Now and
  // then sleep instead: the peer's FUTEX_WAKE then places this process on an
  // idle CPU if there is one, and from there on both spin, a core each.
  if (!spin && !quiet && ++shared_waits_ % kSpreadEvery == 0) quiet = true;
  while (spin && MonoNs() - start < kSpinNs) {
    for (int i = 0; i < 16; i++) {
      if (AnyReady(ends)) return;
      CpuRelax();
    }
  }
  // A peer sharing this core gets to run here.
  const int yields = quiet ? 0 : spin ? 1 : kYields;
  for (int i = 0; i < yields; i++) {
    sched_yield();
    if (AnyReady(ends)) return;
  }
  const int64_t left = deadline - MonoNs();
  if (left > 0) idle_ = !SleepOn(ends, std::min(left, kHeartbeatNs), nullptr, 0);
}

void Context::Trim() {
  // Only the JS thread changes ends_, and this runs on it.
  for (const auto& e : ends_) e->Trim();
}

void Context::Poke() {
  control_.fetch_add(1, std::memory_order_seq_cst);
  // A thread that is running will see the new value before it sleeps: only
  // one parked or asleep on the word needs the system call.
  if (parked_.load(std::memory_order_seq_cst) || sleeping_.load(std::memory_order_seq_cst))
    FutexWakePrivate(&control_);
}

void Context::Ack() {
  notified_.store(false, std::memory_order_seq_cst);
  // Inactive now (the wait it served is over): the next SetActive(true) pokes
  // the thread anyway, so spare this wake-up.
  if (active_.load(std::memory_order_seq_cst)) Poke();
}

void Context::SetActive(Napi::Env env, bool active) {
  if (shut_ || tsfn_gone_) return;
  if (active) {
    if (!started_) {
      // Throws std::system_error (EAGAIN) when no thread can be made, e.g.
      // under a pids limit: nothing has changed then, and the boundary turns
      // it into a DemiError.
      thread_ = std::thread([this] { Run(); });
      started_ = true;
    }
    if (!referenced_) {
      tsfn_.Ref(env);
      referenced_ = true;
    }
    active_.store(true, std::memory_order_seq_cst);
    Poke();
  } else {
    if (referenced_) {
      tsfn_.Unref(env);
      referenced_ = false;
    }
    active_.store(false, std::memory_order_seq_cst);
    // Stop it announcing itself as a sleeper, which would cost the peer a wake per message.
    if (sleeping_.load(std::memory_order_seq_cst)) Poke();
  }
}

void Context::Run() {
  // An exception must never leave a thread (that is std::terminate): a
  // failure in the loop (an allocation) is retried after a pause, as a missed
  // wake-up would be, and the loop ends only when asked to stop.
  for (;;) {
    try {
      Loop();
      return;
    } catch (...) {
      Nap(kFallbackSliceNs);
    }
  }
}

void Context::Loop() {
  while (!stop_.load(std::memory_order_acquire)) {
    const uint32_t seen = control_.load(std::memory_order_seq_cst);
    if (!active_.load(std::memory_order_seq_cst) || notified_.load(std::memory_order_seq_cst)) {
      parked_.store(true, std::memory_order_seq_cst);
      // A Poke after `seen` was read changed control_: the wait returns at once.
      timespec ts{1, 0};
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&control_), FUTEX_WAIT_PRIVATE, seen, &ts,
              nullptr, 0);
      parked_.store(false, std::memory_order_seq_cst);
      continue;
    }
    // Announce before taking the snapshot: an end that starts wanting after
    // the snapshot sees sleeping_ and pokes us.
    sleeping_.store(true, std::memory_order_seq_cst);
    Ends ends = Wanting();
    CheckPeers(ends);
    bool ready = AnyReady(ends);
    bool spin = !ready && !ends.empty();
    for (const auto& e : ends) {
      if (e->PeerSharesCpu()) spin = false;
    }
    if (spin) {
      const int64_t spin_until = MonoNs() + kWaiterSpinNs;
      while (!ready && MonoNs() < spin_until && control_.load(std::memory_order_relaxed) == seen) {
        CpuRelax();
        ready = AnyReady(ends);
      }
    }
    if (!ready && control_.load(std::memory_order_seq_cst) == seen)
      ready = SleepOn(ends, kHeartbeatNs, &control_, seen);
    sleeping_.store(false, std::memory_order_seq_cst);
    ends.clear();
    if (ready && active_.load(std::memory_order_seq_cst) &&
        !stop_.load(std::memory_order_acquire)) {
      notified_.store(true, std::memory_order_seq_cst);
      std::shared_ptr<Context> self = shared_from_this();
      napi_status status = tsfn_.NonBlockingCall([self](Napi::Env env, Napi::Function on_wake) {
        if (env == nullptr) return;
        try {
          if (!self->shut_) on_wake.Call({});
        } catch (const Napi::Error& e) {
          self->Ack();
          e.ThrowAsJavaScriptException();
          return;
        } catch (...) {
          self->Ack();
          demi::CurrentJsError(env, "wait").ThrowAsJavaScriptException();
          return;
        }
        self->Ack();
      });
      if (status != napi_ok) break;  // the handle is closing: the environment is going away
    }
  }
}

void Context::StopThread() {
  stop_.store(true, std::memory_order_seq_cst);
  Poke();
  if (thread_.joinable()) thread_.join();
}

void Context::TsfnGone() {
  StopThread();
  tsfn_gone_ = true;
}

void Context::Shutdown() {
  if (shut_) return;
  shut_ = true;
  StopThread();
  if (!tsfn_gone_) tsfn_.Release();
  Ends ends;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ends.swap(ends_);
  }
  for (const auto& e : ends) e->Close();
  staging_ref_.Reset();
  staging_ = nullptr;
  staging_size_ = 0;
}

void Context::SetStaging(Napi::ArrayBuffer buffer) {
  staging_ref_ = Napi::Persistent(buffer);
  staging_ = static_cast<uint8_t*>(buffer.Data());
  staging_size_ = buffer.ByteLength();
}

}  // namespace catmem
