// Runs port set-up and tear-down on DPDK's interrupt thread, the thread that
// also runs drivers' control-plane handlers (memif's connection messages,
// link events). Done from Node's thread instead, closing one end of a memif
// link races the handler of the other end's disconnect message, and crashes.
// The caller blocks until the work is done; exceptions cross back to it.
#pragma once

#include <functional>

namespace catnip {

void RunOnControlThread(const std::function<void()>& work);

}  // namespace catnip
