#include "ring.h"

#include <sched.h>

#include <algorithm>
#include <cstring>

#include "futex.h"

namespace catmem {

namespace {

constexpr int64_t kPeerCheckNs = 100 * 1000 * 1000;

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
  tx_published_ = tx_tail_local_;
  tx_limit_ = InitialReserve(ring_size_);
  tx_reserved_ = tx_limit_;
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

void End::UseWholeRing() {
  if (Reserve(ring_size_)) tx_limit_ = ring_size_;
}

void End::WriteWrap() {
  const uint32_t header[2] = {kWrapMarker, 0};
  memcpy(tx_data_ + (tx_tail_local_ & mask_), header, sizeof header);
  tx_tail_local_ += ring_size_ - (tx_tail_local_ & mask_);
}

bool End::Reserve(uint64_t limit) {
  if (limit <= tx_reserved_) return true;
  if (ReserveRange(map_->fd(), RingOffset(side_, ring_size_) + tx_reserved_,
                   limit - tx_reserved_) != 0)
    return false;
  tx_reserved_ = limit;
  return true;
}

int End::MakeRoom(uint64_t need) {
  if (need > tx_limit_) {
    uint64_t limit = tx_limit_;
    while (limit < need) limit *= 2;
    if (!Reserve(limit)) return -ENOBUFS;
    tx_limit_ = limit;
  }
  for (int fresh = 0;; fresh++) {
    if (fresh > 0) tx_head_cache_ = tx_head_->load(std::memory_order_acquire);
    const uint64_t used = tx_tail_local_ - tx_head_cache_;
    if (used > ring_size_) return -EIO;  // the peer wrote nonsense into the header
    const uint64_t pos = tx_tail_local_ & mask_;
    uint64_t wait_head;  // the head at which a retry gets further
    if (pos + need <= tx_limit_) {
      if (used + need <= ring_size_) return 1;
      wait_head = tx_tail_local_ + need - ring_size_;
    } else {
      const uint64_t skip = ring_size_ - pos;
      const bool room_at_start = used + skip + need <= ring_size_;
      // Decide to grow only on a fresh head: a stale one overstates what is in flight.
      if (!room_at_start && fresh == 0) continue;
      // Use more of the ring when this limit is in the way: the reader has not
      // left room at the start yet, or this producer had to wait during the
      // last lap (the limit holds less than the two keep in flight).
      const bool grow = starved_ || !room_at_start;
      if (grow && tx_limit_ < ring_size_ && used + need <= ring_size_ && pos + need <= ring_size_ &&
          Reserve(tx_limit_ * 2)) {
        tx_limit_ *= 2;
        starved_ = false;
        continue;
      }
      if (room_at_start) {
        WriteWrap();  // the reader has left room at the start
        return 1;
      }
      if (used + skip <= ring_size_) {
        WriteWrap();  // wait for room at the start
        continue;
      }
      wait_head = tx_tail_local_ + skip - ring_size_;
    }
    if (fresh == 0) continue;  // decide on a fresh head
    // Wake up for a batch of room, not every record the reader takes.
    const uint64_t batch = std::min(tx_tail_local_, tx_head_cache_ + tx_limit_ / 4);
    const uint64_t wake_at = std::max(wait_head, batch);
    tx_need_.store(wake_at, std::memory_order_relaxed);
    my_wake()->tx_wake_head.store(wake_at, std::memory_order_relaxed);
    Want(kWantTx);
    // Pairs with the reader's fence after it stores head: either it sees this
    // wake_at or we see its head.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (tx_head_->load(std::memory_order_acquire) >= wake_at) {
      fresh = 0;
      continue;
    }
    starved_ = true;
    return 0;
  }
}

void End::Publish() {
  if (tx_tail_local_ == tx_published_) return;
  tx_published_ = tx_tail_local_;
  // Same cache line as the tail: costs the consumer no extra miss.
  const uint32_t cpu = static_cast<uint32_t>(sched_getcpu() + 1);
  if (tx_cpu_->load(std::memory_order_relaxed) != cpu)
    tx_cpu_->store(cpu, std::memory_order_relaxed);
  tx_tail_->store(tx_tail_local_, std::memory_order_release);
  // Pairs with the fence a sleeper issues between announcing itself and
  // re-checking the ring: either it sees this tail or we see it asleep.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (peer_wake_->rx_sleepers.load(std::memory_order_relaxed) != 0) WakePeer();
  bell_.Ring(peer_wake_, kWantRx);
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
  int room = 1;
  while (written < len) {
    const uint64_t chunk = std::min(len - written, max_payload_);
    const uint64_t need = kRecordHeader + Align8(chunk);
    room = MakeRoom(need);
    if (room <= 0) break;
    const uint32_t header[2] = {static_cast<uint32_t>(chunk), 0};
    uint8_t* at = tx_data_ + (tx_tail_local_ & mask_);
    memcpy(at, header, sizeof header);
    memcpy(at + kRecordHeader, data + written, chunk);
    tx_tail_local_ += need;
    written += chunk;
  }
  // A wrap marker alone is published too: the reader must pass it to make room.
  Publish();
  if (written > 0) pushes_++;
  if (written == len) Unwant(kWantTx);
  if (room < 0 && written == 0) {
    Unwant(kWantTx);
    return room;
  }
  return static_cast<int64_t>(written);
}

int64_t End::Pop(uint8_t* out, uint64_t max, uint64_t big_at, Placer place, void* arg) {
  if (closed_) return -EBADF;
  const uint64_t head_before = rx_head_local_;
  int64_t result = 0;
  for (;;) {
    if (rx_tail_cache_ == rx_head_local_) {
      rx_tail_cache_ = rx_tail_->load(std::memory_order_acquire);
      if (rx_tail_cache_ == rx_head_local_) {
        // Load the tail again after seeing the peer gone: everything it published
        // before closing (or dying) is delivered before end of file.
        if (peer_info_->state.load(std::memory_order_acquire) == kClosed || PeerGone()) {
          rx_tail_cache_ = rx_tail_->load(std::memory_order_acquire);
          if (rx_tail_cache_ == rx_head_local_) {
            Unwant(kWantRx);
            result = peer_info_->state.load(std::memory_order_acquire) == kClosed ? kPopEof
                                                                                  : -ECONNRESET;
            break;
          }
        } else {
          Want(kWantRx);
          result = kAgain;
          break;
        }
      }
    }
    const uint64_t avail = rx_tail_cache_ - rx_head_local_;
    const uint64_t pos = rx_head_local_ & mask_;
    uint32_t len = 0;
    if (avail <= ring_size_ && avail >= kRecordHeader) memcpy(&len, rx_data_ + pos, sizeof len);
    if (len == kWrapMarker && rx_partial_ == 0 && ring_size_ - pos <= avail) {
      rx_head_local_ += ring_size_ - pos;
      continue;
    }
    if (len == 0 || len > max_payload_ || kRecordHeader + Align8(len) > avail ||
        pos + kRecordHeader + Align8(len) > ring_size_ || rx_partial_ >= len) {
      Unwant(kWantRx);  // the peer wrote nonsense into the ring
      return -EIO;
    }
    const uint64_t n = std::min<uint64_t>(len - rx_partial_, max);
    uint8_t* dst = out;
    if (n > big_at) {
      if (uint8_t* placed = place(arg, n)) dst = placed;
    }
    memcpy(dst, rx_data_ + pos + kRecordHeader + rx_partial_, n);
    rx_partial_ += n;
    rx_payload_ += n;
    if (rx_partial_ == len) {
      rx_partial_ = 0;
      rx_head_local_ += kRecordHeader + Align8(len);
    }
    Unwant(kWantRx);
    result = static_cast<int64_t>(n);
    break;
  }
  if (rx_head_local_ != head_before) {
    rx_head_->store(rx_head_local_, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool enough = rx_head_local_ >= peer_wake_->tx_wake_head.load(std::memory_order_relaxed);
    if (peer_wake_->tx_sleepers.load(std::memory_order_acquire) != 0 && enough) WakePeer();
    if (enough) bell_.Ring(peer_wake_, kWantTx);
  }
  return result;
}

void End::Trim() {
  if (closed_) return;
  if (pushes_ != pushes_at_trim_) {  // in use since the last look
    pushes_at_trim_ = pushes_;
    return;
  }
  const uint64_t initial = InitialReserve(ring_size_);
  const uint64_t pos = tx_tail_local_ & mask_;
  if (tx_reserved_ <= initial && pos < initial) return;                     // nothing to give back
  if (tx_head_->load(std::memory_order_acquire) != tx_tail_local_) return;  // not all read
  if (pos >= initial) {
    // The reader passes the marker first; the next look gives the memory back.
    WriteWrap();
    Publish();
    return;
  }
  if (tx_reserved_ > initial) {
    ReleaseRange(map_->fd(), RingOffset(side_, ring_size_) + initial, tx_reserved_ - initial);
    tx_reserved_ = initial;
  }
  tx_limit_ = initial;
}

void End::Close() {
  if (closed_) return;
  closed_ = true;
  want_.store(0, std::memory_order_seq_cst);
  my_wake()->loop_wants.store(0, std::memory_order_seq_cst);
  CloseEnd(*map_, side_);
  bell_.RingAny(peer_wake_);  // end of file is news to a waiting peer
}

bool End::Ready() {
  const uint32_t w = want_.load(std::memory_order_seq_cst);
  if (w == 0) return false;
  if (PeerGone() || peer_info_->state.load(std::memory_order_acquire) == kClosed) return true;
  if ((w & kWantRx) &&
      rx_tail_->load(std::memory_order_acquire) != rx_head_->load(std::memory_order_acquire))
    return true;
  if (w & kWantTx) {
    const uint64_t head = tx_head_->load(std::memory_order_acquire);
    const uint64_t used = tx_tail_->load(std::memory_order_acquire) - head;
    if (used > ring_size_ || head >= tx_need_.load(std::memory_order_relaxed)) return true;
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
