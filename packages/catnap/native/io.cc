// The I/O core: the socket table, the per-socket operation queues, and the
// epoll loop that drives them. Sockets are registered edge-triggered once, for
// reads and writes, so the hot path never calls epoll_ctl; readiness is kept
// per socket and cleared only when a system call says EAGAIN.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "args.h"
#include "clock.h"
#include "engine.h"

namespace catnap {

namespace {

constexpr uint32_t kMaxQd = 0x7fffffff;
constexpr int kMaxEvents = 128;

// Queue descriptors are unique across every engine in the process (not kernel
// fds, which the kernel reuses at once), so a stale or foreign qd is EBADF.
std::atomic<uint32_t> next_qd{1};

double Endpoint(const sockaddr_in& addr) {
  return static_cast<double>(ntohl(addr.sin_addr.s_addr)) * 65536.0 + ntohs(addr.sin_port);
}

}  // namespace

uint32_t Engine::NextQd() {
  for (;;) {
    uint32_t qd = next_qd.fetch_add(1, std::memory_order_relaxed);
    if (qd == 0 || qd > kMaxQd) {
      next_qd.store(1, std::memory_order_relaxed);
      continue;
    }
    if (sockets_.find(qd) == sockets_.end()) return qd;
  }
}

Socket* Engine::Find(uint32_t qd) {
  auto it = sockets_.find(qd);
  return it == sockets_.end() ? nullptr : it->second.get();
}

Socket& Engine::Add(int fd, bool stream) {
  auto socket = std::make_unique<Socket>();
  socket->qd = NextQd();
  socket->fd = fd;
  socket->stream = stream;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = socket->qd;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    ::close(fd);
    FailSys(err, "socket", "cannot watch the new socket with epoll");
  }
  socket->registered = true;
  Socket& ref = *socket;
  sockets_.emplace(ref.qd, std::move(socket));
  return ref;
}

void Engine::ApplyTcpDefaults(int fd) {
  // Best effort: a failure leaves the kernel's default, which is still a working socket.
  int on = 1;
  if (tcp_.nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (tcp_.keepalive) {
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    if (tcp_.keep_idle_s > 0) {
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &tcp_.keep_idle_s, sizeof tcp_.keep_idle_s);
    }
    if (tcp_.keep_interval_s > 0) {
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &tcp_.keep_interval_s,
                 sizeof tcp_.keep_interval_s);
    }
  }
  if (tcp_.linger) {
    linger l{1, tcp_.linger_s};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
}

void Engine::Destroy(uint32_t qd) {
  auto it = sockets_.find(qd);
  if (it == sockets_.end()) return;
  Socket& s = *it->second;
  if (s.registered) epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
  ::close(s.fd);
  sockets_.erase(it);
}

void Engine::CloseAll() {
  for (auto& [qd, socket] : sockets_) ::close(socket->fd);
  sockets_.clear();
  deferred_.clear();
  spare_copies_.clear();
}

bool Engine::PopOnce(Socket& s, double token, uint32_t size) {
  if (s.ahead.length > 0) {
    PopAhead(s, token, size);
    return true;
  }
  Slabs::Space space = slabs_.Reserve(Env(), size);
  // A stream read may fill the rest of the slab (up to kMaxReadAhead): the
  // bytes beyond this pop wait there for the next pops, which then cost no
  // system call. Only into pool slabs, which JS cannot detach, and only for
  // pops of whole 8-byte units, so every later pop stays 8-byte aligned.
  size_t room = size;
  if (s.stream && space.pooled && size % 8 == 0) {
    room = std::max<size_t>(size, std::min(space.room, kMaxReadAhead));
  }
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  ssize_t n;
  do {
    n = s.stream
            ? ::recv(s.fd, space.data, room, 0)
            : ::recvfrom(s.fd, space.data, size, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      s.readable = false;
      return false;
    }
    records_.Add(token, kFailed, errno, s.qd);
    return true;
  }
  slabs_.Commit(static_cast<size_t>(n));
  const size_t got = static_cast<size_t>(n);
  const size_t handed = std::min<size_t>(got, size);
  records_.Add(token, kPop, 0, s.qd, static_cast<double>(handed), static_cast<double>(space.offset),
               space.generation, s.stream ? -1.0 : Endpoint(from));
  slabs_.Handed(space.generation);
  if (got > handed) s.ahead = slabs_.Hold(space.offset + handed, got - handed);
  // A short stream read emptied the receive queue: the next arrival raises a
  // fresh edge, so skip the recv that would only say EAGAIN.
  if (s.stream && got > 0 && got < room && !s.hangup) s.readable = false;
  return true;
}

