// The connecting side of connection set-up. connect claims an ephemeral port
// (the name of the client's own pipe, created as its end 0), then writes a
// request into the listener's control ring under the clients' lock byte,
// refusing itself when the listener is absent, not listening or its backlog is
// full. The connect completes when the listener's reply record arrives in the
// client's pipe; a listener that dies first is noticed by its lock byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocol.h"
#include "ring.h"
#include "segment.h"

namespace catloop {

// How often a waiting connect checks that its listener is still alive.
constexpr int64_t kListenerCheckNs = 10 * 1000 * 1000;

struct Connecting {
  std::shared_ptr<catmem::Mapping> control;  // the listener's segment, for liveness checks
  uint64_t nonce = 0;
  int64_t next_check_ns = 0;
};

struct Connected {
  std::shared_ptr<catmem::End> end;
  std::string local_ip;
  uint32_t local_port = 0;
};

// Starts a connection to ip:port (a listener on 0.0.0.0:port serves every
// address) from local_ip:local_port. local_ip "0.0.0.0" takes the address
// connected to (127.0.0.1 for 0.0.0.0), as Linux does on loopback; local_port 0
// picks an ephemeral port. Throws SysError:
// ECONNREFUSED (nobody listens, backlog full, listener closing), EADDRINUSE,
// EADDRNOTAVAIL, EINVAL.
Connected Connect(const std::string& ip, uint32_t port, const std::string& local_ip,
                  uint32_t local_port, uint64_t ring_size, uint32_t first_ephemeral,
                  Connecting* state);

// Reads the listener's reply: 1 accepted, 0 still waiting (the end then wants
// data), or a negative errno (-ECONNREFUSED).
int Handshake(catmem::End& end, Connecting& state);

}  // namespace catloop
