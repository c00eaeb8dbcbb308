import { ManualClock } from '../device/clock.js';
import type { FrameDevice } from '../device/device.js';
import { FaultDevice, type FaultOptions } from '../device/fault-device.js';
import { type MemoryDevice, MemoryLink, type MemoryLinkOptions } from '../device/memory-link.js';
import { PcapDevice } from '../device/pcap.js';
import type { StackConfigInput } from '../stack/config.js';
import { InetStack } from '../stack/inet-stack.js';
import { SeededRandom } from '../util/random.js';

export interface SimNodeOptions {
  ipv4: string;
  mac?: string;
  /** Faults on this node's outgoing frames (seeded from the simulator's seed unless given). */
  faults?: FaultOptions;
  /** Write this node's frames to a pcap file (or sink) for debugging. */
  pcap?: string | ((chunk: Uint8Array) => void);
  config?: Omit<StackConfigInput, 'ipv4' | 'mac'>;
  /** Wraps the node's device (outermost), e.g. to hide methods a device may leave out. */
  wrap?: (device: FrameDevice) => FrameDevice;
}

export interface SimNode {
  stack: InetStack;
  device: FrameDevice;
  memory: MemoryDevice;
  faults: FaultDevice | undefined;
}

/**
 * N stacks on one in-memory Ethernet segment in virtual time: `run*` polls every
 * stack until the network is quiet, then jumps the clock to the next timer.
 * Same seed, same run, frame for frame.
 */
export class Simulator {
  readonly clock = new ManualClock(0);
  readonly link: MemoryLink;
  readonly nodes: SimNode[] = [];
  readonly seed: number;
  readonly #random: SeededRandom;
  /** Exceptions stacks caught while processing (a test should expect none). */
  readonly errors: unknown[] = [];

  constructor(options: { seed?: number; link?: MemoryLinkOptions } = {}) {
    this.seed = options.seed ?? 1;
    this.#random = new SeededRandom(this.seed);
    this.link = new MemoryLink(options.link);
  }

  add(options: SimNodeOptions): InetStack {
    const memory = this.link.attach(options.mac);
    let device: FrameDevice = memory;
    let faults: FaultDevice | undefined;
    if (options.faults !== undefined) {
      faults = new FaultDevice(device, {
        seed: this.#random.nextU32(),
        direction: 'tx',
        ...options.faults,
        clock: this.clock,
      });
      device = faults;
    }
    if (options.pcap !== undefined)
      device = new PcapDevice(device, options.pcap, { clock: this.clock });
    if (options.wrap !== undefined) device = options.wrap(device);
    const stack = new InetStack({
      device,
      clock: this.clock,
      random: new SeededRandom(this.#random.nextU32()),
      config: {
        ...options.config,
        ipv4: options.ipv4,
        ...(options.mac === undefined ? {} : { mac: options.mac }),
      },
      onInternalError: (err) => this.errors.push(err),
    });
    this.nodes.push({ stack, device, memory, faults });
    return stack;
  }

  get now(): number {
    return this.clock.now();
  }

  /** Polls every stack until no frame moves; returns the work done. */
  settle(maxRounds = 1_000_000): number {
    let total = 0;
    for (let round = 0; round < maxRounds; round++) {
      let work = 0;
      for (const n of this.nodes) if (!n.stack.closed) work += n.stack.poll();
      total += work;
      if (work === 0 && this.#queued() === 0) return total;
    }
    throw new Error(
      `network did not settle within ${maxRounds} rounds at t=${this.now} (seed ${this.seed})`,
    );
  }

  /** Frames waiting for the simulated stacks (other ports on the link are the test's business). */
  #queued(): number {
    let n = 0;
    for (const node of this.nodes) if (!node.stack.closed) n += node.memory.queued;
    return n;
  }

  /** The next instant anything is scheduled (a stack timer or a held-back frame). */
  nextEventAt(): number | undefined {
    let at = Number.POSITIVE_INFINITY;
    for (const n of this.nodes) {
      if (n.stack.closed) continue;
      const t = n.stack.nextTimerAt();
      if (t !== undefined && t < at) at = t;
      const f = n.faults?.nextReleaseAt();
      if (f !== undefined && f < at) at = f;
    }
    return at === Number.POSITIVE_INFINITY ? undefined : at;
  }

  /**
   * Runs until `done()` holds, jumping virtual time from event to event. Returns
   * false if it does not hold within `maxMs` of virtual time or nothing is left to happen.
   */
  runUntil(done: () => boolean, maxMs = 3_600_000): boolean {
    const deadline = this.now + maxMs;
    for (;;) {
      this.settle();
      if (done()) return true;
      // `done` may have written data: let it go out before moving time.
      for (const n of this.nodes) n.stack.flush();
      if (this.#queued() > 0) continue;
      const next = this.nextEventAt();
      if (next === undefined || next > deadline) return false;
      this.clock.set(Math.max(next, this.now));
    }
  }

  /** Runs every event up to `ms` from now. */
  runFor(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.settle();
      const next = this.nextEventAt();
      if (next === undefined || next > end) break;
      this.clock.set(Math.max(next, this.now));
    }
    this.clock.set(Math.max(end, this.now));
    this.settle();
  }
}