void Engine::PopAhead(Socket& s, double token, uint32_t size) {
  Slabs::Held& ahead = s.ahead;
  size_t take = std::min<size_t>(size, ahead.length);
  // Leave the rest 8-byte aligned for the pop after (a pop may return less
  // than it asked for); pops under 8 bytes cannot keep that.
  if (take < ahead.length && take >= 8) take &= ~static_cast<size_t>(7);
  records_.Add(token, kPop, 0, s.qd, static_cast<double>(take), static_cast<double>(ahead.offset),
               ahead.generation, -1.0);
  slabs_.Handed(ahead.generation);
  ahead.offset += take;
  ahead.length -= take;
  if (ahead.length == 0) slabs_.Drop(ahead);
}

bool Engine::AcceptOnce(Socket& s, double token) {
  for (;;) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(s.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s.readable = false;
        return false;
      }
      records_.Add(token, kFailed, errno, s.qd);
      return true;
    }
    ApplyTcpDefaults(fd);
    uint32_t qd;
    try {
      qd = Add(fd, true).qd;
    } catch (const demi::Error& e) {
      records_.Add(token, kFailed, e.err(), s.qd);
      return true;
    } catch (const std::bad_alloc&) {
      records_.Add(token, kFailed, ENOMEM, s.qd);
      return true;
    }
    records_.Add(token, kAccept, 0, s.qd, qd, 0, 0, Endpoint(peer));
    return true;
  }
}

bool Engine::PushOnce(Socket& s, PendingPush& p) {
  for (;;) {
    size_t left = p.data.size() - p.sent;
    if (left == 0 && s.stream) break;  // all sent (an empty datagram is still sent once)
    ssize_t n = p.has_addr ? ::sendto(s.fd, p.data.data() + p.sent, left, MSG_NOSIGNAL,
                                      reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to)
                           : ::send(s.fd, p.data.data() + p.sent, left, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s.writable = false;
        return false;
      }
      records_.Add(p.token, kFailed, errno, s.qd);
      return true;
    }
    p.sent += static_cast<size_t>(n);
    if (p.sent >= p.data.size()) break;
    // Partial: go round again; the next send says EAGAIN, which arms the edge.
  }
  records_.Add(p.token, kPush, 0, s.qd);
  return true;
}

void Engine::RecycleCopy(std::vector<uint8_t>&& copy) {
  constexpr size_t kMaxSpares = 32;
  constexpr size_t kMaxSpareBytes = 1024 * 1024;
  if (spare_copies_.size() < kMaxSpares && copy.capacity() <= kMaxSpareBytes &&
      copy.capacity() > 0) {
    spare_copies_.push_back(std::move(copy));
  }
}

void Engine::Defer(Socket& s) {
  if (s.deferred) return;
  s.deferred = true;
  deferred_.push_back(s.qd);
}

void Engine::CheckConnect(Socket& s) {
  if (!s.connecting) return;
  if (records_.Full()) return Defer(s);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    if (getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) {
      if (errno == ENOTCONN) return;  // still in progress: a spurious edge
      err = errno;
    }
  }
  s.connecting = false;
  records_.Add(s.connect_token, err == 0 ? kConnect : kFailed, err, s.qd);
}

void Engine::DrainAccepts(Socket& s) {
  while (!s.accepts.empty() && s.readable) {
    if (records_.Full()) return Defer(s);
    if (!AcceptOnce(s, s.accepts.front())) return;
    s.accepts.pop_front();
  }
}

void Engine::DrainPops(Socket& s) {
  while (!s.pops.empty() && (s.readable || s.ahead.length > 0)) {
    if (records_.Full()) return Defer(s);
    const PendingPop& p = s.pops.front();
    if (!PopOnce(s, p.token, p.size)) return;
    s.pops.pop_front();
  }
}

void Engine::DrainPushes(Socket& s) {
  while (!s.pushes.empty() && s.writable) {
    if (records_.Full()) return Defer(s);
    if (s.stream) {
      if (!PushBatch(s)) return;
      continue;
    }
    if (!PushOnce(s, s.pushes.front())) return;
    RecycleCopy(std::move(s.pushes.front().data));
    s.pushes.pop_front();
  }
}

