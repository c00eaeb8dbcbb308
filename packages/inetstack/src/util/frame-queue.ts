/** A bounded FIFO ring of references: O(1) push and shift, no per-item allocation once grown. */
export class FrameQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(
    readonly limit: number,
    initial = 64,
  ) {
    this.#items = new Array(Math.max(1, Math.min(initial, limit)));
  }

  get size(): number {
    return this.#size;
  }

  /** Adds at the tail; false when the queue holds `limit` items already. */
  push(item: T): boolean {
    if (this.#size >= this.limit) return false;
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
    return true;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const next = new Array<T | undefined>(Math.min(this.limit, this.#items.length * 2));
    for (let i = 0; i < this.#size; i++)
      next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
