// A first-in first-out queue of a socket's pending operations that holds no
// memory while it is empty. std::deque allocates a 512-byte block and its map
// even when empty: three of those per socket made ~1.8 KiB of every idle
// connection. Here an empty queue is one empty vector; a queue that drained
// after a burst gives its memory back.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace catnap {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  // Oldest first, for walking the queue without taking from it.
  typename std::vector<T>::iterator begin() {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }
  typename std::vector<T>::iterator end() { return items_.end(); }
  void push_back(T&& item) { items_.push_back(std::move(item)); }
  void push_back(const T& item) { items_.push_back(item); }

  void pop_front() {
    items_[head_] = T();  // let go of what the element owned now, not at the next compaction
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      // Never drained: drop the consumed front so the vector stays the size of the backlog.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    head_ = 0;
    if (items_.capacity() > kKeepCapacity) {
      std::vector<T>().swap(items_);
    } else {
      items_.clear();
    }
  }

 private:
  // A socket's usual queue (one pop, a push or two) keeps its few slots
  // between operations instead of allocating them every time.
  static constexpr size_t kKeepCapacity = 4;
  static constexpr size_t kCompactAfter = 32;

  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace catnap