bool Engine::PushBatch(Socket& s) {
  // One sendmsg for the queued pushes of a stream socket (a stream has no
  // message boundaries to keep), at most one record each.
  constexpr size_t kMaxBatch = 64;
  iovec iov[kMaxBatch];
  size_t count = 0;
  size_t total = 0;
  const size_t room = kRecordCapacity - records_.Count();
  for (auto it = s.pushes.begin(); it != s.pushes.end() && count < kMaxBatch && count < room;
       ++it) {
    size_t left = it->data.size() - it->sent;
    iov[count++] = iovec{it->data.data() + it->sent, left};
    total += left;
  }
  size_t sent = 0;
  if (total > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n;
    do {
      n = ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s.writable = false;
        return false;
      }
      records_.Add(s.pushes.front().token, kFailed, errno, s.qd);
      s.pushes.pop_front();
      return true;
    }
    sent = static_cast<size_t>(n);
  }
  // Complete the pushes the kernel took whole; the first one it took part of
  // keeps its place, and the loop round sends on (the next sendmsg says EAGAIN
  // if the buffer is full, which arms the edge).
  for (size_t i = 0; i < count; i++) {
    PendingPush& p = s.pushes.front();
    size_t left = p.data.size() - p.sent;
    if (left > sent) {
      p.sent += sent;
      break;
    }
    sent -= left;
    records_.Add(p.token, kPush, 0, s.qd);
    RecycleCopy(std::move(p.data));
    s.pushes.pop_front();
  }
  return true;
}

bool Engine::Progress(Socket& s) {
  CheckConnect(s);
  if (!s.connecting) {
    DrainAccepts(s);
    DrainPops(s);
    DrainPushes(s);
  }
  if (s.closing && s.pushes.empty()) {
    if (records_.Full()) {
      Defer(s);
      return true;
    }
    // Everything pushed before the close has been taken by the kernel, which
    // delivers it after close() as usual.
    records_.Add(s.close_token, kClose, 0, s.qd);
    Destroy(s.qd);
    return false;
  }
  return true;
}

int Engine::WaitKernel(epoll_event* events, int max, double timeout_ms) {
  if (timeout_ms <= 0) return epoll_wait(epfd_, events, max, 0);
#ifdef SYS_epoll_pwait2
  // Sub-millisecond timeouts (waitSync blocks in slices shorter than 1 ms).
  static bool pwait2_missing = false;
  if (!pwait2_missing) {
    struct {
      int64_t tv_sec;
      int64_t tv_nsec;
    } ts;
    double whole = std::floor(timeout_ms / 1000.0);
    ts.tv_sec = static_cast<int64_t>(whole);
    ts.tv_nsec = static_cast<int64_t>((timeout_ms - whole * 1000.0) * 1e6);
    if (ts.tv_nsec >= 1000000000) ts.tv_nsec = 999999999;
    long n = syscall(SYS_epoll_pwait2, epfd_, events, max, &ts, nullptr, 0);
    if (n >= 0 || errno != ENOSYS) return static_cast<int>(n);
    pwait2_missing = true;
  }
#endif
  double ms = std::ceil(timeout_ms);
  return epoll_wait(epfd_, events, max, ms > 2147483647.0 ? 2147483647 : static_cast<int>(ms));
}

void Engine::PollKernel(double timeout_ms, int64_t spin_ns) {
  if (!deferred_.empty()) {
    std::vector<uint32_t> again;
    again.swap(deferred_);
    for (uint32_t qd : again) {
      Socket* s = Find(qd);
      if (s == nullptr) continue;
      s->deferred = false;
      Progress(*s);
    }
  }
  if (records_.Full()) return;
  if (records_.Count() > 0 || !deferred_.empty()) timeout_ms = 0;
  epoll_event events[kMaxEvents];
  if (spin_ns > 0 && timeout_ms <= 0 && records_.Count() == 0) {
    // Busy-poll (waitSync, or an async wait right after a wake-up): spin here
    // rather than across the JS boundary, for a short while, until something
    // completes.
    const int64_t deadline = MonotonicNs() + spin_ns;
    for (;;) {
      int n = epoll_wait(epfd_, events, kMaxEvents, 0);
      if (n > 0) Dispatch(events, n);
      if (records_.Count() > 0 || MonotonicNs() >= deadline) return;
      if (n > 0) continue;  // edges that completed nothing: look again at once
      // Let a process sharing this core run (often the very peer we wait for:
      // the scheduler likes to put a woken task beside its waker). Returns at
      // once when nothing else wants the core.
      sched_yield();
    }
  }
  int n = WaitKernel(events, kMaxEvents, timeout_ms);
  if (n > 0) Dispatch(events, n);
}

void Engine::Dispatch(const epoll_event* events, int n) {
  for (int i = 0; i < n; i++) {
    Socket* s = Find(static_cast<uint32_t>(events[i].data.u64));
    if (s == nullptr) continue;  // closed since
    uint32_t ev = events[i].events;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->readable = true;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s->writable = true;
    if (ev & (EPOLLRDHUP | EPOLLERR)) s->hangup = true;
    Progress(*s);
  }
}

}  // namespace catnap
