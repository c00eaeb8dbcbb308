// Entry points from JS. Each checks every argument (type, range, that the qd
// names a live socket of this engine) before touching the kernel, and returns
// the number of completion records it wrote.
#include "engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <string>

#include "args.h"

namespace catnap {

namespace {

constexpr size_t kMaxIoBytes = size_t{1} << 30;
constexpr uint32_t kMaxSegments = 1024;
constexpr size_t kStackSegments = 16;
constexpr uint32_t kMaxDatagram = 65536;
constexpr double kMaxTimeoutMs = 2147483647.0;

enum class OptionKind { kUnknown, kFlag, kLinger };

OptionKind KindOf(int level, int name) {
  if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_KEEPALIVE)) {
    return OptionKind::kFlag;
  }
  if (level == SOL_SOCKET && name == SO_LINGER) return OptionKind::kLinger;
  if (level == IPPROTO_TCP && name == TCP_NODELAY) return OptionKind::kFlag;
  return OptionKind::kUnknown;
}

sockaddr_in MakeAddr(uint32_t ip, uint32_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(ip);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

std::string Describe(const sockaddr_in& addr) {
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(addr.sin_port));
}

double Endpoint(const sockaddr_in& addr) {
  return static_cast<double>(ntohl(addr.sin_addr.s_addr)) * 65536.0 + ntohs(addr.sin_port);
}

}  // namespace

namespace {

using Method = Napi::Value (*)(const Napi::CallbackInfo&);
struct MethodEntry {
  const char* name;
  Method method;
};

}  // namespace

Napi::Value Engine::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<Engine> owned(new Engine(info));
  Engine* engine = owned.get();
  static const MethodEntry kMethods[] = {
      {"slab", &Call<&Engine::SlabOf>},
      {"socket", &Call<&Engine::NewSocket>},
      {"bind", &Call<&Engine::Bind>},
      {"listen", &Call<&Engine::Listen>},
      {"accept", &Call<&Engine::Accept>},
      {"connect", &Call<&Engine::Connect>},
      {"close", &Call<&Engine::Close>},
      {"asyncClose", &Call<&Engine::AsyncClose>},
      {"push", &Call<&Engine::Push>},
      {"pushto", &Call<&Engine::Pushto>},
      {"pop", &Call<&Engine::Pop>},
      {"poll", &Call<&Engine::Poll>},
      {"setWakeups", &Call<&Engine::SetWakeups>},
      {"setsockopt", &Call<&Engine::Setsockopt>},
      {"getsockopt", &Call<&Engine::Getsockopt>},
      {"peername", &Call<&Engine::Peername>},
      {"sockname", &Call<&Engine::Sockname>},
      {"socketCount", &Call<&Engine::SocketCount>},
      {"sgafree", &Call<&Engine::Sgafree>},
      {"slabStats", &Call<&Engine::SlabStats>},
      {"shutdown", &Call<&Engine::Shutdown>},
  };
  Napi::Object object = Napi::Object::New(env);
  auto hold = [&](napi_value value) {
    if (napi_add_finalizer(env, value, engine, &Engine::Release, nullptr, nullptr) != napi_ok) {
      throw Napi::Error::New(env, "cannot attach the engine to its functions");
    }
    engine->js_refs_++;
    owned.release();  // from here on the finalizers own it
  };
  hold(object);
  for (const MethodEntry& m : kMethods) {
    Napi::Function fn = Napi::Function::New(env, m.method, m.name, engine);
    hold(fn);
    object.Set(m.name, fn);
  }
  return object;
}

void Engine::Release(napi_env /*env*/, void* data, void* /*hint*/) {
  Engine* engine = static_cast<Engine*>(data);
  if (--engine->js_refs_ == 0) delete engine;
}

