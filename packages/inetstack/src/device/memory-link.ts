import { formatMac, macEquals, parseMac } from '../util/addr.js';
import { FrameQueue } from '../util/frame-queue.js';
import { BufferPool } from './buffer-pool.js';
import { CheckedDevice, ETH_OVERHEAD_BYTES } from './checked-device.js';
import type { DeviceOffloads } from './device.js';
import { segmentTcpFrame } from './tso.js';

export interface MemoryLinkOptions {
  /** IP MTU of every device on the link (default 1500). */
  mtu?: number;
  /** What the devices claim to offload (default none: the stack computes and verifies checksums). */
  offloads?: Partial<DeviceOffloads>;
  /** Frames a device's receive queue holds before further frames are dropped (default 8192). */
  queueLimit?: number;
  /** Frames one `receive` call hands over at most (default 256). */
  batch?: number;
  /**
   * With `offloads.tso`: hand segmentation-offload frames to the receiver whole
   * (as a veth hands a GSO packet to its peer, which then sees frames above the
   * MTU) instead of cutting them into MTU-sized frames (default false).
   */
  deliverLarge?: boolean;
}

/**
 * An Ethernet segment in memory: a switch that delivers each frame to the device
 * owning the destination MAC, or to every other device for broadcast, multicast
 * and unknown destinations. Delivery happens at `send`, so two stacks in one
 * process exchange frames with no I/O at all.
 */
export class MemoryLink {
  readonly mtu: number;
  readonly offloads: DeviceOffloads;
  readonly queueLimit: number;
  readonly batch: number;
  readonly deliverLarge: boolean;
  readonly pool = new BufferPool();
  readonly #devices: MemoryDevice[] = [];
  #nextMac = 1;
  /** Frames dropped because a receive queue was full. */
  dropped = 0;

  constructor(options: MemoryLinkOptions = {}) {
    this.mtu = options.mtu ?? 1500;
    this.offloads = {
      rxChecksum: options.offloads?.rxChecksum ?? false,
      txChecksum: options.offloads?.txChecksum ?? false,
      tso: options.offloads?.tso ?? 0,
    };
    this.deliverLarge = options.deliverLarge ?? false;
    this.queueLimit = options.queueLimit ?? 8192;
    this.batch = options.batch ?? 256;
  }

  /** Two devices on a fresh link. */
  static pair(options: MemoryLinkOptions = {}): [MemoryDevice, MemoryDevice] {
    const link = new MemoryLink(options);
    return [link.attach(), link.attach()];
  }

  /** A new device on this link; its MAC is `mac` or 02:00:00:00:xx:xx (locally administered). */
  attach(mac?: Uint8Array | string): MemoryDevice {
    let address: Uint8Array;
    if (mac === undefined) {
      const n = this.#nextMac++;
      address = new Uint8Array([0x02, 0, 0, 0, (n >>> 8) & 0xff, n & 0xff]);
    } else if (typeof mac === 'string') {
      const parsed = parseMac(mac);
      if (parsed === undefined) throw new TypeError(`not a MAC address: ${mac}`);
      address = parsed;
    } else {
      address = Uint8Array.from(mac.subarray(0, 6));
    }
    if (this.#devices.some((d) => macEquals(d.mac, 0, address)))
      throw new Error(`MAC ${formatMac(address)} is already on this link`);
    const device = new MemoryDevice(this, address);
    this.#devices.push(device);
    return device;
  }

  /** Frames waiting in any receive queue. */
  get inFlight(): number {
    let n = 0;
    for (const d of this.#devices) n += d.queued;
    return n;
  }

  /** @internal Called by a device's send. */
  deliver(from: MemoryDevice, frame: Uint8Array): void {
    if ((frame[0]! & 1) === 0) {
      for (const d of this.#devices) {
        if (d !== from && macEquals(frame, 0, d.mac)) {
          if (!d.enqueue(this.pool.copy(frame))) this.dropped++;
          return;
        }
      }
    }
    for (const d of this.#devices) {
      if (d !== from && !d.enqueue(this.pool.copy(frame))) this.dropped++;
    }
  }

  /** @internal */
  detach(device: MemoryDevice): void {
    const i = this.#devices.indexOf(device);
    if (i >= 0) this.#devices.splice(i, 1);
  }
}

/** One port of a MemoryLink. */
export class MemoryDevice extends CheckedDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly offloads: DeviceOffloads;
  protected readonly deviceName: string;
  readonly #link: MemoryLink;
  readonly #rx: FrameQueue<Uint8Array>;
  #onReadable: (() => void) | undefined;
  #wakeScheduled = false;
  /** Frames sent and received, for tests and benchmarks. */
  sent = 0;
  received = 0;

  constructor(link: MemoryLink, mac: Uint8Array) {
    super();
    this.deviceName = `memory device ${formatMac(mac)}`;
    this.#link = link;
    this.mac = mac;
    this.mtu = link.mtu;
    this.offloads = { ...link.offloads };
    this.#rx = new FrameQueue(link.queueLimit);
  }

  get queued(): number {
    return this.#rx.size;
  }

  protected receiveFrames(onFrame: (frame: Uint8Array) => void): number {
    let n = 0;
    const batch = this.#link.batch;
    while (n < batch) {
      const frame = this.#rx.shift();
      if (frame === undefined) break;
      n++;
      this.received++;
      try {
        onFrame(frame);
      } finally {
        this.#link.pool.give(frame);
      }
    }
    return n;
  }

  protected queueFrame(frame: Uint8Array): boolean {
    const link = this.#link;
    if (frame.byteLength > this.mtu + ETH_OVERHEAD_BYTES && !link.deliverLarge) {
      // Segmentation offload, done here as a NIC would.
      this.sent += segmentTcpFrame(frame, this.mtu, (part) => link.deliver(this, part));
      return true;
    }
    this.sent++;
    link.deliver(this, frame);
    return true;
  }

  protected flushFrames(): void {}

  setWakeup(onReadable: (() => void) | undefined): void {
    if (!this.wakeupAllowed(onReadable)) return;
    this.#onReadable = onReadable;
    if (onReadable !== undefined && this.#rx.size > 0) this.#scheduleWake();
  }

  protected closeDevice(): void {
    this.#onReadable = undefined;
    this.#rx.clear();
    this.#link.detach(this);
  }

  /** @internal */
  enqueue(frame: Uint8Array): boolean {
    if (this.closed || !this.#rx.push(frame)) return false;
    if (this.#onReadable !== undefined) this.#scheduleWake();
    return true;
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      if (this.#rx.size > 0) this.#onReadable?.();
    });
  }
}
