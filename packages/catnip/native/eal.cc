#include "eal.h"

#include <demi/netns.h>
#include <fcntl.h>
#include <pthread.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_version.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "control.h"
#include "eal_args.h"
#include "error.h"
#include "log_capture.h"

namespace catnip {

namespace {

enum class State { kDown, kUp, kCleaned };

struct Global {
  std::mutex mu;
  State state = State::kDown;
  int refs = 0;
  std::vector<std::string> args;
  std::string last_failure;
  bool memif_used = false;
  std::string cleanup_skipped;
};

Global& G() {
  static Global* g = new Global();  // leaked: may be used from exit paths
  return *g;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

// rte_eal_init prints its usage text with printf when an argument is wrong.
// That text goes nowhere useful in a Node process, so stdout points at
// /dev/null while it runs (DEMI_DPDK_LOG=1 keeps it).
class QuietStdout {
 public:
  QuietStdout() {
    const char* env = std::getenv("DEMI_DPDK_LOG");
    if (env != nullptr && std::strcmp(env, "1") == 0) return;
    std::fflush(stdout);
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0) return;
    saved_ = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved_ >= 0 && dup2(null_fd, STDOUT_FILENO) < 0) {
      close(saved_);
      saved_ = -1;
    }
    close(null_fd);
  }
  ~QuietStdout() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    dup2(saved_, STDOUT_FILENO);
    close(saved_);
  }
  QuietStdout(const QuietStdout&) = delete;
  QuietStdout& operator=(const QuietStdout&) = delete;

 private:
  int saved_ = -1;
};

// The last non-empty line of a log, for short messages.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

void InitLocked(Global& g, const EalRequest& request) {
  FILE* log = LogCapture::Stream();
  if (log != nullptr) rte_openlog_stream(log);
  uint64_t mark = LogCapture::Mark();

  cpu_set_t before;
  CPU_ZERO(&before);
  bool have_before = sched_getaffinity(0, sizeof(before), &before) == 0;

  // rte_eal_init keeps pointers into argv (and rewrites one entry), so the
  // strings live for the rest of the process.
  static std::vector<std::string>* kept = new std::vector<std::string>();
  *kept = request.args;
  std::vector<char*> argv;
  for (std::string& s : *kept) argv.push_back(s.data());
  argv.push_back(nullptr);

  int ret;
  int err;
  {
    demi::NetnsScope scope(request.netns);
    QuietStdout quiet;
    rte_errno = 0;
    ret = rte_eal_init(static_cast<int>(kept->size()), argv.data());
    err = rte_errno;
  }
  if (ret < 0) {
    std::string log_text = LogCapture::Since(mark);
    std::string message =
        "rte_eal_init failed: " + ErrorText(err) + " (EAL arguments: " + Join(request.args) + ")";
    if (!g.last_failure.empty()) {
      // DPDK 22.11 keeps state from a failed rte_eal_init (it refuses a second
      // -l, or the whole call once probing started), so a retry can fail for
      // that reason alone.
      message +=
          ". An earlier rte_eal_init in this process failed (" + g.last_failure +
          "), and DPDK cannot always start its EAL again in the same process after that: fix the "
          "arguments and start a new process";
    } else if (err == EALREADY) {
      message += ". Something else in this process already started DPDK's EAL";
    }
    if (g.last_failure.empty())
      g.last_failure = ErrorText(err) + (log_text.empty() ? "" : ": " + LastLine(log_text));
    throw CatnipError(err == 0 ? EIO : err, "rte_eal_init", message, log_text);
  }
  if (request.restore_affinity && have_before) {
    pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
  }
  g.state = State::kUp;
  g.args = request.args;
  g.refs = 1;
}

