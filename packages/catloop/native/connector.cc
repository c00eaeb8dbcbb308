#include "connector.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "clients_lock.h"
#include "futex.h"
#include "names.h"

namespace catloop {

using catmem::End;
using catmem::Mapping;
using catmem::SysError;

namespace {

bool Listening(const Mapping& map) {
  const Block* b = BlockOf(map.base());
  return b->magic == kListenerMagic && b->version == kProtocolVersion &&
         b->state.load(std::memory_order_acquire) == kListening &&
         map.header()->end[0].state.load(std::memory_order_acquire) == catmem::kOpen;
}

bool ListenerGone(const Mapping& map) {
  const catmem::Header* h = map.header();
  return h->state.load(std::memory_order_acquire) == catmem::kRemoved ||
         h->end[0].state.load(std::memory_order_acquire) != catmem::kOpen ||
         catmem::EndDied(map, 0);
}

uint64_t NewNonce() {
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof nonce)) {
    nonce = static_cast<uint64_t>(catmem::MonoNs()) ^ (static_cast<uint64_t>(getpid()) << 32);
  }
  return nonce | 1;  // never 0
}

// Writes the request; an errno when the listener cannot take it.
int Enqueue(Mapping& control, const Request& req, std::string* why) {
  ClientsLock lock(control.fd(), kClientsLockWaitNs);
  if (!lock.locked()) {
    *why = "another client holds its lock";
    return ECONNREFUSED;
  }
  if (!Listening(control) || catmem::EndDied(control, 0)) {
    *why = "it stopped listening";
    return ECONNREFUSED;
  }
  const catmem::Header* h = control.header();
  if (h->ring_size != kControlRingSize) {
    *why = "its control pipe has an unexpected ring size";
    return ECONNREFUSED;
  }
  const uint64_t used = h->tail[1].value.load(std::memory_order_acquire) -
                        h->head[1].value.load(std::memory_order_acquire);
  if (used > kControlRingSize) {
    *why = "its control pipe is corrupt";
    return ECONNREFUSED;
  }
  const uint32_t backlog = BlockOf(control.base())->backlog.load(std::memory_order_acquire);
  if (used / kRequestRecord >= backlog) {
    *why = "its backlog of " + std::to_string(backlog) + " is full";
    return ECONNREFUSED;
  }
  // A producer of ring 1 for exactly one record; it never joins as an end, so
  // dropping it changes nothing in the segment.
  End producer(std::shared_ptr<Mapping>(&control, [](Mapping*) {}), 1);
  producer.UseWholeRing();
  const int64_t r = producer.Push(reinterpret_cast<const uint8_t*>(&req), sizeof req);
  if (r != static_cast<int64_t>(sizeof req)) {
    *why = r == -EPIPE ? "it closed" : "its control ring is full";
    return ECONNREFUSED;
  }
  return 0;
}

int CheckReply(const Reply& reply, const Connecting& state) {
  if (reply.magic != kReplyMagic || reply.nonce != state.nonce) return -ECONNREFUSED;
  if (reply.status == 0) return 1;
  return reply.status < 4096 ? -static_cast<int>(reply.status) : -ECONNREFUSED;
}

}  // namespace

Connected Connect(const std::string& ip, uint32_t port, const std::string& local_ip,
                  uint32_t local_port, uint64_t ring_size, uint32_t first_ephemeral,
                  Connecting* state) {
  ParseIp(ip);
  ParseIp(local_ip);
  if (port < 1 || port > 65535) throw SysError{EINVAL, "port must be 1-65535"};
  // 0.0.0.0 as a destination means this host, as in Linux.
  const std::string dest_ip = ip == "0.0.0.0" ? "127.0.0.1" : ip;
  // A socket bound to an address connects from it; otherwise from the address
  // it connects to, as Linux picks for loopback destinations.
  const std::string source_ip = local_ip == "0.0.0.0" ? dest_ip : local_ip;
  const std::vector<std::string> candidates = ip == "0.0.0.0"
                                                  ? std::vector<std::string>{"127.0.0.1", "0.0.0.0"}
                                                  : std::vector<std::string>{ip, "0.0.0.0"};
  const std::string target = ip + ":" + std::to_string(port);
  std::shared_ptr<Mapping> control;
  for (const auto& c : candidates) {
    auto m = MapExisting(PipeName(c, port));
    if (m && Listening(*m) && !catmem::EndDied(*m, 0)) {
      control = std::move(m);
      break;
    }
  }
  if (!control) throw SysError{ECONNREFUSED, "nothing listens on " + target};

  Connected out;
  out.local_ip = source_ip;
  auto map =
      ClaimAddress(source_ip, local_port, ring_size, first_ephemeral, false, &out.local_port);
  const uint64_t nonce = NewNonce();
  Block* block = BlockOf(map->base());
  block->version = kProtocolVersion;
  block->nonce = nonce;
  block->state.store(kConnecting, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  block->magic = kConnectionMagic;
  out.end = std::make_shared<End>(map, 0);

  Request req;
  memset(&req, 0, sizeof req);
  req.magic = kRequestMagic;
  req.version = kProtocolVersion;
  req.port = static_cast<uint16_t>(out.local_port);
  req.ip = ParseIp(source_ip);
  req.dest_ip = ParseIp(dest_ip);
  req.nonce = nonce;
  std::string why;
  int err;
  try {
    err = Enqueue(*control, req, &why);
  } catch (const SysError&) {
    out.end->Close();
    throw;
  }
  if (err != 0) {
    out.end->Close();  // removes the pipe: nobody else joined it
    throw SysError{err, "connection to " + target + " refused: " + why};
  }
  state->control = std::move(control);
  state->nonce = nonce;
  state->next_check_ns = catmem::MonoNs() + kListenerCheckNs;
  return out;
}

int Handshake(End& end, Connecting& state) {
  Reply reply;
  int64_t r = end.Pop(reinterpret_cast<uint8_t*>(&reply), sizeof reply);
  if (r == catmem::kAgain) {
    const int64_t now = catmem::MonoNs();
    if (now < state.next_check_ns || !state.control) return 0;
    state.next_check_ns = now + kListenerCheckNs;
    if (!ListenerGone(*state.control)) return 0;
    // It may have replied just before it went: everything it wrote is visible now.
    r = end.Pop(reinterpret_cast<uint8_t*>(&reply), sizeof reply);
    if (r == catmem::kAgain) return -ECONNREFUSED;
  }
  if (r != static_cast<int64_t>(sizeof reply))
    return -ECONNREFUSED;  // closed or died without a reply
  const int status = CheckReply(reply, state);
  if (status == 1) state.control.reset();
  return status;
}

}  // namespace catloop
