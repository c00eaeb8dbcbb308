import { Opcode } from './constants.js';
import { DemiError, ERRNO } from './errors.js';
import type { QDesc, QResult, QToken } from './types.js';
import { describe } from './validate.js';

/** Someone blocked in wait/waitAny/waitNextN. */
export interface Waiter {
  /** Called once with the completed token's result; returns true if the waiter is now satisfied. */
  deliver(result: QResult): boolean;
}

interface Entry {
  qt: QToken;
  qd: QDesc;
  opcode: Opcode;
  result: QResult | undefined;
  waiter: Waiter | undefined;
}

const INSTANCE_SPAN = 2 ** 32;
/** Sequences stay below 2^30 so the table's keys are V8 small integers (fast Map hashing). */
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
  /** Keyed by sequence (a small integer), not by token (a heap number). */
  readonly #entries = new Map<number, Entry>();
  /** Takes completions of tokens nobody waits on by name (waitNextN). */
  anyWaiter: Waiter | undefined;

  issue(qd: QDesc, opcode: Opcode): QToken {
    // Skip sequences still outstanding after a wrap (a very old pending accept).
    do this.#sequence = (this.#sequence % (SEQUENCE_SPAN - 1)) + 1;
    while (this.#entries.has(this.#sequence));
    const qt = this.instance * INSTANCE_SPAN + this.#sequence;
    this.#entries.set(this.#sequence, { qt, qd, opcode, result: undefined, waiter: undefined });
    return qt;
  }

  /** Records the outcome of an operation and hands it to its waiter, if any. */
  complete(qt: QToken, result: Omit<QResult, 'qt' | 'qd'> & { qd?: QDesc }): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.result !== undefined) return;
    const full: QResult = { ...result, qd: result.qd ?? entry.qd, qt };
    entry.result = full;
    const waiter = entry.waiter ?? this.anyWaiter;
    if (waiter !== undefined) {
      this.#entries.delete(qt - this.instance * INSTANCE_SPAN);
      waiter.deliver(full);
    }
  }

  /** Completes every pending operation on `qd` as FAILED with `errno` (ECANCELED on close). */
  failAll(qd: QDesc, errno: number = ERRNO.ECANCELED): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.qd === qd && entry.result === undefined) {
        this.complete(entry.qt, { opcode: Opcode.FAILED, ret: errno });
      }
    }
  }

  failEverything(errno: number = ERRNO.ECANCELED): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.result === undefined)
        this.complete(entry.qt, { opcode: Opcode.FAILED, ret: errno });
    }
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
    this.#entries.delete(qt - this.instance * INSTANCE_SPAN);
    return entry.result;
  }

  setWaiter(qt: QToken, waiter: Waiter | undefined): void {
    const entry = this.#lookup(qt);
    if (entry !== undefined) entry.waiter = waiter;
  }

  /** Completed results that no named waiter holds, oldest first, up to `n`; consumes them. */
  takeUnclaimed(n: number): QResult[] {
    const out: QResult[] = [];
    for (const [sequence, entry] of this.#entries) {
      if (out.length >= n) break;
      if (entry.result !== undefined && entry.waiter === undefined) {
        this.#entries.delete(sequence);
        out.push(entry.result);
      }
    }
    return out;
  }

  #lookup(qt: QToken): Entry | undefined {
    const entry = this.#entries.get(qt - this.instance * INSTANCE_SPAN);
    return entry !== undefined && entry.qt === qt ? entry : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
