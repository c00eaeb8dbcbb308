import { CheckedDevice, copyParts, type DeviceOffloads } from '@demi/inetstack';
import { loadAddon, type NativeDevice, toDemiError } from './native.js';
import { type RawDeviceOptions, validateOptions } from './options.js';

/** Counters of one device, for tests and tuning. */
export interface RawDeviceStats {
  rxFrames: number;
  rxBytes: number;
  /** Frames the device threw away: truncated, oversized, VLAN-tagged, bad checksum. */
  rxDropped: number;
  /** Frames that arrived with a partial checksum (a local sender's offload) and were completed. */
  rxPartialChecksums: number;
  txFrames: number;
  txBytes: number;
  /** Frames the device queue refused because it stayed full (bad sizes throw EMSGSIZE instead). */
  txDropped: number;
  /** Frames sent whole for the kernel to segment (segmentation offload). */
  txOffloadFrames: number;
  /** Frames the stack handed over in parts (sendParts), copied straight into a transmit slot. */
  txFramesInParts: number;
  /** Frames the kernel dropped because the receive ring was full. */
  kernelDrops: number;
  lastTxError: string | null;
}

/**
 * A raw Ethernet device on a Linux interface: AF_PACKET (a TPACKET_V2 receive
 * ring, sendmmsg) or AF_XDP. Frames cross to native code a batch at a time
 * through two arenas of fixed-size slots; received frames are views into the
 * receive arena, valid only during the `receive` callback.
 */
export class RawDevice extends CheckedDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly offloads: DeviceOffloads;
  readonly interfaceName: string;
  readonly interfaceIndex: number;
  /** 'af_packet', 'af_xdp (skb)' or 'af_xdp (native)'. */
  readonly mode: string;

  readonly #native: NativeDevice;
  readonly #rxData: Uint8Array;
  readonly #rxLens: Uint32Array;
  readonly #txData: Uint8Array;
  readonly #txLens: Uint32Array;
  readonly #slots: number;
  readonly #slotSize: number;
  readonly #txSlotSize: number;
  readonly #maxFrame: number;
  #txCount = 0;
  /** Frames refused because the kernel's queue stayed full (counted as drops). */
  #txRefused = 0;
  #txInParts = 0;

  constructor(options: RawDeviceOptions) {
    super();
    validateOptions(options);
    const { RawDevice: Native } = loadAddon();
    const checksums = options.checksumOffload ?? true;
    try {
      this.#native = new Native({
        interfaceName: options.interfaceName,
        interfaceIndex: options.interfaceIndex,
        mode: options.mode,
        xdpMode: options.xdpMode,
        queue: options.queue,
        netns: options.netns,
        batchSize: options.batchSize,
        ringFrames: options.ringFrames,
        promiscuous: options.promiscuous,
        verifyChecksums: checksums,
        fillChecksums: checksums,
        segmentationOffload: options.segmentationOffload ?? true,
        largeReceive: options.largeReceive ?? false,
      });
    } catch (err) {
      throw toDemiError(err);
    }
    const info = this.#native.info();
    this.mac = new Uint8Array(info.mac);
    this.mtu = info.mtu;
    this.interfaceName = info.interfaceName;
    this.interfaceIndex = info.interfaceIndex;
    this.mode = info.mode;
    this.offloads = { rxChecksum: checksums, txChecksum: checksums, tso: info.tso };
    this.#slots = info.slots;
    this.#slotSize = info.slotSize;
    this.#txSlotSize = info.txSlotSize;
    this.#rxData = new Uint8Array(info.rxData);
    this.#rxLens = new Uint32Array(info.rxLens);
    this.#txData = new Uint8Array(info.txData);
    this.#txLens = new Uint32Array(info.txLens);
    this.#maxFrame = Math.min(Math.max(info.mtu + 18, info.tso + 14), info.txSlotSize);
  }

  protected get deviceName(): string {
    return `catpowder device ${this.interfaceName}`;
  }

  protected override maxFrameBytes(): number {
    return this.#maxFrame;
  }

  protected receiveFrames(onFrame: (frame: Uint8Array) => void): number {
    let n: number;
    try {
      n = this.#native.receive();
    } catch (err) {
      throw toDemiError(err);
    }
    const data = this.#rxData;
    const lens = this.#rxLens;
    const slot = this.#slotSize;
    for (let i = 0; i < n; i++) {
      const at = i * slot;
      onFrame(data.subarray(at, at + lens[i]!));
    }
    return n;
  }

  protected queueFrame(frame: Uint8Array): boolean {
    const i = this.#freeSlot();
    if (i < 0) return false;
    this.#txData.set(frame, i * this.#txSlotSize);
    this.#txLens[i] = frame.byteLength;
    return true;
  }

  /** The parts go straight into the transmit slot: no assembled copy of the frame. */
  protected override queueFrameParts(
    head: Uint8Array,
    body: Uint8Array,
    rest: Uint8Array | undefined,
  ): boolean {
    const i = this.#freeSlot();
    if (i < 0) return false;
    this.#txLens[i] = copyParts(this.#txData, i * this.#txSlotSize, head, body, rest);
    this.#txInParts++;
    return true;
  }

  /** Takes the next transmit slot, flushing once when all are queued; -1 when the kernel's queue stays full. */
  #freeSlot(): number {
    if (this.#txCount === this.#slots) {
      this.flushFrames();
      // The kernel's queue is still full: refused, as a full NIC queue drops.
      if (this.#txCount === this.#slots) {
        this.#txRefused++;
        return -1;
      }
    }
    return this.#txCount++;
  }

  protected flushFrames(): void {
    const n = this.#txCount;
    if (n === 0) return;
    this.#txCount = 0;
    let done: number;
    try {
      done = this.#native.transmit(n);
    } catch (err) {
      throw toDemiError(err);
    }
    if (done >= n) return;
    // The kernel's queue is full: transmit never waits for room (it runs on
    // the event loop), so the frames it did not take stay queued, in order,
    // for the next flush.
    const slot = this.#txSlotSize;
    this.#txData.copyWithin(0, done * slot, n * slot);
    this.#txLens.copyWithin(0, done, n);
    this.#txCount = n - done;
  }

  setWakeup(onReadable: (() => void) | undefined): void {
    if (!this.wakeupAllowed(onReadable)) return;
    try {
      this.#native.setWakeup(onReadable);
    } catch (err) {
      throw toDemiError(err);
    }
  }

  stats(): RawDeviceStats {
    this.live('stats');
    const s = this.#native.stats();
    return { ...s, txDropped: s.txDropped + this.#txRefused, txFramesInParts: this.#txInParts };
  }

  protected closeDevice(): void {
    this.#txCount = 0;
    this.#native.close();
  }
}
