// Runs a scope inside a named network namespace (/run/netns/<name>, as made by
// `ip netns add`), then returns the calling thread to where it was. A socket
// belongs to the namespace it was created in, so a device opened inside the
// scope keeps working from the original namespace. Only this thread moves.
#pragma once

#include <string>

namespace catpowder {

class NetnsScope {
 public:
  // An empty name does nothing. Throws SysError when it cannot enter.
  explicit NetnsScope(const std::string& name);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int home_ = -1;
};

}  // namespace catpowder
