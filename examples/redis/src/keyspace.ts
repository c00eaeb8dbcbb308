// The keyspace: key -> value, and key -> absolute expiry time in ms. A key past
// its time is deleted when it is next looked up (lazy expiry) or when the
// periodic cycle samples it (active expiry), as Redis does.
import type { Deque } from './deque.ts';
import type { RandomSet } from './random-set.ts';
import type { SortedSet } from './sorted-set.ts';

export type Value = string | Deque | RandomSet | Map<string, string> | SortedSet;

export class Keyspace {
  readonly data = new Map<string, Value>();
  readonly expires = new Map<string, number>();
  #cursor: MapIterator<[string, number]> | undefined;

  get(key: string): Value | undefined {
    const value = this.data.get(key);
    if (value !== undefined && this.expires.size > 0) {
      const at = this.expires.get(key);
      if (at !== undefined && at <= Date.now()) {
        this.delete(key);
        return undefined;
      }
    }
    return value;
  }

  /** Stores a value and drops any expiry (what SET and GETSET do). */
  set(key: string, value: Value): void {
    this.data.set(key, value);
    if (this.expires.size > 0) this.expires.delete(key);
  }

  /** Stores a new value for a key that does not exist (list, set, hash, zset creation). */
  create(key: string, value: Value): void {
    this.data.set(key, value);
  }

  delete(key: string): boolean {
    if (!this.data.delete(key)) return false;
    this.expires.delete(key);
    return true;
  }

  exists(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets an absolute expiry time; a time already past deletes the key. */
  expireAt(key: string, atMs: number): void {
    if (atMs <= Date.now()) this.delete(key);
    else this.expires.set(key, atMs);
  }

  get size(): number {
    return this.data.size;
  }

  flush(): void {
    this.data.clear();
    this.expires.clear();
    this.#cursor = undefined;
  }

  /**
   * Active expiry: looks at up to `budget` keys with an expiry, continuing where
   * the last cycle stopped, and deletes the expired ones. Returns how many.
   */
  expireCycle(budget: number, now = Date.now()): number {
    let deleted = 0;
    for (let i = 0; i < budget && this.expires.size > 0; i++) {
      this.#cursor ??= this.expires.entries();
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = undefined;
        continue;
      }
      const [key, at] = next.value;
      if (at <= now) {
        this.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}
