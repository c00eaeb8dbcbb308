/** One learned or configured address. */
export interface ArpEntry {
  mac: Uint8Array;
  /** When the entry goes stale (Infinity for static entries). */
  expiresAt: number;
  readonly isStatic: boolean;
}

/**
 * IP -> MAC, with a time to live. A stale entry is still returned (so traffic
 * keeps flowing) and the caller re-resolves it in the background.
 */
export class ArpCache {
  readonly #entries = new Map<number, ArpEntry>();
  /** The last hit, checked first: most traffic goes to one peer. */
  #lastIp = -1;
  #last: ArpEntry | undefined;

  #learned = 0;

  /** `maxLearned`: learned entries kept at most (as Linux's gc_thresh3); the oldest goes first. */
  constructor(
    readonly ttlMs: number,
    readonly maxLearned = 1024,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(ip: number): ArpEntry | undefined {
    if (ip === this.#lastIp) return this.#last;
    const e = this.#entries.get(ip);
    if (e !== undefined) {
      this.#lastIp = ip;
      this.#last = e;
    }
    return e;
  }

  setStatic(ip: number, mac: Uint8Array): void {
    if (this.#entries.get(ip)?.isStatic === false) this.#learned--;
    this.#entries.set(ip, {
      mac: Uint8Array.from(mac),
      expiresAt: Number.POSITIVE_INFINITY,
      isStatic: true,
    });
    this.#lastIp = -1;
  }

  /** Records a learned address; never overrides a static entry. */
  learn(ip: number, mac: Uint8Array, now: number): void {
    const e = this.#entries.get(ip);
    if (e?.isStatic) return;
    if (e !== undefined) {
      e.mac.set(mac.subarray(0, 6));
      e.expiresAt = now + this.ttlMs;
      return;
    }
    if (this.#learned >= this.maxLearned) {
      for (const [old, entry] of this.#entries) {
        if (entry.isStatic) continue;
        this.delete(old);
        break;
      }
    }
    this.#entries.set(ip, {
      mac: Uint8Array.from(mac.subarray(0, 6)),
      expiresAt: now + this.ttlMs,
      isStatic: false,
    });
    this.#learned++;
  }

  has(ip: number): boolean {
    return this.#entries.has(ip);
  }

  delete(ip: number): void {
    const e = this.#entries.get(ip);
    if (e === undefined || e.isStatic) return;
    this.#entries.delete(ip);
    this.#learned--;
    if (ip === this.#lastIp) this.#lastIp = -1;
  }

  entries(): IterableIterator<[number, ArpEntry]> {
    return this.#entries.entries();
  }
}
