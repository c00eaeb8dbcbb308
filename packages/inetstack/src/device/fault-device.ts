import { SeededRandom } from '../util/random.js';
import { systemClock } from './clock.js';
import type { Clock, DeviceOffloads, FrameDevice } from './device.js';
import { FrameAssembler } from './frame-parts.js';

/** Percentages are 0-100 and apply independently to every frame passing the wrapper. */
export interface FaultOptions {
  /** Seed of the wrapper's own random generator: the same seed, the same faults. */
  seed?: number;
  dropPct?: number;
  duplicatePct?: number;
  /** Holds a frame back until the next one has passed (or `reorderHoldMs` elapsed). */
  reorderPct?: number;
  /** Flips one bit in a byte after the Ethernet header, so the stack's checksums must catch it. */
  corruptPct?: number;
  delayPct?: number;
  /** Delay of a delayed frame: a fixed value or a [min, max] range in ms (default [1, 20]). */
  delayMs?: number | [number, number];
  /** How long a reordered frame waits for a successor at most (default 5 ms). */
  reorderHoldMs?: number;
  /** Bytes per second the wrapper lets through (a token bucket); excess frames are dropped. */
  rateBytesPerSec?: number;
  /** Bucket size for the rate limit (default 64 KiB). */
  rateBurstBytes?: number;
  /** Which frames see faults: sent ('tx'), received ('rx') or both (default). */
  direction?: 'tx' | 'rx' | 'both';
  /** Time source for delays and the rate limit (default wall clock). */
  clock?: Clock;
  /** Frames held back at most; beyond it delayed frames are dropped instead (default 4096). */
  maxHeld?: number;
}

export interface FaultStats {
  passed: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  delayed: number;
  rateLimited: number;
}

interface Resolved {
  dropPct: number;
  duplicatePct: number;
  reorderPct: number;
  corruptPct: number;
  delayPct: number;
  delayMin: number;
  delayMax: number;
  reorderHoldMs: number;
  rateBytesPerSec: number | undefined;
  rateBurstBytes: number;
  direction: 'tx' | 'rx' | 'both';
  maxHeld: number;
}

interface Held {
  frame: Uint8Array;
  at: number;
  tx: boolean;
}

/**
 * A device that wraps a device and injects faults into the frames crossing it,
 * from a seeded generator: loss, duplication, reordering, corruption, delay and a
 * rate limit. Compose it with any other device, real or in memory.
 */
export class FaultDevice implements FrameDevice {
  readonly inner: FrameDevice;
  readonly stats: FaultStats = {
    passed: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    delayed: 0,
    rateLimited: 0,
  };
  #o: Resolved;
  readonly #random: SeededRandom;
  readonly #clock: Clock;
  #held: Held[] = [];
  #reorderTx: Held | undefined;
  #reorderRx: Held | undefined;
  #tokens: number;
  #tokensAt: number;
  #onReadable: (() => void) | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  readonly #assembler = new FrameAssembler();

  constructor(inner: FrameDevice, options: FaultOptions = {}) {
    this.inner = inner;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.#clock = options.clock ?? systemClock;
    this.#o = FaultDevice.#resolve(options);
    this.#tokens = this.#o.rateBurstBytes;
    this.#tokensAt = this.#clock.now();
    if (inner.setWakeup !== undefined) {
      this.setWakeup = (onReadable) => {
        this.#onReadable = onReadable;
        inner.setWakeup!(onReadable);
        if (onReadable === undefined && this.#wakeTimer !== undefined) {
          clearTimeout(this.#wakeTimer);
          this.#wakeTimer = undefined;
        }
        this.#armWake();
      };
    }
  }

  static #resolve(o: FaultOptions): Resolved {
    const pct = (v: number | undefined, name: string): number => {
      const n = v ?? 0;
      if (!(n >= 0 && n <= 100))
        throw new RangeError(`${name} must be a percentage in [0, 100], got ${v}`);
      return n;
    };
    const delay = o.delayMs ?? [1, 20];
    const [delayMin, delayMax] = typeof delay === 'number' ? [delay, delay] : delay;
    if (!(delayMin >= 0 && delayMax >= delayMin))
      throw new RangeError(`delayMs must be >= 0 (min <= max), got ${String(delay)}`);
    return {
      dropPct: pct(o.dropPct, 'dropPct'),
      duplicatePct: pct(o.duplicatePct, 'duplicatePct'),
      reorderPct: pct(o.reorderPct, 'reorderPct'),
      corruptPct: pct(o.corruptPct, 'corruptPct'),
      delayPct: pct(o.delayPct, 'delayPct'),
      delayMin,
      delayMax,
      reorderHoldMs: o.reorderHoldMs ?? 5,
      rateBytesPerSec: o.rateBytesPerSec,
      rateBurstBytes: o.rateBurstBytes ?? 64 * 1024,
      direction: o.direction ?? 'both',
      maxHeld: o.maxHeld ?? 4096,
    };
  }

