/**
 * The boundary between the TCP/IP stack and whatever moves Ethernet frames:
 * an in-memory link in tests, AF_PACKET/AF_XDP (catpowder), DPDK (catnip), or a
 * wrapper that is itself a device (fault injection, pcap). Batches cross it, so
 * a native device pays one native call per burst, not per frame.
 */
export interface FrameDevice {
  /** Our MAC address, 6 bytes. */
  readonly mac: Uint8Array;
  /** The IP MTU (payload of an Ethernet frame), e.g. 1500. */
  readonly mtu: number;
  readonly offloads: DeviceOffloads;

  /**
   * Hands every frame waiting (up to an internal batch size) to `onFrame`. Each
   * frame is a view that is valid only during the call: copy what must outlive it.
   * Returns how many frames were delivered.
   */
  receive(onFrame: (frame: Uint8Array) => void): number;

  /**
   * Queues one complete Ethernet frame (no FCS) for sending; the bytes are copied
   * before this returns. Returns false when the queue is full and the frame was
   * dropped, as a NIC queue would.
   */
  send(frame: Uint8Array): boolean;

  /**
   * Queues one frame given in pieces, `head` then `body` then `rest` (the
   * stack's headers and the payload as it lies in a send buffer), copying each
   * straight into the transmit queue: the stack then never assembles the frame
   * itself. The same rules and result as `send` for the whole frame. Devices
   * without it get the frame assembled and `send`.
   */
  sendParts?(head: Uint8Array, body: Uint8Array, rest?: Uint8Array): boolean;

  /** Sends everything queued: one native call for the whole batch. */
  flush(): void;

  /**
   * Asks to be told when frames may be waiting, so async waits can sleep on
   * libuv instead of polling; `undefined` stops it. Devices without a wake-up
   * source (DPDK) leave this out and are polled.
   */
  setWakeup?(onReadable: (() => void) | undefined): void;

  /** Releases the device; further calls may throw. */
  close(): void;
}

export interface DeviceOffloads {
  /** Received frames' IPv4/TCP/UDP checksums were verified by the device. */
  rxChecksum: boolean;
  /** The device fills in IPv4/TCP/UDP checksums of sent frames. */
  txChecksum: boolean;
  /**
   * TCP segmentation offload: the largest IPv4 datagram, in bytes, the device
   * accepts in one frame and cuts into MTU-sized TCP segments itself (each
   * carrying MTU - IP header - TCP header of payload, the TCP header copied,
   * the sequence number advanced, PSH and FIN on the last part only); 0 when
   * it cannot. Such a device also accepts frames up to `tso` + 14 bytes.
   */
  tso: number;
}

/** Time in milliseconds, passed into the stack so tests can run in virtual time. */
export interface Clock {
  now(): number;
}
