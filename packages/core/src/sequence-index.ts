/** Something keyed by a non-negative integer sequence. */
export interface Sequenced {
  readonly sequence: number;
}

const INITIAL_SLOTS = 64;

/** The slot probing starts at (a bijection on the low bits: see SequenceIndex). */
function home(sequence: number, mask: number): number {
  return Math.imul(sequence, 0x9e3779b1) & mask;
}

/**
 * Items by their sequence number: an open-addressing hash table on one
 * power-of-two array (linear probing, deletion by shifting back the items after
 * the hole, so no tombstones). A `Map` rehashes into a new table as keys come
 * and go, so a steady churn of tokens (one pop and one push per echoed message)
 * allocated a new backing store every few thousand operations; this array is
 * replaced only when it doubles. A sequence's home slot is its low bits times
 * an odd constant: the sequences of any window no larger than the table still
 * get distinct slots, but consecutive ones no longer sit side by side. With
 * sequences as their own slots, a backlog of recent tokens (thousands of
 * connections' completions waiting to be taken) filled one long run of
 * adjacent slots, and every deletion walked the rest of it.
 */
export class SequenceIndex<T extends Sequenced> {
  #slots: Array<T | undefined> = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  #mask = INITIAL_SLOTS - 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The item with this sequence; any number may be asked (others are simply absent). */
  get(sequence: number): T | undefined {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = home(sequence, mask); ; i = (i + 1) & mask) {
      const item = slots[i];
      if (item === undefined || item.sequence === sequence) return item;
    }
  }

  /** Adds an item whose sequence is not in the index. */
  add(item: T): void {
    // At most half full: probes stay short and every probe loop ends on a hole.
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    this.#place(item);
    this.#size++;
  }

  /** Removes the item with this sequence; false if there was none. */
  delete(sequence: number): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    let hole = home(sequence, mask);
    for (;;) {
      const item = slots[hole];
      if (item === undefined) return false;
      if (item.sequence === sequence) break;
      hole = (hole + 1) & mask;
    }
    slots[hole] = undefined;
    this.#size--;
    // Move back every item of the run after the hole that probing could no
    // longer reach: one whose home slot is not cyclically in (hole, at].
    for (let at = (hole + 1) & mask; ; at = (at + 1) & mask) {
      const item = slots[at];
      if (item === undefined) return true;
      const from = home(item.sequence, mask);
      const reachable = hole <= at ? hole < from && from <= at : hole < from || from <= at;
      if (reachable) continue;
      slots[hole] = item;
      slots[at] = undefined;
      hole = at;
    }
  }

  /** The items for which `keep` is true, in no particular order (a new array: safe to change the index while walking it). */
  filter(keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const item = slots[i];
      if (item !== undefined && keep(item)) out.push(item);
    }
    return out;
  }

  #place(item: T): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = home(item.sequence, mask);
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = item;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.#mask = this.#slots.length - 1;
    for (const item of old) if (item !== undefined) this.#place(item);
  }
}
