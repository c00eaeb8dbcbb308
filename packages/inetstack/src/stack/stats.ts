/** Counters for what the stack did and dropped, for tests, tools and debugging. */
export function newStackStats() {
  return {
    rxFrames: 0,
    rxMalformed: 0,
    rxBadChecksum: 0,
    rxNotForUs: 0,
    rxUnknownProtocol: 0,
    txFrames: 0,
    txDropped: 0,
    // Frames handed to the device in parts (headers, then the payload where it lies): no assembly copy.
    txFramesInParts: 0,
    ipIn: 0,
    ipOut: 0,
    fragmentsSent: 0,
    reassembled: 0,
    reassemblyDrops: 0,
    reassemblyTimeouts: 0,
    /** Datagrams in progress dropped (oldest first) to make room for newer fragments. */
    reassemblyEvictions: 0,
    /** Datagrams dropped whole because two fragments overlapped with different bytes. */
    reassemblyOverlaps: 0,
    arpIn: 0,
    arpOut: 0,
    arpFailures: 0,
    arpQueueDrops: 0,
    /** Packets from a source no host may have (0/8, 127/8, multicast, 240/4). */
    rxMartian: 0,
    /** Packets not sent: no route to the destination (off-subnet with no gateway, or martian). */
    ipNoRoute: 0,
    /** Replies sent to the MAC of the frame they answer, the sender not being in the ARP cache. */
    txToFrameSource: 0,
    icmpIn: 0,
    icmpOut: 0,
    /** ICMP errors not sent: the global or the per-destination rate limit. */
    icmpRateLimited: 0,
    udpIn: 0,
    udpOut: 0,
    udpNoPort: 0,
    udpQueueDrops: 0,
    tcpIn: 0,
    tcpOut: 0,
    /** Segments larger than one MTU handed to a device with segmentation offload. */
    tcpOffloadSegments: 0,
    /** Received segments larger than the MSS (a device or peer that coalesces, GRO). */
    tcpLargeSegmentsIn: 0,
    tcpRetransmits: 0,
    tcpFastRetransmits: 0,
    /** Retransmissions found lost by SACK during recovery and sent again. */
    tcpLostRetransmits: 0,
    /** Retransmission timer expiries (each one a restart from the oldest unacknowledged byte). */
    tcpTimeouts: 0,
    /** Connections that failed with ETIMEDOUT (retransmissions, probes or keepalives unanswered). */
    tcpTimedOut: 0,
    tcpTailLossProbes: 0,
    tcpRstOut: 0,
    tcpDropped: 0,
    tcpOooSegments: 0,
    tcpChallengeAcks: 0,
    /** SYN-ACKs carrying a SYN cookie (the SYN queue was full), and ACKs that returned a valid one. */
    tcpSynCookiesSent: 0,
    tcpSynCookiesValid: 0,
    /** SYNs dropped because the SYN queue was full and cookies are off. */
    tcpSynQueueDrops: 0,
    /** Exceptions caught while processing one frame or timer (a bug in the stack if non-zero). */
    internalErrors: 0,
  };
}

export type StackStats = ReturnType<typeof newStackStats>;
