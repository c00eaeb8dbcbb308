import { DemiError } from '@demi/core';
import { CheckedDevice, copyParts, type DeviceOffloads, ETH_OVERHEAD_BYTES } from '@demi/inetstack';
import { toDemiError } from './errors.js';
import { loadDpdk, type NativePort, type NativePortInfo, type NativePortStats } from './native.js';
import { type CatnipDeviceOptions, ealArgv, validateOptions } from './options.js';

/** Devices still open, closed at process exit (process.exit skips Node's own environment cleanup). */
const openDevices = new Set<CatnipDevice>();
let exitHooked = false;

function closeAtExit(device: CatnipDevice): void {
  openDevices.add(device);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const d of [...openDevices]) d.close();
  });
}

function firstVdevName(args: readonly string[]): string | undefined {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    const devargs = a === '--vdev' ? args[i + 1] : a.startsWith('--vdev=') ? a.slice(7) : undefined;
    if (devargs !== undefined) return devargs.split(',')[0];
  }
  return undefined;
}

/** What the port is and how its checksums are done. */
export interface CatnipPortInfo {
  portId: number;
  /** The DPDK driver, e.g. 'net_af_packet', 'net_memif', 'net_ixgbe'. */
  driver: string;
  /** The device name, e.g. 'net_memif0' or a PCI address. */
  device: string;
  /** Which checksums the driver itself offers (the rest are done in software). */
  hardwareChecksum: NativePortInfo['hardwareChecksum'];
  /** Checksums are neither computed nor verified: a net_memif link both ends declared trusted. */
  trustedLink: boolean;
}

export type CatnipDeviceStats = NativePortStats & {
  /** Frames the stack handed over in parts (sendParts), copied straight into a transmit slot. */
  txFramesInParts: number;
};

/**
 * A DPDK ethdev port as a FrameDevice for @demi/inetstack. Frames cross
 * between DPDK's mbufs and one ArrayBuffer shared with native code, one native
 * call per burst in each direction. DPDK is polled: there is no wake-up source,
 * so async waits poll in short slices and waitSync spins.
 */
