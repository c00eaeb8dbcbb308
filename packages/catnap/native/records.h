// Completions cross to JS as records in one preallocated buffer shared with
// JS: each native call writes the records of everything that completed from
// record 0 and returns how many; the TS side walks them at once. No per-
// operation callback into JS, no per-operation allocation here.
#pragma once
#include <cstdint>

namespace catnap {

// Float64 slots of one record.
enum Slot : uint32_t {
  kToken = 0,   // the queue token (a safe integer)
  kOpcode = 1,  // Demikernel's opcode
  kRet = 2,     // 0 or a Linux errno
  kQd = 3,
  kValue = 4,   // POP: bytes; ACCEPT: the new qd
  kOffset = 5,  // POP: byte offset of the data in its slab
  kSlab = 6,    // POP: generation of the slab holding the data
  kAddr = 7,    // POP on UDP, ACCEPT: ipv4 * 65536 + port; else -1
  kSlots = 8,
};

enum Opcode : int { kPush = 1, kPop = 2, kAccept = 3, kConnect = 4, kClose = 5, kFailed = 6 };

constexpr uint32_t kRecordCapacity = 1024;

// After the records, two control slots shared with JS (see Engine::OnWake):
// kInWake is 1 while the addon is calling into JS from a wake-up, and
// kWantWakeups is what JS asked for meanwhile; the addon applies it on return.
constexpr uint32_t kInWake = kRecordCapacity * kSlots;
constexpr uint32_t kWantWakeups = kInWake + 1;
constexpr uint32_t kRecordArrayLength = kWantWakeups + 1;

class Records {
 public:
  void Begin(double* base) {
    base_ = base;
    count_ = 0;
  }
  bool Full() const { return count_ >= kRecordCapacity; }
  uint32_t Count() const { return count_; }

  // Callers check Full() first; a full buffer drops nothing because callers
  // leave the operation queued and come back.
  void Add(double token, int opcode, int ret, uint32_t qd, double value = 0, double offset = 0,
           double slab = 0, double addr = -1) {
    if (base_ == nullptr || count_ >= kRecordCapacity) return;
    double* r = base_ + static_cast<size_t>(count_) * kSlots;
    r[kToken] = token;
    r[kOpcode] = opcode;
    r[kRet] = ret;
    r[kQd] = qd;
    r[kValue] = value;
    r[kOffset] = offset;
    r[kSlab] = slab;
    r[kAddr] = addr;
    count_++;
  }

 private:
  double* base_ = nullptr;
  uint32_t count_ = 0;
};

}  // namespace catnap
