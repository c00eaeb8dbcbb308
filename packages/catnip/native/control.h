// Runs port set-up and tear-down on DPDK's interrupt thread, the thread that
// also runs drivers' control-plane handlers (memif's connection messages,
// link events). Done from Node's thread instead, closing one end of a memif
// link races the handler of the other end's disconnect message, and crashes.
// The caller blocks until the work is done; exceptions cross back to it.
#pragma once

#include <functional>

namespace catnip {

void RunOnControlThread(const std::function<void()>& work);

// Lets the interrupt thread finish what drivers left it after a port closed
// (memif unregisters its control channels lazily, there): a few rounds of an
// empty job. A port set up before that may get a descriptor number whose old
// control handler is still registered, and that handler then waits in recvmsg
// on the new socket, holding the thread (and every later set-up) forever.
void QuiesceControlThread();

}  // namespace catnip