export class CatnipDevice extends CheckedDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly offloads: DeviceOffloads;
  readonly port: CatnipPortInfo;

  readonly #native: NativePort;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #rxLens: number;
  readonly #txLens: number;
  readonly #rxSlots: number;
  readonly #txSlots: number;
  readonly #slotSize: number;
  readonly #txSlotCount: number;
  readonly #txQueueLimit: number;
  #txCount = 0;
  /** Frames native code still holds because the driver's queue was full. */
  #queued = 0;
  #txInParts = 0;

  /**
   * Starts DPDK's EAL (or joins it, if another instance in this process did)
   * and configures and starts the port. Throws DemiError with DPDK's own words.
   */
  constructor(options: CatnipDeviceOptions = {}) {
    super();
    validateOptions(options);
    const addon = loadDpdk();
    const { args, defaults } = ealArgv(options);
    try {
      this.#native = new addon.Port({
        ealArgs: args,
        restoreAffinity: defaults,
        netns: options.netns,
        portId: options.portId,
        // Without a port number, the port of the first --vdev: port 0 in a fresh
        // EAL, and the right one when joining an EAL another instance started.
        portName: options.portId === undefined ? firstVdevName(args) : undefined,
        rxBurst: options.rxBurst,
        txSlots: options.txSlots,
        rxDesc: options.rxDesc,
        txDesc: options.txDesc,
        mbufs: options.mbufs,
        mtu: options.mtu,
        softwareChecksum: options.softwareChecksum,
        trustedLink: options.trustedLink,
        promiscuous: options.promiscuous,
      });
    } catch (err) {
      throw toDemiError(err);
    }
    const info = this.#native.info();
    const { layout } = info;
    this.mac = Uint8Array.from(info.mac);
    this.mtu = info.mtu;
    this.offloads = Object.freeze({
      rxChecksum: info.rxChecksum,
      txChecksum: info.txChecksum,
      tso: 0,
    });
    this.port = Object.freeze({
      portId: info.portId,
      driver: info.driver,
      device: info.device,
      hardwareChecksum: Object.freeze(info.hardwareChecksum),
      trustedLink: info.trustedLink,
    });
    const arena = this.#native.arena;
    this.#u8 = new Uint8Array(arena);
    this.#u32 = new Uint32Array(arena);
    this.#rxLens = layout.rxLens / 4;
    this.#txLens = layout.txLens / 4;
    this.#rxSlots = layout.rxSlots;
    this.#txSlots = layout.txSlots;
    this.#slotSize = layout.slotSize;
    this.#txSlotCount = (layout.size - layout.txSlots) / layout.slotSize;
    // Native code queues up to max(2 x slots, 256) refused frames; past that, send says no.
    this.#txQueueLimit = Math.max(2 * this.#txSlotCount, 256) - this.#txSlotCount;
    closeAtExit(this);
  }

  protected get deviceName(): string {
    return `catnip port ${this.port.device}`;
  }

  protected override maxFrameBytes(): number {
    return Math.min(this.mtu + ETH_OVERHEAD_BYTES, this.#slotSize);
  }

  protected receiveFrames(onFrame: (frame: Uint8Array) => void): number {
    const n = this.#native.rx();
    for (let i = 0; i < n; i++) {
      const start = this.#rxSlots + i * this.#slotSize;
      onFrame(this.#u8.subarray(start, start + this.#u32[this.#rxLens + i]!));
    }
    return n;
  }

  protected queueFrame(frame: Uint8Array): boolean {
    if (!this.#roomForOne()) return false;
    this.#u8.set(frame, this.#txSlots + this.#txCount * this.#slotSize);
    this.#u32[this.#txLens + this.#txCount] = frame.byteLength;
    this.#txCount++;
    return true;
  }

  /** The parts go straight into the transmit slot: no assembled copy of the frame. */
  protected override queueFrameParts(
    head: Uint8Array,
    body: Uint8Array,
    rest: Uint8Array | undefined,
  ): boolean {
    if (!this.#roomForOne()) return false;
    const at = this.#txSlots + this.#txCount * this.#slotSize;
    this.#u32[this.#txLens + this.#txCount] = copyParts(this.#u8, at, head, body, rest);
    this.#txCount++;
    this.#txInParts++;
    return true;
  }

  /** Makes room for one more frame (flushing when the slots are full); false when the driver's queue stays full. */
  #roomForOne(): boolean {
    if (this.#txCount === this.#txSlotCount) this.flushFrames();
    if (this.#queued > this.#txQueueLimit) {
      this.flushFrames();
      if (this.#queued > this.#txQueueLimit) return false;
    }
    return true;
  }

  protected flushFrames(): void {
    if (this.#txCount === 0 && this.#queued === 0) return;
    const count = this.#txCount;
    this.#txCount = 0;
    this.#queued = this.#native.tx(count);
  }

  /** Stops and closes the port; the last catnip instance in the process also cleans up the EAL. */
  protected closeDevice(): void {
    openDevices.delete(this);
    this.#native.close();
  }

  /** Frames and bytes moved, and what was dropped where. */
  stats(): CatnipDeviceStats {
    this.live('stats');
    return { ...this.#native.stats(), txFramesInParts: this.#txInParts };
  }

  /** Whether the link is up (a memif link is up once its peer connected). */
  link(): { up: boolean; speedMbps: number } {
    if (this.closed) return { up: false, speedMbps: 0 };
    return this.#native.link();
  }

  /** Resolves when the link is up; rejects with ETIMEDOUT after `timeoutMs`. */
  async waitForLink(timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.link().up) {
      this.live('waitForLink');
      if (performance.now() > deadline) {
        throw new DemiError(
          'ETIMEDOUT',
          `the link of ${this.port.device} did not come up within ${timeoutMs} ms`,
          {
            syscall: 'waitForLink',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
