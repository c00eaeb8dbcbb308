#include "listener.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "clients_lock.h"
#include "names.h"

namespace catloop {

using catmem::End;
using catmem::Mapping;
using catmem::SysError;

namespace {

int OpenSpare() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

Listener::Listener(std::shared_ptr<Mapping> map)
    : map_(std::move(map)),
      end_(std::make_shared<End>(map_, 0)),
      block_(BlockOf(map_->base())),
      spare_(OpenSpare()) {
  block_->version = kProtocolVersion;
  block_->backlog.store(0, std::memory_order_relaxed);
  block_->state.store(kBound, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  block_->magic = kListenerMagic;
}

void Listener::Listen(uint32_t backlog) {
  if (closed_) throw SysError{EBADF, "the listener is closed"};
  if (backlog < 1) backlog = 1;
  if (backlog > kMaxBacklog) backlog = kMaxBacklog;
  block_->backlog.store(backlog, std::memory_order_release);
  block_->state.store(kListening, std::memory_order_release);
}

bool Listener::Next(Request* req) {
  for (;;) {
    uint8_t buf[kRequestSize];
    const int64_t r = end_->Pop(buf, sizeof buf);
    if (r == catmem::kAgain) return false;
    if (r <= 0) {
      // Clients never join the control pipe as an end, so it cannot reach end of
      // file; only something else opening it by name can get it here.
      throw SysError{
          EIO, "the listener's control pipe was joined by a process that is not a catloop client"};
    }
    if (r != static_cast<int64_t>(kRequestSize)) continue;  // not a request: skip it
    memcpy(req, buf, sizeof *req);
    if (req->magic == kRequestMagic && req->version == kProtocolVersion && req->port != 0)
      return true;
  }
}

std::shared_ptr<End> Listener::Join(const Request& req, uint32_t status) {
  const std::string name = PipeName(FormatIp(req.ip), req.port);
  if (!ConnectionWaiting(name, req.nonce)) {
    RemoveIfStale(name);  // its client died: nobody else would remove its pipe
    return nullptr;
  }
  std::shared_ptr<Mapping> map;
  try {
    map = catmem::OpenSegment(name, catmem::Place{});
  } catch (const SysError& e) {
    if (OutOfDescriptors(e.err())) throw;
    RemoveIfStale(name);
    return nullptr;
  }
  auto end = std::make_shared<End>(map, 1);
  Block* block = BlockOf(map->base());
  if (block->magic != kConnectionMagic || block->nonce != req.nonce) {
    end->Close();  // the name was re-used between the check and the join
    return nullptr;
  }
  const Reply reply{kReplyMagic, status, req.nonce};
  block->state.store(status == 0 ? kAccepted : kRefused, std::memory_order_release);
  if (end->Push(reinterpret_cast<const uint8_t*>(&reply), sizeof reply) !=
      static_cast<int64_t>(sizeof reply)) {
    end->Close();  // the client closed meanwhile
    return nullptr;
  }
  return end;
}

bool Listener::Accept(Accepted* out) {
  if (closed_) throw SysError{EBADF, "the listener is closed"};
  Request req;
  while (Next(&req)) {
    std::shared_ptr<End> end;
    try {
      end = Join(req, 0);
    } catch (const SysError& e) {
      if (!OutOfDescriptors(e.err())) throw;
      // Dropping the request would leave its client waiting for a reply that
      // never comes: refuse it, and fail this accept as Linux's accept fails.
      RefuseWithSpare(req);
      throw SysError{
          e.err(), "no descriptor left to accept a connection: " + std::string(strerror(e.err()))};
    }
    if (!end) continue;
    out->end = std::move(end);
    out->ip_be = req.ip;
    out->port = req.port;
    out->dest_ip_be = req.dest_ip;
    return true;
  }
  return false;
}

void Listener::RefuseWithSpare(const Request& req) {
  spare_.reset();
  try {
    if (auto end = Join(req, ECONNREFUSED)) end->Close();
  } catch (const SysError&) {
    // Still none: the client sees the control pipe closed when the listener goes.
  }
  spare_.reset(OpenSpare());
}

void Listener::Close() {
  if (closed_) return;
  closed_ = true;
  block_->state.store(kListenerClosed, std::memory_order_seq_cst);
  {
    // After this, every client either wrote its request already (refused
    // below) or sees the listener closed and refuses itself. Without the lock
    // (a client stuck holding it) a request written later is refused by its
    // client, which sees the control pipe closed within kListenerCheckNs.
    ClientsLock lock(map_->fd(), kClientsLockWaitNs);
    Request req;
    try {
      while (Next(&req)) {
        try {
          if (auto end = Join(req, ECONNREFUSED)) end->Close();
        } catch (const SysError& e) {
          if (!OutOfDescriptors(e.err())) throw;
          RefuseWithSpare(req);
        }
      }
    } catch (const SysError&) {
      // A broken ring: the clients left in it see the control pipe closed.
    }
  }
  end_->Close();
}

}  // namespace catloop
