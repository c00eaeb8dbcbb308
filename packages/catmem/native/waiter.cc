#include "waiter.h"

#include <demi/error.h>
#include <sched.h>

#include <algorithm>
#include <utility>

#include "futex.h"
#include "segment.h"

namespace catmem {

namespace {

// Liveness checks and re-evaluation happen at least this often while waiting.
constexpr int64_t kHeartbeatNs = 100 * 1000 * 1000;
// A sync wait whose peer runs on another CPU spins up to kSpinNs: the peer is
// running and a reply is usually microseconds away, while sched_yield would
// hand this core to any other busy process for a whole time slice. A sync wait
// whose peer last ran on this CPU yields at once, up to kYields times, since
// spinning only delays the peer. Either then sleeps on the futex.
constexpr int64_t kSpinNs = 50000;
// While async waits are outstanding, peers' liveness is checked this often (a
// dead peer rings no bell).
constexpr uint64_t kHeartbeatMs = 100;
// A wake-up whose completion pass popped at least kBulkBytes of payload spins
// up to kBulkSpinNs for the next record before the loop sleeps (at most
// kSpinMaxEnds ends, no peer on this CPU, at most kWakeHoldNs per wake-up):
// a bulk consumer that empties the ring would otherwise sleep and be woken
// once per record.
constexpr uint64_t kBulkBytes = 32 * 1024;
constexpr int64_t kBulkSpinNs = 30000;
// A pass that popped less (a reply in a ping-pong) looks up to kReplySpinNs
// for the next one, with at most kSpinMaxEnds ends and as long as such looks
// pay: it yields every kYieldEveryNs, or at once while the peer last ran on
// this CPU, instead of giving up; a look that finds nothing makes the next
// `backoff` wake-ups sleep at once, and the backoff doubles with each failure
// up to kMaxBackoff (a mutex's adaptive spinning, or Linux's busy polling of
// a socket, in the same spirit). A process that receives nothing has no
// wake-up and never looks.
constexpr int64_t kReplySpinNs = 30000;
constexpr uint32_t kMaxBackoff = 256;
// Looking for a reply yields the CPU this often, so another runnable process
// on this core (perhaps the one that will answer) gets to run.
constexpr int64_t kYieldEveryNs = 5000;
constexpr int64_t kWakeHoldNs = 1000000;
constexpr size_t kSpinMaxEnds = 4;
constexpr int kYields = 8;
constexpr uint32_t kSpreadEvery = 64;
// futex_waitv takes at most 128 words.
constexpr unsigned kMaxWait = 128;
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
// sleeps on all their futex words at most rel_ns.
bool SleepOn(const Ends& ends, int64_t rel_ns) {
  FutexWaitv words[kMaxWait];
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
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(words[0].uaddr), FUTEX_WAIT,
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

struct Context::Handles {
  uv_poll_t poll;
  uv_timer_t timer;
  Context* ctx;  // nullptr once the context shut down
  int open = 2;
};

std::shared_ptr<Context> Context::Create(Napi::Env env, Napi::Function on_wake) {
  auto ctx = std::make_shared<Context>(env);
  ctx->on_wake_ = Napi::Persistent(on_wake);
  ctx->async_ = std::make_unique<Napi::AsyncContext>(env, "demi-catmem-wake");
  return ctx;
}

Context::~Context() { Shutdown(); }

void Context::Add(const std::shared_ptr<End>& end) { ends_.push_back(end); }

void Context::Remove(const End* end) {
  ends_.erase(std::remove_if(ends_.begin(), ends_.end(),
                             [end](const std::shared_ptr<End>& e) { return e.get() == end; }),
              ends_.end());
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
  if (left > 0) idle_ = !SleepOn(ends, std::min(left, kHeartbeatNs));
}

void Context::Trim() {
  // Only the JS thread changes ends_, and this runs on it.
  for (const auto& e : ends_) e->Trim();
}

void Context::Start() {
  auto bell = std::make_unique<Bell>();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr)
    throw SysError{EINVAL, "no event loop to wait on"};
  auto* h = new Handles();
  h->ctx = this;
  int err = uv_poll_init(loop, &h->poll, bell->fd());
  if (err != 0) {
    delete h;
    throw SysError{-err, std::string("cannot poll the wake-up FIFO: ") + uv_strerror(err)};
  }
  uv_timer_init(loop, &h->timer);
  h->poll.data = h;
  h->timer.data = h;
  uv_unref(reinterpret_cast<uv_handle_t*>(&h->poll));
  uv_unref(reinterpret_cast<uv_handle_t*>(&h->timer));
  err = uv_poll_start(&h->poll, UV_READABLE, OnReadable);
  if (err != 0) {
    h->ctx = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&h->timer), OnClosed);
    throw SysError{-err, std::string("cannot poll the wake-up FIFO: ") + uv_strerror(err)};
  }
  handles_ = h;
  bell_ = std::move(bell);
}

void Context::SetActive(bool active) {
  if (shut_) return;
  if (active) {
    if (handles_ == nullptr) Start();
    if (!active_) {
      active_ = true;
      uv_ref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
      uv_timer_start(&handles_->timer, OnHeartbeat, kHeartbeatMs, kHeartbeatMs);
    }
    AnnounceAll();
  } else if (active_) {
    active_ = false;
    uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
    uv_timer_stop(&handles_->timer);
    Withdraw();
  }
}