void JoinLocked(Global& g, const EalRequest& request) {
  if (NonVdevArgs(request.args) != NonVdevArgs(g.args)) {
    throw CatnipError(
        EINVAL, "rte_eal_init",
        "DPDK's EAL is already running in this process with arguments [" + Join(g.args) +
            "]; another catnip instance shares it and may only add --vdev devices, but asked for "
            "[" +
            Join(request.args) + "]. Give every instance the same dpdk.eal_init apart from --vdev");
  }
  for (const std::string& devargs : VdevArgs(request.args)) {
    uint16_t port;
    std::string name = DeviceName(devargs);
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) continue;
    uint64_t mark = LogCapture::Mark();
    int ret = 0;
    RunOnControlThread([&] {
      demi::NetnsScope scope(request.netns);
      ret = rte_dev_probe(devargs.c_str());
    });
    if (ret < 0 && ret != -EEXIST) {
      throw CatnipError(-ret, "rte_dev_probe",
                        "cannot add device " + devargs + " to the running EAL: " + ErrorText(-ret),
                        LogCapture::Since(mark));
    }
  }
  g.refs++;
}

void CloseAllPortsLocked() {
  RunOnControlThread([] {
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port) {
      rte_eth_dev_stop(port);
      rte_eth_dev_close(port);
    }
  });
}

// rte_eal_cleanup (22.11) unmaps DPDK's memory while the interrupt thread
// still runs. Drivers leave interrupt sources whose handles live in that
// memory (memif unregisters its control channels lazily, on the interrupt
// thread), and the thread walks them whenever it rebuilds its epoll set: if
// that happens during the unmap, it faults. QuiesceControlThread lets the
// thread finish that pending work first.
void CleanupLocked(Global& g) {
  CloseAllPortsLocked();
  QuiesceControlThread();
  if (g.memif_used) {
    g.cleanup_skipped =
        "a net_memif port was used: DPDK 22.11's memif driver leaves interrupt sources behind "
        "whose memory "
        "rte_eal_cleanup unmaps under the interrupt thread, which then faults; ports were closed, "
        "memory is "
        "released when the process exits";
  } else {
    rte_eal_cleanup();
  }
  g.state = State::kCleaned;
}

}  // namespace

std::string ErrorText(int err) {
  if (err >= 1000) return rte_strerror(err);
  return demi::ErrnoText(err);
}

void EalAcquire(const EalRequest& request) {
  ValidateEalArgs(request.args);
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  switch (g.state) {
    case State::kCleaned:
      throw CatnipError(
          EALREADY, "rte_eal_init",
          "DPDK's EAL was shut down in this process when the last catnip instance closed, and "
          "rte_eal_init can run only once per process. Create the next instance before shutting "
          "down the last one (or hold the EAL with retainEal()), or start a new process");
    case State::kUp:
      JoinLocked(g, request);
      return;
    case State::kDown:
      InitLocked(g, request);
      return;
  }
}

void EalRetain() {
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  if (g.state != State::kUp) {
    throw CatnipError(EINVAL, "retainEal",
                      "DPDK's EAL is not running in this process; open a catnip device first");
  }
  g.refs++;
}

void EalRelease(bool cleanup_when_idle) {
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  if (g.state != State::kUp || g.refs <= 0) return;
  if (--g.refs > 0 || !cleanup_when_idle) return;
  CleanupLocked(g);
}

void EalCleanupIfIdle() {
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  if (g.state != State::kUp || g.refs > 0) return;
  CleanupLocked(g);
}

EalStatus EalGetStatus() {
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  EalStatus s;
  s.state = g.state == State::kUp ? "up" : g.state == State::kDown ? "down" : "cleaned";
  s.refs = g.refs;
  s.args = g.args;
  s.last_failure = g.last_failure;
  s.cleanup_skipped = g.cleanup_skipped;
  return s;
}

void EalNoteMemif() {
  Global& g = G();
  std::lock_guard<std::mutex> lock(g.mu);
  g.memif_used = true;
}

std::string DpdkVersion() { return rte_version(); }

}  // namespace catnip
