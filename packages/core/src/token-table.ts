import { Opcode } from './constants.js';
import { DemiError, ERRNO } from './errors.js';
import { SequenceIndex } from './sequence-index.js';
import type { QDesc, QResult, QToken } from './types.js';
import { describe } from './validate.js';

/** Someone blocked in wait/waitAny/waitNextN. */
export interface Waiter {
  /** Called once with the completed token's result; returns true if the waiter is now satisfied. */
  deliver(result: QResult): boolean;
}

interface Entry {
  /** The token's low part (a small integer, so the entry holds no boxed number). */
  sequence: number;
  qd: QDesc;
  opcode: Opcode;
  result: QResult | undefined;
  waiter: Waiter | undefined;
  /** Taken by name while still in the unclaimed queue: waitNextN skips it. */
  taken: boolean;
}

/** Taken-by-name entries the unclaimed queue tolerates before it is compacted. */
const STALE_SLACK = 64;
/** Spent entries kept for reuse (each ~80 B). */
const POOL_MAX = 1024;

const INSTANCE_SPAN = 2 ** 32;
/** Sequences stay below 2^30: V8 small integers, stored in an entry without boxing. */
const SEQUENCE_SPAN = 2 ** 30;
let nextInstance = 1;

/**
 * Outstanding operations of one LibOS. A token is `instance * 2^32 + sequence`,
 * so a token handed to the wrong LibOS is recognised, and issuing one allocates
 * no object for the caller. A result stays here until exactly one wait takes it.
 */
export class TokenTable {
  readonly instance = nextInstance++;
  #sequence = 0;
  /** Outstanding entries by sequence. */
  readonly #entries = new SequenceIndex<Entry>();
  /**
   * Entries no longer reachable from the index, the unclaimed queue or a
   * caller, for the next issue(): a steady flow of operations allocates no
   * entries, and none is promoted to the old generation only to die there.
   */
  readonly #pool: Entry[] = [];
  /**
   * Completed entries no waiter took at once, in completion order, from `#head`
   * to `#tail`: waitNextN takes from the front instead of scanning every
   * outstanding token. Entries later taken by name stay until skipped or
   * compacted away (`#stale`). The array is reused, never shrunk, so a steady
   * flow of completions allocates nothing here.
   */
  #unclaimed: Entry[] = [];
  #head = 0;
  #tail = 0;
  #stale = 0;
  /** Takes completions of tokens nobody waits on by name (waitNextN). */
  anyWaiter: Waiter | undefined;
  /** Told when a connect or an accept completes, before anyone sees the result. */
  onSettled: ((qd: QDesc, issued: Opcode, result: Omit<QResult, 'qt'>) => void) | undefined;

