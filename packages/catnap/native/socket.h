// One kernel socket and the operations queued on it, oldest first.
#pragma once
#include <netinet/in.h>

#include <cstdint>
#include <vector>

#include "fifo.h"
#include "slabs.h"

namespace catnap {

struct PendingPop {
  double token;
  uint32_t size;
};

struct PendingPush {
  double token;
  std::vector<uint8_t> data;  // a copy of what the kernel has not taken yet
  size_t sent = 0;
  bool has_addr = false;
  sockaddr_in to{};
};

struct Socket {
  uint32_t qd = 0;
  int fd = -1;
  bool stream = true;

  bool bound = false;  // bind() succeeded (EDESTADDRREQ check before listen)
  bool listening = false;
  bool registered = false;  // added to epoll (lazily, the first time an operation waits)
  // Readiness learned from edge-triggered epoll and from the last system call.
  bool readable = true;
  bool writable = true;
  bool hangup = false;  // peer shut down or error: reads never block again
  bool deferred = false;

  bool connecting = false;
  double connect_token = 0;

  bool closing = false;  // asyncClose: invisible to callers, finishing its pushes
  double close_token = 0;

  Fifo<double> accepts;
  Fifo<PendingPop> pops;
  // Stream bytes read beyond what the last pop asked for; the next pops take
  // them before reading again.
  Slabs::Held ahead;
  Fifo<PendingPush> pushes;
};

}  // namespace catnap
