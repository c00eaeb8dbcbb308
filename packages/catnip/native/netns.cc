#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.h"

namespace catnip {

namespace {
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}
}  // namespace

NetnsScope::NetnsScope(const std::string& name) {
  if (name.empty()) return;
  if (!ValidName(name)) {
    throw CatnipError(EINVAL, "netns",
                      "network namespace name must be 1-200 characters without '/'");
  }
  home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_ < 0) {
    int err = errno;
    throw CatnipError(
        err, "open",
        std::string("cannot open this thread's network namespace: ") + std::strerror(err));
  }
  std::string path = "/run/netns/" + name;
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(home_);
    home_ = -1;
    throw CatnipError(err, "open",
                      "no network namespace " + name + " (" + path + ": " + std::strerror(err) +
                          "); list them with: ip netns list");
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    close(target);
    close(home_);
    home_ = -1;
    throw CatnipError(err, "setns",
                      "cannot enter network namespace " + name + ": " + std::strerror(err) +
                          (err == EPERM ? " (needs CAP_SYS_ADMIN: run as root)" : ""));
  }
  close(target);
}

NetnsScope::~NetnsScope() {
  if (home_ < 0) return;
  // Returning home cannot reasonably fail (we came from there); if it did, the
  // thread would stay in the other namespace, so say so.
  if (setns(home_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "catnip: could not return to the original network namespace: %s\n",
                 std::strerror(errno));
  }
  close(home_);
}

}  // namespace catnip
