#include "ring.h"

#include <sched.h>

#include <algorithm>
#include <cstring>

#include "futex.h"

namespace catmem {

namespace {

constexpr int64_t kPeerCheckNs = 100 * 1000 * 1000;

void CopyIn(uint8_t* ring, uint64_t mask, uint64_t pos, const uint8_t* src, uint64_t n) {
  const uint64_t off = pos & mask;
  const uint64_t first = std::min(n, mask + 1 - off);
  memcpy(ring + off, src, first);
  if (first < n) memcpy(ring, src + first, n - first);
}

void CopyOut(uint8_t* dst, const uint8_t* ring, uint64_t mask, uint64_t pos, uint64_t n) {
  const uint64_t off = pos & mask;
  const uint64_t first = std::min(n, mask + 1 - off);
  memcpy(dst, ring + off, first);
  if (first < n) memcpy(dst + first, ring, n - first);
}

}  // namespace

End::End(std::shared_ptr<Mapping> map, int side)
    : map_(std::move(map)),
      hdr_(map_->header()),
      side_(side),
      ring_size_(hdr_->ring_size),
      mask_(ring_size_ - 1),
      max_payload_(MaxPayload(ring_size_)) {
  uint8_t* base = map_->base();
  tx_data_ = base + RingOffset(side, ring_size_);
  rx_data_ = base + RingOffset(1 - side, ring_size_);
  tx_tail_ = &hdr_->tail[side].value;
  tx_cpu_ = &hdr_->tail[side].cpu;
  rx_cpu_ = &hdr_->tail[1 - side].cpu;
  tx_head_ = &hdr_->head[side].value;
  rx_tail_ = &hdr_->tail[1 - side].value;
  rx_head_ = &hdr_->head[1 - side].value;
  peer_wake_ = &hdr_->wake[1 - side];
  peer_info_ = &hdr_->end[1 - side];
  tx_tail_local_ = tx_tail_->load(std::memory_order_acquire);
  tx_head_cache_ = tx_head_->load(std::memory_order_acquire);
  rx_head_local_ = rx_head_->load(std::memory_order_acquire);
  rx_tail_cache_ = rx_tail_->load(std::memory_order_acquire);
}

void End::Want(uint32_t bit) {
  if ((want_.load(std::memory_order_relaxed) & bit) == 0)
    want_.fetch_or(bit, std::memory_order_seq_cst);
}

bool End::PeerGone() const { return peer_dead_.load(std::memory_order_acquire); }

void End::WakePeer() {
  peer_wake_->seq.fetch_add(1, std::memory_order_seq_cst);
  FutexWakeShared(&peer_wake_->seq);
}

int64_t End::Push(const uint8_t* data, uint64_t len) {
  if (closed_) return -EBADF;
  if (peer_info_->state.load(std::memory_order_acquire) == kClosed) {
    Unwant(kWantTx);
    return -EPIPE;
  }
  if (PeerGone()) {
    Unwant(kWantTx);
    return -ECONNRESET;
  }
  uint64_t written = 0;
  while (written < len) {
    const uint64_t chunk = std::min(len - written, max_payload_);
    const uint64_t need = kRecordHeader + Align8(chunk);
    if (ring_size_ - (tx_tail_local_ - tx_head_cache_) < need) {
      tx_head_cache_ = tx_head_->load(std::memory_order_acquire);
      const uint64_t used = tx_tail_local_ - tx_head_cache_;
      if (used > ring_size_) {  // the peer wrote nonsense into the header
        Unwant(kWantTx);
        return -EIO;
      }
      if (ring_size_ - used < need) {
        tx_need_.store(need, std::memory_order_relaxed);
        Want(kWantTx);
        break;
      }
    }
    const uint32_t header[2] = {static_cast<uint32_t>(chunk), 0};
    memcpy(tx_data_ + (tx_tail_local_ & mask_), header, sizeof header);
    CopyIn(tx_data_, mask_, tx_tail_local_ + kRecordHeader, data + written, chunk);
    tx_tail_local_ += need;
    written += chunk;
  }
  if (written > 0) {
    // Same cache line as the tail: costs the consumer no extra miss.
    const uint32_t cpu = static_cast<uint32_t>(sched_getcpu() + 1);
    if (tx_cpu_->load(std::memory_order_relaxed) != cpu)
      tx_cpu_->store(cpu, std::memory_order_relaxed);
    tx_tail_->store(tx_tail_local_, std::memory_order_release);
    // Pairs with the fence a sleeper issues between announcing itself and
    // re-checking the ring: either it sees this tail or we see it asleep.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (peer_wake_->rx_sleepers.load(std::memory_order_relaxed) != 0) WakePeer();
    if (written == len) Unwant(kWantTx);
  }
  return static_cast<int64_t>(written);
}

int64_t End::Pop(uint8_t* out, uint64_t max) {
  if (closed_) return -EBADF;
  if (rx_tail_cache_ == rx_head_local_) {
    rx_tail_cache_ = rx_tail_->load(std::memory_order_acquire);
    if (rx_tail_cache_ == rx_head_local_) {
      // Load the tail again after seeing the peer gone: everything it published
      // before closing (or dying) is delivered before end of file.
      if (peer_info_->state.load(std::memory_order_acquire) == kClosed || PeerGone()) {
        rx_tail_cache_ = rx_tail_->load(std::memory_order_acquire);
        if (rx_tail_cache_ == rx_head_local_) {
          Unwant(kWantRx);
          return peer_info_->state.load(std::memory_order_acquire) == kClosed ? kPopEof
                                                                              : -ECONNRESET;
        }
      } else {
        Want(kWantRx);
        return kAgain;
      }
    }
  }
  const uint64_t avail = rx_tail_cache_ - rx_head_local_;
  uint32_t len = 0;
  if (avail <= ring_size_ && avail >= kRecordHeader)
    memcpy(&len, rx_data_ + (rx_head_local_ & mask_), sizeof len);
  if (len == 0 || len > max_payload_ || kRecordHeader + Align8(len) > avail || rx_partial_ >= len) {
    Unwant(kWantRx);  // the peer wrote nonsense into the ring
    return -EIO;
  }
  const uint64_t n = std::min<uint64_t>(len - rx_partial_, max);
  CopyOut(out, rx_data_, mask_, rx_head_local_ + kRecordHeader + rx_partial_, n);
  rx_partial_ += n;
  if (rx_partial_ == len) {
    rx_partial_ = 0;
    rx_head_local_ += kRecordHeader + Align8(len);
    rx_head_->store(rx_head_local_, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (peer_wake_->tx_sleepers.load(std::memory_order_relaxed) != 0) WakePeer();
  }
  Unwant(kWantRx);
  return static_cast<int64_t>(n);
}

void End::Close() {
  if (closed_) return;
  closed_ = true;
  want_.store(0, std::memory_order_seq_cst);
  CloseEnd(*map_, side_);
}

bool End::Ready() {
  const uint32_t w = want_.load(std::memory_order_seq_cst);
  if (w == 0) return false;
  if (PeerGone() || peer_info_->state.load(std::memory_order_acquire) == kClosed) return true;
  if ((w & kWantRx) &&
      rx_tail_->load(std::memory_order_acquire) != rx_head_->load(std::memory_order_acquire))
    return true;
  if (w & kWantTx) {
    const uint64_t used =
        tx_tail_->load(std::memory_order_acquire) - tx_head_->load(std::memory_order_acquire);
    if (used > ring_size_ || ring_size_ - used >= tx_need_.load(std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool End::PeerSharesCpu() const {
  const uint32_t peer = rx_cpu_->load(std::memory_order_relaxed);
  return peer != 0 && peer == static_cast<uint32_t>(sched_getcpu() + 1);
}

void End::CheckPeer(int64_t now_ns) {
  int64_t last = last_check_ns_.load(std::memory_order_relaxed);
  if (now_ns - last < kPeerCheckNs) return;
  if (!last_check_ns_.compare_exchange_strong(last, now_ns)) return;
  if (!PeerGone() && EndDied(*map_, 1 - side_)) peer_dead_.store(true, std::memory_order_release);
}

}  // namespace catmem
