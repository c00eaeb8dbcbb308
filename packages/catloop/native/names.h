// Addresses as catmem segment names: claiming an address:port (bind, and each
// client's ephemeral port), looking a listener up, and telling live names from
// ones a crashed process left behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocol.h"
#include "segment.h"

namespace catloop {

// Dotted quad <-> network-order u32. ParseIp throws SysError EINVAL on bad input.
uint32_t ParseIp(const std::string& ip);
std::string FormatIp(uint32_t ip_be);

// Creates the segment for ip:port with the given ring size, taking over one a
// dead process left. port 0 picks a free port from [first_ephemeral, 65535].
// EADDRINUSE when the address (or, for a listener, the same port on 0.0.0.0 or
// any address when ip is 0.0.0.0) is in use; EADDRNOTAVAIL when every
// ephemeral port is.
std::shared_ptr<catmem::Mapping> ClaimAddress(const std::string& ip, uint32_t port,
                                              uint64_t ring_size, uint32_t first_ephemeral,
                                              bool check_wildcard, uint32_t* port_out);

// Maps an existing segment without joining it as either end (a client writing
// into a listener's control ring). nullptr when there is no valid, ready
// segment of that name; throws SysError (EMFILE, ENFILE) when no descriptor is
// left to look.
std::shared_ptr<catmem::Mapping> MapExisting(const std::string& name);

// EMFILE or ENFILE: this process (or the system) has no descriptor left.
bool OutOfDescriptors(int err);

// Whether a segment of that name exists and one of its ends is alive.
bool NameLive(const std::string& name);

// Removes the segment if it exists and none of its ends is alive.
void RemoveIfStale(const std::string& name);

// Reads a connection segment's block without joining it: true when it is a
// connection still waiting with this nonce.
// Throws as MapExisting does.
bool ConnectionWaiting(const std::string& name, uint64_t nonce);

}  // namespace catloop