Engine::Engine(const Napi::CallbackInfo& info) : env_(info.Env()), wakeup_(this, &Engine::OnWake) {
  Napi::Env env = info.Env();
  const char* syscall = "init";
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Fail(EINVAL, syscall, "createEngine(onWake, records, options?): onWake must be a function");
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  bool plain = true;
  if (napi_get_typedarray_info(env, info[1], &type, &length, &data, &buffer, nullptr) != napi_ok ||
      type != napi_float64_array || length != kRecordArrayLength || data == nullptr ||
      napi_is_arraybuffer(env, buffer, &plain) != napi_ok || plain) {
    Fail(EINVAL, syscall,
         "records must be a Float64Array of RECORD_ARRAY_LENGTH elements over a "
         "SharedArrayBuffer");
  }
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsObject()) Fail(EINVAL, syscall, "options must be an object");
    Napi::Object options = info[2].As<Napi::Object>();
    auto flag = [&](const char* key, bool& out) {
      Napi::Value v = options.Get(key);
      if (v.IsUndefined()) return;
      if (!v.IsBoolean()) Fail(EINVAL, syscall, std::string(key) + " must be a boolean");
      out = v.As<Napi::Boolean>().Value();
    };
    auto seconds = [&](const char* key, int& out) {
      Napi::Value v = options.Get(key);
      if (v.IsUndefined()) return;
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 2147483647.0) || d != std::trunc(d)) {
        Fail(EINVAL, syscall, std::string(key) + " must be a non-negative integer");
      }
      out = static_cast<int>(d);
    };
    flag("nodelay", tcp_.nodelay);
    flag("keepalive", tcp_.keepalive);
    seconds("keepIdleSeconds", tcp_.keep_idle_s);
    seconds("keepIntervalSeconds", tcp_.keep_interval_s);
    flag("linger", tcp_.linger);
    seconds("lingerSeconds", tcp_.linger_s);
    Napi::Value spin = options.Get("wakeSpinMicros");
    if (!spin.IsUndefined()) {
      double us = spin.IsNumber() ? spin.As<Napi::Number>().DoubleValue() : -1;
      if (!(us >= 0 && us <= kMaxWakeSpinUs) || us != std::trunc(us)) {
        Fail(EINVAL, syscall,
             "wakeSpinMicros must be an integer in [0, " + std::to_string(kMaxWakeSpinUs) + "]");
      }
      wake_spin_ns_ = static_cast<int64_t>(us) * 1000;
    }
    Napi::Value allocate = options.Get("allocSlab");
    if (!allocate.IsUndefined()) {
      if (!allocate.IsFunction()) Fail(EINVAL, syscall, "allocSlab must be a function");
      slabs_.SetAllocator(allocate.As<Napi::Function>());
    }
  }
  on_wake_ = Napi::Weak(info[0].As<Napi::Function>());
  record_array_ = Napi::Persistent(info[1].As<Napi::Object>());
  record_base_ = static_cast<double*>(data);
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "demi:catnap");
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) FailSys(errno, syscall, "epoll_create1");
}

Engine::~Engine() {
  wakeup_.Close();
  CloseAll();
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
}

void Engine::BeginCall(Napi::Env /*env*/, const char* syscall) {
  if (epfd_ < 0) Fail(EBADF, syscall, "this catnap instance has been shut down");
  records_.Begin(record_base_);
  slabs_.BeginCall();
}

Socket& Engine::Lookup(const Napi::CallbackInfo& info, size_t i, const char* syscall) {
  Napi::Env env = info.Env();
  if (epfd_ < 0) Fail(EBADF, syscall, "this catnap instance has been shut down");
  double value = 0;
  if (napi_get_value_double(env, info[i], &value) != napi_ok ||
      !(value >= 1 && value <= 0x7fffffff) || value != std::trunc(value)) {
    Fail(EBADF, syscall, "not a queue descriptor");
  }
  Socket* s = Find(static_cast<uint32_t>(value));
  if (s == nullptr || s->closing) {
    Fail(EBADF, syscall,
         "no open socket has queue descriptor " + std::to_string(static_cast<uint32_t>(value)));
  }
  return *s;
}

Napi::Value Engine::SlabOf(const Napi::CallbackInfo& info) {
  double generation = NumberArg(info, 0, "slab generation", "pop");
  Napi::Value slab = slabs_.Find(generation);
  if (!slab.IsEmpty()) return slab;
  // A pop served from bytes read ahead earlier, into a slab since replaced.
  for (auto& [qd, socket] : sockets_) {
    if (socket->ahead.length > 0 && socket->ahead.generation == generation) {
      return socket->ahead.slab.Value();
    }
  }
  Fail(EINVAL, "slab", "no slab of that generation in the last call");
}

Napi::Value Engine::NewSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (epfd_ < 0) Fail(EBADF, "socket", "this catnap instance has been shut down");
  int type = static_cast<int>(IntegerArg(info, 0, "type", SOCK_STREAM, SOCK_DGRAM, "socket"));
  int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) FailSys(errno, "socket", "socket");
  if (type == SOCK_STREAM) ApplyTcpDefaults(fd);
  return Napi::Number::New(env, Add(fd, type == SOCK_STREAM).qd);
}

