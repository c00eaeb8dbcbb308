// The listening side of connection set-up. A listener owns end 0 of its
// control pipe; clients write requests into ring 1 (one at a time, under the
// clients' lock byte). accept takes one request, joins the client's own pipe as
// its end 1 and writes the reply record that completes the client's connect.
#pragma once

#include <cstdint>
#include <memory>

#include "demi/fd.h"
#include "protocol.h"
#include "ring.h"
#include "segment.h"

namespace catloop {

class Listener {
 public:
  // Takes a segment just claimed for this address and marks it a bound listener.
  explicit Listener(std::shared_ptr<catmem::Mapping> map);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // End 0 of the control pipe: the waiter sleeps on it while accepts wait.
  const std::shared_ptr<catmem::End>& end() const { return end_; }

  // Starts (or re-sizes) the accept queue; backlog is clamped to 1..kMaxBacklog.
  void Listen(uint32_t backlog);
  bool listening() const { return block_->state.load(std::memory_order_acquire) == kListening; }

  struct Accepted {
    std::shared_ptr<catmem::End> end;
    uint32_t ip_be = 0;       // the client's address
    uint32_t port = 0;        // the client's port
    uint32_t dest_ip_be = 0;  // the address the client connected to
  };
  // Accepts the next queued connection. False when none waits (the control end
  // then wants data, so the waiter wakes on the next request). Requests of
  // clients that gave up or died are dropped on the way. Throws SysError when
  // the control ring is unusable, or EMFILE/ENFILE when no descriptor is left for
  // the connection (its client is refused: ECONNREFUSED).
  bool Accept(Accepted* out);

  // Stops new requests, refuses every queued one (each client's connect fails
  // ECONNREFUSED at once) and closes the control pipe. Idempotent.
  void Close();

 private:
  bool Next(Request* req);
  std::shared_ptr<catmem::End> Join(const Request& req, uint32_t status);
  void RefuseWithSpare(const Request& req);

  std::shared_ptr<catmem::Mapping> map_;
  std::shared_ptr<catmem::End> end_;
  Block* block_;
  // Held so that a client can still be refused when the process runs out of
  // descriptors: closed for the moment it takes to open the client's pipe.
  demi::UniqueFd spare_;
  bool closed_ = false;
};

}  // namespace catloop