  issue(qd: QDesc, opcode: Opcode): QToken {
    // Skip sequences still outstanding after a wrap (a very old pending accept).
    do this.#sequence = (this.#sequence % (SEQUENCE_SPAN - 1)) + 1;
    while (this.#entries.get(this.#sequence) !== undefined);
    const sequence = this.#sequence;
    const entry = this.#pool.pop();
    if (entry === undefined) {
      this.#entries.add({
        sequence,
        qd,
        opcode,
        result: undefined,
        waiter: undefined,
        taken: false,
      });
    } else {
      entry.sequence = sequence;
      entry.qd = qd;
      entry.opcode = opcode;
      entry.taken = false;
      this.#entries.add(entry);
    }
    return this.instance * INSTANCE_SPAN + sequence;
  }

  /** Records the outcome of an operation and hands it to its waiter, if any. */
  complete(qt: QToken, result: Omit<QResult, 'qt' | 'qd'> & { qd?: QDesc }): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.result !== undefined) return;
    this.#settle(entry, { ...result, qd: result.qd ?? entry.qd, qt });
  }

  /**
   * As complete(), for a result object the backend built for this completion
   * alone: the table keeps and hands out that object (its `qd` becomes the
   * token's, `qt` must be the token) instead of copying it.
   */
  completeOwned(qt: QToken, result: QResult): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.result !== undefined) return;
    result.qd = entry.qd;
    this.#settle(entry, result);
  }

  #settle(entry: Entry, full: QResult): void {
    entry.result = full;
    if (entry.opcode === Opcode.CONNECT || entry.opcode === Opcode.ACCEPT)
      this.onSettled?.(entry.qd, entry.opcode, full);
    const waiter = entry.waiter ?? this.anyWaiter;
    if (waiter !== undefined) {
      this.#entries.delete(entry.sequence);
      entry.result = undefined;
      entry.waiter = undefined;
      this.#recycle(entry);
      waiter.deliver(full);
    } else {
      this.#unclaimed[this.#tail++] = entry;
    }
  }

  /** Completes every pending operation on `qd` as FAILED with `errno` (ECANCELED on close). */
  failAll(qd: QDesc, errno: number = ERRNO.ECANCELED): void {
    // Only the matching entries are copied out (completing one changes the index).
    for (const entry of this.#entries.filter((e) => e.qd === qd && e.result === undefined))
      this.#failPending(entry, errno);
  }

  failEverything(errno: number = ERRNO.ECANCELED): void {
    for (const entry of this.#entries.filter((e) => e.result === undefined))
      this.#failPending(entry, errno);
  }

  #failPending(entry: Entry, errno: number): void {
    // Completing an earlier one may have handed this entry out and reused it.
    const qt = this.instance * INSTANCE_SPAN + entry.sequence;
    this.complete(qt, { opcode: Opcode.FAILED, ret: errno });
  }

  /** The entry of a token this LibOS issued and nobody has consumed, or a DemiError. */
  entry(qt: unknown, syscall: string): Entry {
    if (typeof qt !== 'number' || !Number.isSafeInteger(qt) || qt <= 0) {
      throw new DemiError('EINVAL', `not a queue token: ${describe(qt)}`, { syscall });
    }
    if (Math.floor(qt / INSTANCE_SPAN) !== this.instance) {
      throw new DemiError('EINVAL', `queue token ${qt} was not issued by this LibOS`, { syscall });
    }
    const entry = this.#lookup(qt);
    if (entry === undefined) {
      throw new DemiError(
        'EINVAL',
        `queue token ${qt} is not outstanding (already waited on, or never issued)`,
        { syscall },
      );
    }
    return entry;
  }

  /** Takes a completed result, consuming the token; undefined while it is pending. */
  take(qt: QToken): QResult | undefined {
    const entry = this.#lookup(qt);
    if (entry?.result === undefined) return undefined;
    this.#entries.delete(entry.sequence);
    // A completed entry in the table is always in the unclaimed queue.
    entry.taken = true;
    const result = entry.result;
    entry.result = undefined;
    if (++this.#stale > STALE_SLACK && this.#stale * 2 > this.#tail - this.#head) this.#compact();
    return result;
  }

  setWaiter(qt: QToken, waiter: Waiter | undefined): void {
    const entry = this.#lookup(qt);
    if (entry !== undefined) entry.waiter = waiter;
  }

  /**
   * Completed results nobody has taken, in the order they completed, at most
   * `n` (after `first`, a result a waiter was just handed); consumes them. (A
   * completed entry never has a named waiter: completing hands it to that
   * waiter at once.)
   */
  takeUnclaimed(n: number, first?: QResult): QResult[] {
    const queue = this.#unclaimed;
    const tail = this.#tail;
    let head = this.#head;
    // Sized once, not grown by push (which would leave a larger store behind):
    // every entry taken by name (#stale) lies between head and tail.
    const extra = first === undefined ? 0 : 1;
    const out = new Array<QResult>(Math.max(0, Math.min(n, extra + tail - head - this.#stale)));
    let count = 0;
    if (first !== undefined) out[count++] = first;
    while (count < out.length && head < tail) {
      const entry = queue[head]!;
      queue[head++] = undefined as unknown as Entry;
      if (entry.taken) {
        this.#stale--;
        this.#recycle(entry);
        continue;
      }
      this.#entries.delete(entry.sequence);
      out[count++] = entry.result!;
      entry.result = undefined;
      this.#recycle(entry);
    }
    if (count < out.length) out.length = count;
    if (head === tail) {
      this.#head = this.#tail = 0;
    } else {
      this.#head = head;
      // Never drained to empty: move the rest to the front so the array stays small.
      if (head > STALE_SLACK * 16 && head * 2 > tail) this.#compact();
    }
    return out;
  }

  /** Moves the live entries of the unclaimed queue to its front, dropping those taken by name. */
  #compact(): void {
    const queue = this.#unclaimed;
    let to = 0;
    for (let from = this.#head; from < this.#tail; from++) {
      const entry = queue[from]!;
      if (!entry.taken) queue[to++] = entry;
      else this.#recycle(entry);
    }
    for (let i = to; i < this.#tail; i++) queue[i] = undefined as unknown as Entry;
    this.#head = 0;
    this.#tail = to;
    this.#stale = 0;
  }

  #lookup(qt: QToken): Entry | undefined {
    // Any number may come here (waitSync takes before it validates): only the
    // sequence of a token of this table is found.
    return this.#entries.get(qt - this.instance * INSTANCE_SPAN);
  }

  /** Keeps a spent entry (in neither the index nor the unclaimed queue) for reuse. */
  #recycle(entry: Entry): void {
    if (this.#pool.length < POOL_MAX) this.#pool.push(entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}