Napi::Value Engine::Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ip = Ipv4Arg(info, 1, "bind");
  uint32_t port = static_cast<uint32_t>(IntegerArg(info, 2, "port", 0, 65535, "bind"));
  Socket& s = Lookup(info, 0, "bind");
  if (s.bound) Fail(EINVAL, "bind", "the socket is already bound");
  if (s.stream) {
    // As Node does for servers: a restarted server can bind while old connections linger.
    int on = 1;
    setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  sockaddr_in addr = MakeAddr(ip, port);
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    FailSys(errno, "bind", "bind " + Describe(addr));
  }
  s.bound = true;
  return env.Undefined();
}

Napi::Value Engine::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int backlog = static_cast<int>(IntegerArg(info, 1, "backlog", 0, 65535, "listen"));
  Socket& s = Lookup(info, 0, "listen");
  if (!s.stream) Fail(EOPNOTSUPP, "listen", "listen needs a stream (TCP) socket");
  // The kernel would bind an unbound socket to a random port; the contract says EDESTADDRREQ.
  if (!s.bound) Fail(EDESTADDRREQ, "listen", "bind the socket before listening");
  if (::listen(s.fd, backlog) != 0) FailSys(errno, "listen", "listen");
  s.listening = true;
  s.readable = true;
  return env.Undefined();
}

Napi::Value Engine::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BeginCall(env, "accept");
  double token = TokenArg(info, 1, "accept");
  Socket& s = Lookup(info, 0, "accept");
  if (!s.listening) Fail(EINVAL, "accept", "the socket is not listening");
  if (!(s.accepts.empty() && s.readable && AcceptOnce(s, token))) s.accepts.push_back(token);
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BeginCall(env, "connect");
  double token = TokenArg(info, 1, "connect");
  uint32_t ip = Ipv4Arg(info, 2, "connect");
  uint32_t port = static_cast<uint32_t>(IntegerArg(info, 3, "port", 1, 65535, "connect"));
  Socket& s = Lookup(info, 0, "connect");
  if (s.connecting) Fail(EALREADY, "connect", "a connect is already in progress");
  if (s.listening) Fail(EISCONN, "connect", "the socket is listening");
  sockaddr_in addr = MakeAddr(ip, port);
  int rc = ::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc == 0) {
    records_.Add(token, kConnect, 0, s.qd);
  } else if (errno == EINPROGRESS || errno == EINTR) {
    // EINTR: the connection still goes on in the background, as with EINPROGRESS.
    s.connecting = true;
    s.connect_token = token;
    s.writable = false;
  } else {
    records_.Add(token, kFailed, errno, s.qd);
  }
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::Close(const Napi::CallbackInfo& info) {
  Socket& s = Lookup(info, 0, "close");
  Destroy(s.qd);
  return info.Env().Undefined();
}

Napi::Value Engine::AsyncClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BeginCall(env, "asyncClose");
  double token = TokenArg(info, 1, "asyncClose");
  Socket& s = Lookup(info, 0, "asyncClose");
  // Reads and accepts stop now (the TS side fails their tokens once CLOSE completes);
  // pushes already queued finish first.
  s.accepts.clear();
  s.pops.clear();
  s.connecting = false;
  s.closing = true;
  s.close_token = token;
  Progress(s);
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::Push(const Napi::CallbackInfo& info) { return PushCommon(info, "push", false); }

Napi::Value Engine::Pushto(const Napi::CallbackInfo& info) {
  return PushCommon(info, "pushto", true);
}

