/**
 * Reuses frame buffers by exact length: bulk traffic has a handful of frame
 * sizes (full segments, ACKs), so in steady state no frame allocates.
 */
export class BufferPool {
  readonly #bySize = new Map<number, Uint8Array[]>();

  constructor(readonly perSize = 512) {}

  take(length: number): Uint8Array {
    const list = this.#bySize.get(length);
    return list !== undefined && list.length > 0 ? list.pop()! : new Uint8Array(length);
  }

  copy(frame: Uint8Array): Uint8Array {
    const out = this.take(frame.byteLength);
    out.set(frame);
    return out;
  }

  give(buf: Uint8Array): void {
    let list = this.#bySize.get(buf.byteLength);
    if (list === undefined) {
      if (this.#bySize.size >= 64) return;
      list = [];
      this.#bySize.set(buf.byteLength, list);
    }
    if (list.length < this.perSize) list.push(buf);
  }
}
