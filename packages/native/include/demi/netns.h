// Runs a scope inside a named network namespace (/run/netns/<name>, as made by
// `ip netns add`), then moves the calling thread back. Sockets (and the kernel
// objects drivers open) belong to the namespace they were created in, so what
// is opened inside the scope keeps working from the original namespace. Only
// this thread moves.
#pragma once

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "error.h"
#include "fd.h"

namespace demi {

class NetnsScope {
 public:
  // An empty name does nothing. Throws demi::Error when it cannot enter.
  explicit NetnsScope(const std::string& name) {
    if (name.empty()) return;
    if (!ValidName(name)) {
      Fail(EINVAL, "netns", "network namespace name must be 1-200 characters without '/'");
    }
    UniqueFd home(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home.valid()) {
      int err = errno;
      Fail(err, "open",
           "cannot open this thread's network namespace (/proc/thread-self/ns/net): " +
               ErrnoText(err));
    }
    const std::string path = "/run/netns/" + name;
    UniqueFd target(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target.valid()) {
      int err = errno;
      Fail(err, "open",
           "no network namespace " + name + " (" + path + ": " + ErrnoText(err) +
               "); list them with: ip netns list");
    }
    if (setns(target.get(), CLONE_NEWNET) != 0) {
      int err = errno;
      Fail(err, "setns",
           "cannot enter network namespace " + name + ": " + ErrnoText(err) +
               (err == EPERM ? " (needs CAP_SYS_ADMIN: run as root)" : ""));
    }
    home_ = std::move(home);
  }

  ~NetnsScope() {
    if (!home_.valid()) return;
    // Returning home cannot reasonably fail (the thread came from there); if it
    // did, the thread would stay in the other namespace, so say so.
    if (setns(home_.get(), CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "demi: could not return to the original network namespace: %s\n",
                   ErrnoText(errno).c_str());
    }
  }
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  static bool ValidName(const std::string& name) {
    if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
    return name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
  }

  UniqueFd home_;
};

}  // namespace demi
