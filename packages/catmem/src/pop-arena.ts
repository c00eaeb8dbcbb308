import { Buffer } from 'node:buffer';

/** The addon calls an arena needs: where pops land. */
export interface StagingTarget {
  setStaging(ctx: number, buffer: ArrayBuffer): void;
}

/** Pops this long or shorter are copied out of the arena, so they pin no arena. */
const COPY_AT_MOST = 1024;
/** An arena holds at least this many bytes (and at least one largest record). */
const MIN_ARENA = 1 << 20;

/**
 * Where pops land: one large buffer that the addon copies records into, one
 * after another. A long pop is handed to the caller as a view of the arena
 * (one copy in all, out of the ring, and no zero-filled allocation per pop); a
 * short one is copied out. When the room left is less than the next pop may
 * need, a fresh arena takes over (allocated without zero-filling, since every
 * byte handed out was written by a pop); the old one lives while views of it do.
 */
export class PopArena {
  #buffer = new Uint8Array(0);
  #offset = 0;

  constructor(
    private readonly target: StagingTarget,
    private readonly ctx: number,
  ) {}

  /** Offset for the next pop of up to `max` bytes, replacing the arena when it lacks room. */
  reserve(max: number): number {
    if (this.#buffer.byteLength - this.#offset < max) {
      const size = Math.max(MIN_ARENA, max);
      const fresh = Buffer.allocUnsafeSlow(size);
      this.#buffer = new Uint8Array(fresh.buffer, fresh.byteOffset, size);
      this.#offset = 0;
      this.target.setStaging(this.ctx, fresh.buffer as ArrayBuffer);
      if (fresh.byteOffset !== 0) throw new Error('unpooled buffer expected');
    }
    return this.#offset;
  }

  /** The n bytes a pop just wrote at `at` (the offset reserve returned). */
  take(at: number, n: number): Uint8Array {
    if (n <= COPY_AT_MOST) return this.#buffer.slice(at, at + n);
    // Keep views 8-byte aligned, as a fresh allocation would be.
    this.#offset = at + ((n + 7) & ~7);
    return new Uint8Array(this.#buffer.buffer, at, n);
  }

  /** Forgets the arena (views already handed out stay valid). */
  release(): void {
    this.#buffer = new Uint8Array(0);
    this.#offset = 0;
  }
}