Napi::Value Engine::PushCommon(const Napi::CallbackInfo& info, const char* syscall, bool to) {
  Napi::Env env = info.Env();
  BeginCall(env, syscall);
  double token = TokenArg(info, 1, syscall);
  sockaddr_in addr{};
  if (to) {
    uint32_t ip = Ipv4Arg(info, 3, syscall);
    uint32_t port = static_cast<uint32_t>(IntegerArg(info, 4, "port", 1, 65535, syscall));
    addr = MakeAddr(ip, port);
  }

  // Gather the segments. Element reads may run JS (index getters), so every
  // element is fetched first and only then are the bytes looked at: nothing
  // can run between reading the pointers and using them.
  iovec stack_iov[kStackSegments];
  std::vector<iovec> heap_iov;
  iovec* iov = stack_iov;
  size_t segments = 0;
  size_t total = 0;
  Bytes bytes{};
  if (GetBytes(env, info[2], &bytes)) {
    stack_iov[0] = iovec{const_cast<uint8_t*>(bytes.data), bytes.length};
    segments = 1;
    total = bytes.length;
  } else if (info[2].IsArray()) {
    Napi::Array array = info[2].As<Napi::Array>();
    uint32_t length = array.Length();
    if (length > kMaxSegments) {
      Fail(EINVAL, syscall, "at most " + std::to_string(kMaxSegments) + " segments");
    }
    std::vector<Napi::Value> values;
    values.reserve(length);
    for (uint32_t i = 0; i < length; i++) values.push_back(array.Get(i));
    if (length > kStackSegments) {
      heap_iov.resize(length);
      iov = heap_iov.data();
    }
    for (uint32_t i = 0; i < length; i++) {
      if (!GetBytes(env, values[i], &bytes)) {
        Fail(EINVAL, syscall, "every segment must be a Uint8Array");
      }
      iov[i] = iovec{const_cast<uint8_t*>(bytes.data), bytes.length};
      total += bytes.length;
    }
    segments = length;
  } else {
    Fail(EINVAL, syscall, "data must be a Uint8Array or an array of Uint8Array");
  }
  if (total > kMaxIoBytes) Fail(EINVAL, syscall, "at most 1 GiB per push");

  Socket& s = Lookup(info, 0, syscall);
  if (to && s.stream) Fail(EOPNOTSUPP, syscall, "pushto needs a datagram (UDP) socket");

  size_t sent = 0;
  bool tried = false;
  if (s.pushes.empty() && s.writable && !s.connecting) {
    if (total == 0 && s.stream) {
      records_.Add(token, kPush, 0, s.qd);
      return Napi::Number::New(env, records_.Count());
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = segments;
    if (to) {
      msg.msg_name = &addr;
      msg.msg_namelen = sizeof addr;
    }
    ssize_t n;
    do {
      n = segments == 1 && !to ? ::send(s.fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL)
                               : ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && static_cast<size_t>(n) == total) {
      records_.Add(token, kPush, 0, s.qd);
      return Napi::Number::New(env, records_.Count());
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      records_.Add(token, kFailed, errno, s.qd);
      return Napi::Number::New(env, records_.Count());
    }
    if (n < 0) {
      s.writable = false;
    } else {
      sent = static_cast<size_t>(n);
    }
    tried = true;
  }

  // The kernel did not take it all: keep a copy of the rest, so the caller's
  // buffers are free again and nothing is lost if they change.
  PendingPush pending;
  pending.token = token;
  if (!spare_copies_.empty()) {
    pending.data = std::move(spare_copies_.back());
    spare_copies_.pop_back();
    pending.data.clear();
  }
  pending.data.reserve(total - sent);
  size_t skip = sent;
  for (size_t i = 0; i < segments; i++) {
    const uint8_t* base = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    pending.data.insert(pending.data.end(), base + skip, base + len);
    skip = 0;
  }
  pending.sent = 0;
  pending.has_addr = to;
  pending.to = addr;
  s.pushes.push_back(std::move(pending));
  // A partial send leaves the socket writable: push on until the kernel says EAGAIN.
  if (tried && s.writable) DrainPushes(s);
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::Pop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BeginCall(env, "pop");
  double token = TokenArg(info, 1, "pop");
  int64_t size = IntegerArg(info, 2, "size", 1, static_cast<int64_t>(kMaxIoBytes), "pop");
  Socket& s = Lookup(info, 0, "pop");
  // A pop returns up to `size` bytes: a stream read is capped at one slab, a
  // datagram read at the largest datagram.
  uint32_t want = static_cast<uint32_t>(
      std::min<int64_t>(size, s.stream ? static_cast<int64_t>(kSlabBytes) : kMaxDatagram));
  if (!(s.pops.empty() && (s.readable || s.ahead.length > 0) && !s.connecting &&
        PopOnce(s, token, want))) {
    s.pops.push_back(PendingPop{token, want});
  }
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BeginCall(env, "poll");
  double timeout = NumberArg(info, 0, "timeoutMs", "poll");
  if (timeout < 0) Fail(EINVAL, "poll", "timeoutMs must not be negative");
  // Optional second argument: true while waitSync busy-polls.
  bool spin = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  PollKernel(std::min(timeout, kMaxTimeoutMs), spin && timeout == 0 ? kSyncSpinNs : 0);
  return Napi::Number::New(env, records_.Count());
}

Napi::Value Engine::SetWakeups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool active = BoolArg(info, 0, "active", "wait");
  ApplyWakeups(env, active);
  return env.Undefined();
}

