// Wakes the TS side when the engine's epoll fd becomes readable, through a
// libuv poll handle on Node's own loop. The handle keeps the loop alive only
// while referenced (async waits outstanding), so an idle process uses no CPU
// and exits on its own.
#pragma once
#include <napi.h>

namespace catnap {

class Wakeup {
 public:
  using Callback = void (*)(void* owner);

  Wakeup(void* owner, Callback callback) : owner_(owner), callback_(callback) {}
  ~Wakeup() { Close(); }
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Starts watching `fd` (once) and references or unreferences the loop. Returns 0 or a
  // negative libuv error.
  int Set(napi_env env, int fd, bool active);
  void Close();

 private:
  static void OnPoll(void* handle, int status, int events);

  void* owner_;
  Callback callback_;
  void* handle_ = nullptr;
};

}  // namespace catnap
