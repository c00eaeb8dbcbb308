// A sorted set: each member's score in a map, and the members in an array kept
// in (score, member) order, found by binary search. Insertion shifts the array,
// which is fast up to hundreds of thousands of members.

export interface Entry {
  member: string;
  score: number;
}

function before(a: Entry, score: number, member: string): boolean {
  return a.score < score || (a.score === score && a.member < member);
}

export class SortedSet {
  readonly #scores = new Map<string, number>();
  readonly #order: Entry[] = [];

  get size(): number {
    return this.#order.length;
  }

  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  /** The index where (score, member) is or would be. */
  #find(score: number, member: string): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.#order[mid]!, score, member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sets a member's score; true if the member is new. */
  set(member: string, score: number): boolean {
    const old = this.#scores.get(member);
    if (old === score) return false;
    if (old !== undefined) this.#order.splice(this.#find(old, member), 1);
    this.#scores.set(member, score);
    this.#order.splice(this.#find(score, member), 0, { member, score });
    return old === undefined;
  }

  delete(member: string): boolean {
    const old = this.#scores.get(member);
    if (old === undefined) return false;
    this.#order.splice(this.#find(old, member), 1);
    this.#scores.delete(member);
    return true;
  }

  /** Entries from index start to stop inclusive (already clamped to 0..size-1). */
  range(start: number, stop: number): Entry[] {
    return this.#order.slice(start, stop + 1);
  }

  /** Removes and returns the `count` lowest entries. */
  popMin(count: number): Entry[] {
    const taken = this.#order.splice(0, count);
    for (const e of taken) this.#scores.delete(e.member);
    return taken;
  }
}