  /** Changes fault settings on the fly (e.g. heal a link mid-test); the generator keeps its state. */
  setFaults(options: Omit<FaultOptions, 'seed' | 'clock'>): void {
    this.#o = FaultDevice.#resolve({ ...this.#options(), ...options });
  }

  #options(): FaultOptions {
    const o = this.#o;
    return { ...o, delayMs: [o.delayMin, o.delayMax], rateBytesPerSec: o.rateBytesPerSec };
  }

  get mac(): Uint8Array {
    return this.inner.mac;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  /** Corruption is pointless if the stack trusts a checksum the device never saw: report no RX offload then. */
  get offloads(): DeviceOffloads {
    const inner = this.inner.offloads;
    return this.#o.corruptPct > 0 && inner.rxChecksum ? { ...inner, rxChecksum: false } : inner;
  }

  /** When the next held-back frame is due, for simulators that advance virtual time. */
  nextReleaseAt(): number | undefined {
    let at = Number.POSITIVE_INFINITY;
    for (const h of this.#held) if (h.at < at) at = h.at;
    if (this.#reorderTx !== undefined && this.#reorderTx.at < at) at = this.#reorderTx.at;
    if (this.#reorderRx !== undefined && this.#reorderRx.at < at) at = this.#reorderRx.at;
    return at === Number.POSITIVE_INFINITY ? undefined : at;
  }

  get held(): number {
    return this.#held.length + (this.#reorderTx ? 1 : 0) + (this.#reorderRx ? 1 : 0);
  }

  receive(onFrame: (frame: Uint8Array) => void): number {
    const faulty = this.#o.direction !== 'tx';
    // Counts frames taken from the inner device even when dropped, so a poller sees activity.
    const n = this.inner.receive(faulty ? (frame) => this.#apply(frame, false, onFrame) : onFrame);
    const released = this.#releaseDue(false, onFrame);
    this.#armWake();
    return n + released;
  }

  send(frame: Uint8Array): boolean {
    this.#releaseDue(true, undefined);
    if (this.#o.direction === 'rx') return this.inner.send(frame);
    let ok = true;
    this.#apply(frame, true, (f) => {
      ok = this.inner.send(f) && ok;
    });
    this.#armWake();
    return ok;
  }

  /**
   * Faults are decided on the assembled frame; one that passes unchanged goes on
   * in its parts (so the inner device's own sendParts runs under loss too), and
   * a corrupted, duplicated or held copy as a whole frame.
   */
  sendParts(head: Uint8Array, body: Uint8Array, rest?: Uint8Array): boolean {
    const frame = this.#assembler.assemble(head, body, rest);
    const inner = this.inner;
    if (inner.sendParts === undefined) return this.send(frame);
    this.#releaseDue(true, undefined);
    if (this.#o.direction === 'rx') return inner.sendParts(head, body, rest);
    let ok = true;
    this.#apply(frame, true, (f) => {
      ok = (f === frame ? inner.sendParts!(head, body, rest) : inner.send(f)) && ok;
    });
    this.#armWake();
    return ok;
  }

  flush(): void {
    this.#releaseDue(true, undefined);
    this.inner.flush();
  }

  /** Present only when the inner device has a wake-up source. */
  setWakeup?: (onReadable: (() => void) | undefined) => void;

  close(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#held = [];
    this.#reorderTx = this.#reorderRx = undefined;
    this.inner.close();
  }

  #chance(pct: number): boolean {
    return pct > 0 && this.#random.nextFloat() * 100 < pct;
  }

  #apply(frame: Uint8Array, tx: boolean, pass: (f: Uint8Array) => void): void {
    const o = this.#o;
    const now = this.#clock.now();
    if (o.rateBytesPerSec !== undefined) {
      this.#tokens = Math.min(
        o.rateBurstBytes,
        this.#tokens + ((now - this.#tokensAt) * o.rateBytesPerSec) / 1000,
      );
      this.#tokensAt = now;
      if (this.#tokens < frame.byteLength) {
        this.stats.rateLimited++;
        return;
      }
      this.#tokens -= frame.byteLength;
    }
    if (this.#chance(o.dropPct)) {
      this.stats.dropped++;
      return;
    }
    let out = frame;
    if (this.#chance(o.corruptPct) && frame.byteLength > 14) {
      out = frame.slice();
      const at = 14 + Math.floor(this.#random.nextFloat() * (frame.byteLength - 14));
      out[at] = out[at]! ^ (1 << (this.#random.nextU32() & 7));
      this.stats.corrupted++;
    }
    const copies = this.#chance(o.duplicatePct) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      if (this.#chance(o.delayPct) && this.#held.length < o.maxHeld) {
        const d = o.delayMin + this.#random.nextFloat() * (o.delayMax - o.delayMin);
        this.#held.push({ frame: out === frame ? frame.slice() : out.slice(), at: now + d, tx });
        this.stats.delayed++;
        continue;
      }
      if (this.#chance(o.reorderPct)) {
        const slot = tx ? this.#reorderTx : this.#reorderRx;
        const held: Held = {
          frame: out === frame ? frame.slice() : out.slice(),
          at: now + o.reorderHoldMs,
          tx,
        };
        if (tx) this.#reorderTx = held;
        else this.#reorderRx = held;
        this.stats.reordered++;
        // A frame already waiting goes now, behind nothing: keeps at most one frame parked per direction.
        if (slot !== undefined) pass(slot.frame);
        continue;
      }
      this.stats.passed++;
      pass(out);
      // The parked frame follows the one that overtook it.
      const parked = tx ? this.#reorderTx : this.#reorderRx;
      if (parked !== undefined) {
        if (tx) this.#reorderTx = undefined;
        else this.#reorderRx = undefined;
        pass(parked.frame);
      }
    }
  }

  #releaseDue(tx: boolean, onFrame: ((f: Uint8Array) => void) | undefined): number {
    const now = this.#clock.now();
    let n = 0;
    if (this.#held.length > 0) {
      const keep: Held[] = [];
      const due: Held[] = [];
      for (const h of this.#held) (h.tx === tx && h.at <= now ? due : keep).push(h);
      if (due.length > 0) {
        this.#held = keep;
        due.sort((a, b) => a.at - b.at);
        for (const h of due) {
          n++;
          if (tx) this.inner.send(h.frame);
          else onFrame?.(h.frame);
        }
      }
    }
    const parked = tx ? this.#reorderTx : this.#reorderRx;
    if (parked !== undefined && parked.at <= now) {
      if (tx) this.#reorderTx = undefined;
      else this.#reorderRx = undefined;
      n++;
      if (tx) this.inner.send(parked.frame);
      else onFrame?.(parked.frame);
    }
    return n;
  }

  /** With a wake-up source, held frames wake the stack when they fall due. */
  #armWake(): void {
    if (this.#onReadable === undefined) return;
    const at = this.nextReleaseAt();
    if (at === undefined || this.#wakeTimer !== undefined) return;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.#onReadable?.();
        this.#armWake();
      },
      Math.max(0, at - this.#clock.now()),
    );
  }
}
