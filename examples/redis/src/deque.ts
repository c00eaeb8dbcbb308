// A list as a growable ring buffer: O(1) push and pop at both ends, O(1) index.

export class Deque {
  #items: (string | undefined)[] = new Array(8);
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  #grow(): void {
    const old = this.#items;
    const items: (string | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.#size; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }

  pushBack(value: string): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = value;
    this.#size++;
  }

  pushFront(value: string): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = value;
    this.#size++;
  }

  popFront(): string | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return value;
  }

  popBack(): string | undefined {
    if (this.#size === 0) return undefined;
    const i = (this.#head + this.#size - 1) & (this.#items.length - 1);
    const value = this.#items[i];
    this.#items[i] = undefined;
    this.#size--;
    return value;
  }

  at(index: number): string {
    return this.#items[(this.#head + index) & (this.#items.length - 1)]!;
  }
}
