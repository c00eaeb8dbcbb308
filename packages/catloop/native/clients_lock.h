// The clients' lock byte of a listener's segment (see protocol.h). Taken with a
// bound: a client holds it for the few microseconds it takes to write one
// request, so a holder that keeps it longer is stopped or stuck, and nobody
// waits for it forever.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "futex.h"
#include "protocol.h"

namespace catloop {

class ClientsLock {
 public:
  ClientsLock(int fd, int64_t max_ns) : fd_(fd) {
    const int64_t deadline = catmem::MonoNs() + max_ns;
    for (int attempt = 0;; attempt++) {
      if (Set(F_WRLCK)) {
        locked_ = true;
        return;
      }
      if (errno != EAGAIN && errno != EACCES && errno != EINTR) return;
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
    if (locked_) Set(F_UNLCK);
  }
  ClientsLock(const ClientsLock&) = delete;
  ClientsLock& operator=(const ClientsLock&) = delete;

  bool locked() const { return locked_; }

 private:
  bool Set(short type) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = kLockClients;
    fl.l_len = 1;
    return fcntl(fd_, F_OFD_SETLK, &fl) == 0;
  }
  int fd_;
  bool locked_ = false;
};

// How long a client or a closing listener waits for the clients' lock.
constexpr int64_t kClientsLockWaitNs = 100 * 1000 * 1000;

}  // namespace catloop
