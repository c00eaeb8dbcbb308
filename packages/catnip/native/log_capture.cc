#include "log_capture.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace catnip {

namespace {

struct Ring {
  std::mutex mu;
  std::string data;    // the last kCapacity bytes written
  uint64_t total = 0;  // bytes ever written
  bool forward = false;
};

Ring& TheRing() {
  // Leaked on purpose: DPDK threads may log during process exit.
  static Ring* ring = [] {
    auto* r = new Ring();
    const char* env = std::getenv("DEMI_DPDK_LOG");
    r->forward = env != nullptr && std::strcmp(env, "1") == 0;
    return r;
  }();
  return *ring;
}

ssize_t WriteCookie(void*, const char* buf, size_t size) {
  Ring& ring = TheRing();
  std::lock_guard<std::mutex> lock(ring.mu);
  ring.data.append(buf, size);
  if (ring.data.size() > LogCapture::kCapacity) {
    ring.data.erase(0, ring.data.size() - LogCapture::kCapacity);
  }
  ring.total += size;
  if (ring.forward) {
    // Best effort, like any logger: a short write to stderr is not an error here.
    ssize_t ignored = write(STDERR_FILENO, buf, size);
    (void)ignored;
  }
  return static_cast<ssize_t>(size);
}

}  // namespace

FILE* LogCapture::Stream() {
  static FILE* stream = [] {
    cookie_io_functions_t io{};
    io.write = WriteCookie;
    FILE* f = fopencookie(nullptr, "w", io);
    // Line-buffered: each DPDK log line reaches the ring as it is written.
    if (f != nullptr) setvbuf(f, nullptr, _IOLBF, 0);
    return f;
  }();
  return stream;
}

uint64_t LogCapture::Mark() {
  Ring& ring = TheRing();
  std::lock_guard<std::mutex> lock(ring.mu);
  return ring.total;
}

std::string LogCapture::Since(uint64_t mark) {
  FILE* f = Stream();
  if (f != nullptr) fflush(f);
  Ring& ring = TheRing();
  std::lock_guard<std::mutex> lock(ring.mu);
  uint64_t wanted = ring.total > mark ? ring.total - mark : 0;
  size_t n = static_cast<size_t>(std::min<uint64_t>(wanted, ring.data.size()));
  return ring.data.substr(ring.data.size() - n);
}

void LogCapture::SetForward(bool forward) {
  Ring& ring = TheRing();
  std::lock_guard<std::mutex> lock(ring.mu);
  ring.forward = forward;
}

}  // namespace catnip
