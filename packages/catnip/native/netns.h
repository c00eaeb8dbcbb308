// Runs a scope inside a named network namespace (/run/netns/<name>, as made by
// `ip netns add`), then moves the calling thread back. DPDK drivers open their
// kernel objects (AF_PACKET and AF_XDP sockets, TAP devices) while the EAL
// probes devices and while a port is configured, so those run in the scope; the
// sockets stay bound to that namespace afterwards. Only this thread moves
// (threads the EAL starts inside the scope stay there, which is harmless).
#pragma once

#include <string>

namespace catnip {

class NetnsScope {
 public:
  // An empty name does nothing. Throws CatnipError when it cannot enter.
  explicit NetnsScope(const std::string& name);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int home_ = -1;
};

}  // namespace catnip