void Context::Announce(End& end) {
  const uint32_t wants = end.wants();
  if (wants == 0) return;
  WakeLine* line = end.my_wake();
  // Still standing since it was last checked: the peer has not rung yet.
  if (line->loop_wants.load(std::memory_order_relaxed) == wants) return;
  line->loop_pid.store(bell_->pid(), std::memory_order_relaxed);
  line->loop_nonce.store(bell_->nonce(), std::memory_order_relaxed);
  line->loop_wants.store(wants, std::memory_order_seq_cst);
  // Pairs with the peer's fence after publishing: either it sees loop_wants
  // or we see what it published.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (end.Ready()) bell_->Ring();
}

void Context::AnnounceAll() {
  for (const auto& e : ends_) Announce(*e);
}

void Context::Withdraw() {
  for (const auto& e : ends_) {
    std::atomic<uint32_t>& word = e->my_wake()->loop_wants;
    if (word.load(std::memory_order_relaxed) != 0) word.store(0, std::memory_order_relaxed);
  }
}

void Context::Wake(Handles* h) {
  Context* ctx = h->ctx;
  if (ctx == nullptr || !ctx->active_) return;
  Napi::Env env = ctx->env_;
  const int64_t start = MonoNs();
  // Waits started by the completions are announced once, below: while this
  // loop spins for them, their peers need not ring.
  ctx->waking_ = true;
  for (;;) {
    const uint64_t before = ctx->Consumed();
    {
      Napi::HandleScope scope(env);
      try {
        ctx->on_wake_.MakeCallback(env.Global(), {}, *ctx->async_);
      } catch (const Napi::Error& e) {
        // Nothing in JS called us: report it as Node reports any uncaught error.
        napi_fatal_exception(env, e.Value());
      } catch (...) {
        napi_fatal_exception(env, demi::CurrentJsError(env, "wait").Value());
      }
    }
    ctx = h->ctx;  // the callback may have shut the context down
    if (ctx == nullptr) return;
    ctx->waking_ = false;
    if (!ctx->active_) return;
    const uint64_t popped = ctx->Consumed() - before;
    if (popped == 0 || MonoNs() - start > kWakeHoldNs) break;
    if (popped >= kBulkBytes) {
      if (!ctx->SpinForMore(kBulkSpinNs, false)) break;
    } else {
      if (ctx->reply_skip_ > 0) {
        ctx->reply_skip_--;
        break;
      }
      if (!ctx->SpinForMore(kReplySpinNs, true)) {
        ctx->reply_skip_ = ctx->reply_backoff_;
        ctx->reply_backoff_ = std::min(ctx->reply_backoff_ * 2, kMaxBackoff);
        break;
      }
      ctx->reply_backoff_ = 1;
    }
    ctx->waking_ = true;
  }
  ctx->AnnounceAll();
}

uint64_t Context::Consumed() const {
  if (ends_.size() > kSpinMaxEnds) return 0;
  uint64_t sum = 0;
  for (const auto& e : ends_) sum += e->rx_consumed();
  return sum;
}

bool Context::SpinForMore(int64_t budget_ns, bool yield_to_peer) const {
  bool wanting = false;
  bool shared = false;
  for (const auto& e : ends_) {
    if (e->wants() == 0) continue;
    wanting = true;
    if (e->PeerSharesCpu()) shared = true;
  }
  if (!wanting || (shared && !yield_to_peer)) return false;
  // A peer that last ran on this CPU is most likely queued behind this
  // process (a wake-up places the woken next to its waker): yield to it at
  // once and look again, rather than spin in its way.
  const int64_t yield_every = !yield_to_peer ? INT64_MAX / 2 : shared ? 0 : kYieldEveryNs;
  const int64_t begin = MonoNs();
  int64_t now = begin;
  int64_t yield_at = begin + yield_every;
  while (now - begin < budget_ns) {
    for (int i = 0; i < 16; i++) {
      if (AnyReady(ends_)) return true;
      CpuRelax();
    }
    now = MonoNs();
    if (now >= yield_at) {
      sched_yield();
      if (AnyReady(ends_)) return true;
      now = MonoNs();
      yield_at = now + yield_every;
    }
  }
  return AnyReady(ends_);
}

void Context::OnReadable(uv_poll_t* poll, int, int) {
  auto* h = static_cast<Handles*>(poll->data);
  if (h->ctx == nullptr) return;
  h->ctx->bell_->Drain();
  Wake(h);
}

void Context::OnHeartbeat(uv_timer_t* timer) {
  auto* h = static_cast<Handles*>(timer->data);
  Context* ctx = h->ctx;
  if (ctx == nullptr) return;
  Ends wanting;
  for (const auto& e : ctx->ends_) {
    if (e->wants() != 0) wanting.push_back(e);
  }
  CheckPeers(wanting);
  // Data, room and closes ring the bell; a death does not, nor does a ring the
  // peer could not make (no descriptor left to open this bell): what is ready
  // then waits at most one heartbeat, never forever.
  for (const auto& e : wanting) {
    if (e->PeerDied() || e->Ready()) {
      Wake(h);
      return;
    }
  }
}

void Context::OnClosed(uv_handle_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (--h->open == 0) delete h;
}

void Context::Shutdown() {
  if (shut_) return;
  shut_ = true;
  active_ = false;
  if (handles_ != nullptr) {
    handles_->ctx = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->poll), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), OnClosed);
    handles_ = nullptr;
  }
  bell_.reset();  // no longer polled: closes and unlinks the FIFO
  Ends ends;
  ends.swap(ends_);
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
