// Wakes JS when a descriptor becomes readable, through a libuv poll handle on
// Node's own event loop: no thread, no extra system call per wake-up. While
// unreferenced, the handle keeps no loop alive, so an idle process uses no CPU
// and exits on its own.
//
// Node exports libuv's functions to addons, but neither Node-API's headers
// (node-api-headers) nor cmake-js's local build ship uv.h, and Debian's
// libuv1-dev may not match the running Node. So the few functions used are
// declared here, in one place: libuv keeps them ABI-stable across 1.x, handles
// stay opaque (sized by uv_handle_size), and the one enum value used
// (UV_POLL) is checked against the running libuv before it is trusted.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"

extern "C" {
struct uv_loop_s;
struct uv_handle_s;
typedef void (*demi_uv_poll_cb)(void* handle, int status, int events);
typedef void (*demi_uv_close_cb)(uv_handle_s* handle);
size_t uv_handle_size(int type);
const char* uv_handle_type_name(int type);
const char* uv_strerror(int err);
int uv_poll_init(uv_loop_s* loop, void* handle, int fd);
int uv_poll_start(void* handle, int events, demi_uv_poll_cb cb);
int uv_poll_stop(void* handle);
void uv_close(uv_handle_s* handle, demi_uv_close_cb cb);
void uv_ref(uv_handle_s* handle);
void uv_unref(uv_handle_s* handle);
void* uv_handle_get_data(const uv_handle_s* handle);
void uv_handle_set_data(uv_handle_s* handle, void* data);
}

namespace demi {

class FdWatch {
 public:
  // Called on the JS thread when the descriptor is readable (or broke: status < 0).
  using Callback = void (*)(void* owner, int status);

  FdWatch(void* owner, Callback callback) : owner_(owner), callback_(callback) {}
  ~FdWatch() { Close(); }
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // Watches `fd` on env's loop (the handle is made on first use). Throws demi::Error.
  void Start(napi_env env, int fd, const char* syscall) {
    if (handle_ == nullptr) Open(env, fd, syscall);
    if (started_) return;
    int rc = uv_poll_start(handle_, kUvReadable, &FdWatch::OnPoll);
    if (rc != 0) Fail(-rc, "uv_poll_start", std::string("cannot watch: ") + uv_strerror(rc));
    started_ = true;
  }
  void Stop() {
    if (!started_) return;
    uv_poll_stop(handle_);  // a stopped handle keeps no loop alive
    started_ = false;
  }
  // Referencing is a flag in libuv: toggling it per wait costs no system call.
  void Ref(bool on) {
    if (handle_ == nullptr) return;
    if (on) {
      uv_ref(Handle());
    } else {
      uv_unref(Handle());
    }
  }
  void Close() {
    if (handle_ == nullptr) return;
    Stop();
    uv_handle_set_data(Handle(), nullptr);
    uv_close(Handle(), [](uv_handle_s* h) { std::free(h); });
    handle_ = nullptr;
  }
  bool started() const { return started_; }

 private:
  static constexpr int kUvPoll = 8;  // UV_POLL in uv_handle_type (checked in Open)
  static constexpr int kUvReadable = 1;

  uv_handle_s* Handle() const { return static_cast<uv_handle_s*>(handle_); }

  void Open(napi_env env, int fd, const char* syscall) {
    const char* type = uv_handle_type_name(kUvPoll);
    if (type == nullptr || std::strcmp(type, "poll") != 0) {
      Fail(ENOTSUP, syscall, "this Node's libuv numbers its handle types differently");
    }
    uv_loop_s* loop = nullptr;
    if (napi_get_uv_event_loop(env, reinterpret_cast<struct uv_loop_s**>(&loop)) != napi_ok ||
        loop == nullptr) {
      Fail(EIO, syscall, "no event loop");
    }
    void* handle = std::calloc(1, uv_handle_size(kUvPoll));
    if (handle == nullptr) Fail(ENOMEM, syscall, "out of memory");
    int rc = uv_poll_init(loop, handle, fd);
    if (rc != 0) {
      std::free(handle);
      Fail(-rc, "uv_poll_init", std::string("cannot watch: ") + uv_strerror(rc));
    }
    uv_handle_set_data(static_cast<uv_handle_s*>(handle), this);
    handle_ = handle;
  }

  static void OnPoll(void* handle, int status, int /*events*/) {
    auto* self = static_cast<FdWatch*>(uv_handle_get_data(static_cast<uv_handle_s*>(handle)));
    if (self != nullptr) self->callback_(self->owner_, status);
  }

  void* owner_;
  Callback callback_;
  void* handle_ = nullptr;
  bool started_ = false;
};

}  // namespace demi
