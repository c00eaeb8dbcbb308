// What catloop adds to catmem's shared-memory layout: a small block in the
// unused tail of a segment's header page, the connection-request record that
// clients write into a listener's control ring, and the reply record a listener
// writes first into each connection's pipe. README.md ("Connection set-up")
// describes the protocol in prose.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "layout.h"

namespace catloop {

// Every address:port in use on the host is one catmem segment named
// "catloop.<a.b.c.d>:<port>": either a listener's control pipe (bound or
// listening socket) or one connection's duplex pipe (named after the client's
// ephemeral port).
constexpr const char* kNamePrefix = "catloop.";

// The block lives here inside the header page; catmem's Header ends well before.
constexpr size_t kBlockOffset = 2048;

// "CATLOOPL" / "CATLOOPC" as little-endian u64.
constexpr uint64_t kListenerMagic = 0x4C504F4F4C544143ull;
constexpr uint64_t kConnectionMagic = 0x43504F4F4C544143ull;
// 2: a request names the client's address and the address it connected to
// (version 1 had one address, the one connected to, and the client's pid).
constexpr uint32_t kProtocolVersion = 2;

// Block.state of a listener's segment.
enum ListenerState : uint32_t { kBound = 0, kListening = 1, kListenerClosed = 2 };
// Block.state of a connection's segment.
enum ConnectionState : uint32_t { kConnecting = 0, kAccepted = 1, kRefused = 2 };

struct alignas(catmem::kLine) Block {
  uint64_t magic;                 // kListenerMagic or kConnectionMagic; 0 while being set up
  uint32_t version;               // kProtocolVersion
  std::atomic<uint32_t> state;    // ListenerState or ConnectionState
  std::atomic<uint32_t> backlog;  // listener: requests its control ring may hold
  uint32_t reserved;
  uint64_t nonce;  // connection: repeated in its request and the reply
};

static_assert(sizeof(catmem::Header) <= kBlockOffset, "catmem's header grew into catloop's block");
static_assert(kBlockOffset + sizeof(Block) <= catmem::kHeaderSize, "block fits the header page");
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "u32 atomics must be lock-free in shared memory");

inline Block* BlockOf(void* header_page) {
  return reinterpret_cast<Block*>(static_cast<uint8_t*>(header_page) + kBlockOffset);
}

// Clients take this byte of the listener's segment (an open-file-description
// lock, released by the kernel if the client dies) around writing a request:
// the control ring is single-producer, so clients go one at a time. catmem
// uses bytes 0-2.
constexpr off_t kLockClients = 3;

// The control ring: each request is one record of kRequestSize payload bytes.
// A listener leaves requests in the ring until accept takes them, so the ring's
// occupancy is the accept queue, and a client refuses itself when it holds
// `backlog` requests already.
constexpr uint64_t kControlRingSize = 32 * 1024;
constexpr uint32_t kMaxBacklog = 1024;

struct Request {
  uint32_t magic;    // kRequestMagic
  uint16_t version;  // kProtocolVersion
  uint16_t port;     // the client's port: its pipe is catloop.<ip>:<port>
  uint32_t ip;       // the client's address (its peer address), network byte order
  uint32_t dest_ip;  // the address it connected to (a wildcard listener's local one)
  uint64_t nonce;    // must match the connection block of the pipe
};
constexpr uint32_t kRequestMagic = 0x51524C43;  // "CLRQ"
constexpr uint64_t kRequestSize = sizeof(Request);
constexpr uint64_t kRequestRecord =
    catmem::kRecordHeader + ((kRequestSize + 7) & ~uint64_t{7});  // as catmem::Align8
static_assert(kRequestSize == 24, "request layout");
static_assert(kControlRingSize >= uint64_t{kMaxBacklog} * kRequestRecord,
              "the control ring holds a full backlog");

// The first record a listener writes into an accepted (or refused) connection.
struct Reply {
  uint32_t magic;   // kReplyMagic
  uint32_t status;  // 0: accepted; else an errno (ECONNREFUSED)
  uint64_t nonce;
};
constexpr uint32_t kReplyMagic = 0x50524C43;  // "CLRP"
static_assert(sizeof(Reply) == 16, "reply layout");

inline std::string PipeName(const std::string& ip, uint32_t port) {
  return std::string(kNamePrefix) + ip + ":" + std::to_string(port);
}

}  // namespace catloop
