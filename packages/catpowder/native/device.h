// The JS object over one backend: validates every argument, owns the frame
// arenas (V8 ArrayBuffers JS reads as views), and wakes JS through a libuv
// poll handle on the backend's descriptor while JS asks it to.
#pragma once

#include <demi/fd_watch.h>
#include <napi.h>

#include <memory>

#include "backend.h"

namespace catpowder {

class Device : public Napi::ObjectWrap<Device> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Device(const Napi::CallbackInfo& info);
  ~Device() override;

 private:
  Napi::Value Receive(const Napi::CallbackInfo& info);
  Napi::Value Transmit(const Napi::CallbackInfo& info);
  Napi::Value SetWakeup(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);

  void Open(const Napi::CallbackInfo& info);
  Backend& Live(const char* syscall);
  Arena ArenaOf(Napi::ObjectReference& data, Napi::ObjectReference& lens, uint32_t slotSize,
                const char* syscall);
  void StopPolling();
  void Shutdown();
  static void OnReadable(void* owner, int status);
  static void OnEnvCleanup(void* arg);

  std::unique_ptr<Backend> backend_;
  InterfaceInfo iface_;
  uint32_t slots_ = 0;
  uint32_t slotSize_ = 0;
  uint32_t txSlotSize_ = 0;
  // Largest IPv4 datagram sent whole for the kernel to segment; 0 without offload.
  uint32_t tso_ = 0;
  bool verifyRx_ = true;
  bool fillTx_ = true;
  Napi::ObjectReference rxData_, rxLens_, txData_, txLens_;

  demi::FdWatch watch_{this, &Device::OnReadable};
  bool cleanupHook_ = false;
  Napi::FunctionReference onReadable_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace catpowder
