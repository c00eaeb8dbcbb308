// A set with O(1) add, remove, membership and uniformly random member (SPOP):
// members in an array, each one's index in a map; removal swaps in the last.

export class RandomSet {
  readonly #index = new Map<string, number>();
  readonly #members: string[] = [];

  get size(): number {
    return this.#members.length;
  }

  has(member: string): boolean {
    return this.#index.has(member);
  }

  /** True if the member is new. */
  add(member: string): boolean {
    if (this.#index.has(member)) return false;
    this.#index.set(member, this.#members.length);
    this.#members.push(member);
    return true;
  }

  /** True if the member was there. */
  delete(member: string): boolean {
    const i = this.#index.get(member);
    if (i === undefined) return false;
    const last = this.#members.pop()!;
    if (last !== member) {
      this.#members[i] = last;
      this.#index.set(last, i);
    }
    this.#index.delete(member);
    return true;
  }

  /** Removes and returns a random member. */
  popRandom(): string | undefined {
    if (this.#members.length === 0) return undefined;
    const member = this.#members[Math.floor(Math.random() * this.#members.length)]!;
    this.delete(member);
    return member;
  }

  members(): readonly string[] {
    return this.#members;
  }
}
