import { ArpLayer } from '../arp/arp-layer.js';
import { systemClock } from '../device/clock.js';
import type { Clock, FrameDevice } from '../device/device.js';
import { IcmpLayer } from '../icmp/icmp-layer.js';
import { Ipv4Layer } from '../ipv4/ipv4-layer.js';
import { LinkLayer } from '../link/link-layer.js';
import { TcpLayer } from '../tcp/tcp-layer.js';
import { UdpLayer } from '../udp/udp-layer.js';
import { CryptoRandom, type RandomSource } from '../util/random.js';
import { TimerHeap } from '../util/timers.js';
import { resolveStackConfig, type StackConfig, type StackConfigInput } from './config.js';
import { newStackStats } from './stats.js';

export interface InetStackOptions {
  device: FrameDevice;
  config: StackConfigInput;
  /** Time source (default wall clock). Protocol code reads time only from `stack.now`. */
  clock?: Clock;
  /** Randomness for ISNs, ports and IP identifiers (default crypto-random). */
  random?: RandomSource;
  /** Called with any exception caught while processing a frame or timer (they are counted and swallowed). */
  onInternalError?: (err: unknown) => void;
}

/** Frames processed per poll at most, so one busy poll cannot starve timers and the application. */
const MAX_RX_BATCHES = 8;

/**
 * The protocol engine: Ethernet, ARP, IPv4, ICMP, UDP and TCP over one
 * FrameDevice. It never reads the clock inside protocol code: `poll()` samples
 * it once into `now`, processes received frames, fires due timers and flushes
 * the device. Everything else (sockets, tokens) is layered on top.
 */
export class InetStack {
  readonly config: StackConfig;
  readonly device: FrameDevice;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly timers = new TimerHeap();
  readonly stats = newStackStats();
  readonly link: LinkLayer;
  readonly arp: ArpLayer;
  readonly ipv4: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  /** The time of the current poll (ms); protocol code uses only this. */
  now: number;
  #closed = false;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #onFrame: (frame: Uint8Array) => void;

  constructor(options: InetStackOptions) {
    this.device = options.device;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? new CryptoRandom();
    this.config = resolveStackConfig(options.config, options.device);
    this.#onError = options.onInternalError;
    this.now = this.clock.now();
    this.link = new LinkLayer(this);
    this.arp = new ArpLayer(this);
    this.ipv4 = new Ipv4Layer(this);
    this.icmp = new IcmpLayer(this);
    this.udp = new UdpLayer(this);
    this.tcp = new TcpLayer(this);
    this.#onFrame = (frame) => {
      this.stats.rxFrames++;
      try {
        this.link.input(frame);
      } catch (err) {
        this.#internalError(err);
      }
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Receives what the device has, runs due timers, sends what became ready and
   * flushes the device. Returns a count of work done (0: nothing happened).
   */
  poll(): number {
    if (this.#closed) return 0;
    this.now = this.clock.now();
    let work = this.link.drainLoopback();
    for (let i = 0; i < MAX_RX_BATCHES; i++) {
      const n = this.device.receive(this.#onFrame);
      work += n;
      if (n === 0) break;
    }
    try {
      work += this.timers.runDue(this.now);
    } catch (err) {
      this.#internalError(err);
    }
    this.flush();
    return work;
  }

  /** Sends segments connections have ready and pushes the device's queue out. */
  flush(): void {
    if (this.#closed) return;
    try {
      this.tcp.flush();
    } catch (err) {
      this.#internalError(err);
    }
    this.device.flush();
  }

  /** Refreshes `now` from the clock; for calls made between polls (an application push). */
  touch(): number {
    this.now = this.clock.now();
    return this.now;
  }

  /** Absolute time (clock ms) of the next timer, if any. */
  nextTimerAt(): number | undefined {
    return this.timers.nextAt();
  }

  /** Resets every open connection (the RSTs go out now), drops every socket and closes the device. */
  close(): void {
    if (this.#closed) return;
    try {
      this.tcp.close();
      this.device.flush();
    } catch (err) {
      this.#internalError(err);
    }
    this.udp.close();
    this.arp.close();
    this.#closed = true;
    this.device.close();
  }

  #internalError(err: unknown): void {
    this.stats.internalErrors++;
    this.#onError?.(err);
  }
}