Napi::Value Engine::Setsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = static_cast<int>(IntegerArg(info, 1, "level", 0, 0xffff, "setsockopt"));
  int name = static_cast<int>(IntegerArg(info, 2, "name", 0, 0xffff, "setsockopt"));
  int value = static_cast<int>(IntegerArg(info, 3, "value", 0, 1, "setsockopt"));
  int seconds = static_cast<int>(IntegerArg(info, 4, "linger", 0, 0xffff, "setsockopt"));
  Socket& s = Lookup(info, 0, "setsockopt");
  int rc;
  switch (KindOf(level, name)) {
    case OptionKind::kFlag:
      rc = setsockopt(s.fd, level, name, &value, sizeof value);
      break;
    case OptionKind::kLinger: {
      linger l{value, seconds};
      rc = setsockopt(s.fd, level, name, &l, sizeof l);
      break;
    }
    default:
      Fail(ENOPROTOOPT, "setsockopt",
           "unsupported option (level " + std::to_string(level) + ", name " + std::to_string(name) +
               "); catnap has SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER and TCP_NODELAY");
  }
  if (rc != 0) FailSys(errno, "setsockopt", "setsockopt");
  return env.Undefined();
}

Napi::Value Engine::Getsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = static_cast<int>(IntegerArg(info, 1, "level", 0, 0xffff, "getsockopt"));
  int name = static_cast<int>(IntegerArg(info, 2, "name", 0, 0xffff, "getsockopt"));
  Socket& s = Lookup(info, 0, "getsockopt");
  switch (KindOf(level, name)) {
    case OptionKind::kFlag: {
      int value = 0;
      socklen_t len = sizeof value;
      if (getsockopt(s.fd, level, name, &value, &len) != 0) {
        FailSys(errno, "getsockopt", "getsockopt");
      }
      return Napi::Boolean::New(env, value != 0);
    }
    case OptionKind::kLinger: {
      linger l{};
      socklen_t len = sizeof l;
      if (getsockopt(s.fd, level, name, &l, &len) != 0) {
        FailSys(errno, "getsockopt", "getsockopt");
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("onoff", Napi::Boolean::New(env, l.l_onoff != 0));
      out.Set("linger", Napi::Number::New(env, l.l_linger));
      return out;
    }
    default:
      Fail(ENOPROTOOPT, "getsockopt",
           "unsupported option (level " + std::to_string(level) + ", name " + std::to_string(name) +
               ")");
  }
}

Napi::Value Engine::Peername(const Napi::CallbackInfo& info) {
  Socket& s = Lookup(info, 0, "getpeername");
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getpeername(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    FailSys(errno, "getpeername", "getpeername");
  }
  return Napi::Number::New(info.Env(), Endpoint(addr));
}

Napi::Value Engine::Sockname(const Napi::CallbackInfo& info) {
  Socket& s = Lookup(info, 0, "getsockname");
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    FailSys(errno, "getsockname", "getsockname");
  }
  return Napi::Number::New(info.Env(), Endpoint(addr));
}

Napi::Value Engine::SocketCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sockets_.size()));
}

// JS freed a view it made of slab `generation` (each view once). After
// shutdown nothing is counted: the slabs go back as V8 collects them.
Napi::Value Engine::Sgafree(const Napi::CallbackInfo& info) {
  double generation = NumberArg(info, 0, "slab generation", "sgafree");
  if (epfd_ >= 0) slabs_.Freed(info.Env(), generation);
  return info.Env().Undefined();
}

Napi::Value Engine::SlabStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Slabs::Stats stats = slabs_.GetStats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("outstanding", Napi::Number::New(env, static_cast<double>(stats.outstanding)));
  out.Set("pooled", Napi::Number::New(env, static_cast<double>(stats.pooled)));
  out.Set("returnedEarly", Napi::Number::New(env, stats.returned_early));
  return out;
}

Napi::Value Engine::Shutdown(const Napi::CallbackInfo& info) {
  wakeup_.Close();
  CloseAll();
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
  slabs_.Release();
  return info.Env().Undefined();
}

}  // namespace catnap
