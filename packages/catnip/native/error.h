// The one exception type native catnip code throws: @demi/native's error plus
// the DPDK log lines written while the failing call ran, which the addon
// boundary attaches to the JS error as `dpdkLog`. Nothing here aborts the process.
#pragma once

#include <demi/error.h>
#include <napi.h>

#include <cerrno>
#include <string>

namespace catnip {

class CatnipError : public demi::Error {
 public:
  // DPDK's own numbers (>= 1000: E_RTE_SECONDARY, ...) have no Linux name: EIO.
  CatnipError(int err, std::string syscall, std::string message, std::string log = "")
      : demi::Error(err >= 1000 ? EIO : err, std::move(syscall), std::move(message)),
        log_(std::move(log)) {}

  const std::string& log() const { return log_; }
  void set_log(std::string log) { log_ = std::move(log); }
  void Decorate(Napi::Object error) const override {
    if (!log_.empty()) error.Set("dpdkLog", Napi::String::New(error.Env(), log_));
  }

 private:
  std::string log_;
};

// strerror for Linux errno values, rte_strerror for DPDK's (>= 1000).
std::string ErrorText(int err);

}  // namespace catnip
