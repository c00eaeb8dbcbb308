// DPDK's Environment Abstraction Layer, shared by every catnip instance in the
// process. rte_eal_init can run only once per process, so the EAL is started by
// the first instance, joined by later ones (which may add --vdev devices, hot
// plugged), and cleaned up (every port closed, rte_eal_cleanup) when the last
// reference goes. After that it cannot start again in this process.
#pragma once

#include <string>
#include <vector>

namespace catnip {

struct EalRequest {
  // argv for rte_eal_init, argv[0] first; validated before use.
  std::vector<std::string> args;
  // Network namespace to probe devices in ("" = the caller's).
  std::string netns;
  // Put the calling thread back on the CPUs it had before rte_eal_init pinned
  // it to the main lcore (for the default arguments, which pick -l 0 only to
  // have a main lcore, not to pin Node's main thread).
  bool restore_affinity = false;
};

struct EalStatus {
  std::string state;  // "down", "up", "cleaned"
  int refs = 0;
  std::vector<std::string> args;
  std::string last_failure;
  // Why rte_eal_cleanup was not called when the EAL shut down, if it was not.
  std::string cleanup_skipped;
};

// Starts or joins the EAL and takes a reference. Throws CatnipError with
// DPDK's own message and log lines on failure.
void EalAcquire(const EalRequest& request);
// Takes another reference on a running EAL (throws if it is not running).
void EalRetain();
// Drops a reference; the last one closes every port and calls rte_eal_cleanup,
// unless `cleanup_when_idle` is false (a port that failed to open leaves the
// EAL running, so a corrected retry in the same process can still join it).
void EalRelease(bool cleanup_when_idle = true);
// Cleans up an EAL nobody holds (at exit); no-op otherwise.
void EalCleanupIfIdle();
EalStatus EalGetStatus();
// Records that a memif port was opened: rte_eal_cleanup is then skipped at
// shutdown (see eal.cc) and ports are only closed.
void EalNoteMemif();
std::string DpdkVersion();

}  // namespace catnip
