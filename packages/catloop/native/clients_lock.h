// The clients' lock byte of a listener's segment (see protocol.h). Taken with a
// bound: a client holds it for the few microseconds it takes to write one
// request, so a holder that keeps it longer is stopped or stuck, and nobody
// waits for it forever.
#pragma once

#include <sched.h>
#include <time.h>

#include <cerrno>

#include "futex.h"
#include "protocol.h"
#include "segment.h"

namespace catloop {

class ClientsLock {
 public:
  ClientsLock(int fd, int64_t max_ns) : fd_(fd) {
    const int64_t deadline = catmem::MonoNs() + max_ns;
    for (int attempt = 0;; attempt++) {
      const int err = catmem::LockByte(fd, kLockClients, false);
      if (err == 0) {
        locked_ = true;
        return;
      }
      if (err != EAGAIN && err != EACCES) return;
      if (catmem::MonoNs() >= deadline) return;
      if (attempt < 16) {
        sched_yield();
      } else {
        timespec ts{0, 50 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  }
  ~ClientsLock() {
    if (locked_) catmem::UnlockByte(fd_, kLockClients);
  }
  ClientsLock(const ClientsLock&) = delete;
  ClientsLock& operator=(const ClientsLock&) = delete;

  bool locked() const { return locked_; }

 private:
  int fd_;
  bool locked_ = false;
};

// How long a client or a closing listener waits for the clients' lock.
constexpr int64_t kClientsLockWaitNs = 100 * 1000 * 1000;

}  // namespace catloop
