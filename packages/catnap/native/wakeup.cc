#include "wakeup.h"

#include <cstdlib>

// The few libuv functions used, declared here because Node-API headers do not
// ship uv.h. Node exports them to addons, and libuv keeps them ABI-stable
// across 1.x. Handles are opaque: their size comes from uv_handle_size().
extern "C" {
struct uv_loop_s;
struct uv_handle_s;
typedef void (*demi_uv_poll_cb)(void* handle, int status, int events);
typedef void (*demi_uv_close_cb)(uv_handle_s* handle);
size_t uv_handle_size(int type);
int uv_poll_init(uv_loop_s* loop, void* handle, int fd);
int uv_poll_start(void* handle, int events, demi_uv_poll_cb cb);
int uv_poll_stop(void* handle);
void uv_close(uv_handle_s* handle, demi_uv_close_cb cb);
void uv_ref(uv_handle_s* handle);
void uv_unref(uv_handle_s* handle);
void* uv_handle_get_data(const uv_handle_s* handle);
void uv_handle_set_data(uv_handle_s* handle, void* data);
}

namespace catnap {

namespace {
constexpr int kUvPoll = 8;  // UV_POLL in uv_handle_type
constexpr int kUvReadable = 1;

uv_handle_s* AsHandle(void* h) { return static_cast<uv_handle_s*>(h); }
void FreeHandle(uv_handle_s* handle) { std::free(handle); }
}  // namespace

int Wakeup::Set(napi_env env, int fd, bool active) {
  if (handle_ == nullptr) {
    if (!active) return 0;
    uv_loop_s* loop = nullptr;
    if (napi_get_uv_event_loop(env, reinterpret_cast<struct uv_loop_s**>(&loop)) != napi_ok ||
        loop == nullptr) {
      return -1;
    }
    void* handle = std::calloc(1, uv_handle_size(kUvPoll));
    if (handle == nullptr) return -12;
    int rc = uv_poll_init(loop, handle, fd);
    if (rc != 0) {
      std::free(handle);
      return rc;
    }
    uv_handle_set_data(AsHandle(handle), this);
    rc = uv_poll_start(handle, kUvReadable, &Wakeup::OnPoll);
    if (rc != 0) {
      uv_close(AsHandle(handle), FreeHandle);
      return rc;
    }
    handle_ = handle;
  }
  // Referencing is a flag in libuv, so toggling it per wait costs no system call.
  if (active) {
    uv_ref(AsHandle(handle_));
  } else {
    uv_unref(AsHandle(handle_));
  }
  return 0;
}

void Wakeup::Close() {
  if (handle_ == nullptr) return;
  uv_poll_stop(handle_);
  uv_handle_set_data(AsHandle(handle_), nullptr);
  uv_close(AsHandle(handle_), FreeHandle);
  handle_ = nullptr;
}

void Wakeup::OnPoll(void* handle, int /*status*/, int /*events*/) {
  // Also on error status: the owner polls, and a failed epoll fd reports nothing.
  auto* self = static_cast<Wakeup*>(uv_handle_get_data(AsHandle(handle)));
  if (self != nullptr) self->callback_(self->owner_);
}

}  // namespace catnap
