import { Opcode } from './constants.js';
import { DemiError, ERRNO } from './errors.js';
import { SequenceIndex } from './sequence-index.js';
import type { QDesc, QResult, QToken, Sga } from './types.js';
import { describe } from './validate.js';

/** Someone blocked in wait/waitAny/waitNextN. */
export interface Waiter {
  /** Called once with the completed token's result; returns true if the waiter is now satisfied. */
  deliver(result: QResult): boolean;
}

/**
 * Makes the sga of a completed pop whose bytes lie in `buffer` at `offset`,
 * once a wait takes the result (see TokenTable.completeView).
 */
export interface ViewMaker {
  sgaOf(buffer: ArrayBuffer, offset: number, length: number): Sga;
}

interface Entry {
  /** The token's low part (a small integer, so the entry holds no boxed number). */
  sequence: number;
  qd: QDesc;
  opcode: Opcode;
  /** The operation completed: its result is `result`, or is made from the fields below when taken. */
  done: boolean;
  result: QResult | undefined;
  /** A completion recorded without a result object (completeBare, completeView). */
  outcome: Opcode;
  ret: number;
  maker: ViewMaker | undefined;
  buffer: ArrayBuffer | undefined;
  offset: number;
  length: number;
  waiter: Waiter | undefined;
  /** Taken by name while still in the unclaimed queue: waitNextN skips it. */
  taken: boolean;
}

/** Taken-by-name entries the unclaimed queue tolerates before it is compacted. */
const STALE_SLACK = 64;
/** Spent entries kept for reuse (each ~120 B). */
const POOL_MAX = 1024;

/**
 * The first instances of a process number their tokens `instance * 2^28 +
 * sequence`: below 2^31, so a token is a V8 small integer, which a function
 * returns and an object field holds without allocating a heap number. Later
 * instances (tests make hundreds) use `instance * 2^32 + sequence`, with
 * sequences below 2^30. The two ranges do not meet, so every instance's
 * tokens are its own.
 */
const SMALL_INSTANCES = 7;
const SMALL_SPAN = 2 ** 28;
const WIDE_INSTANCE_SPAN = 2 ** 32;
const WIDE_SPAN = 2 ** 30;
let nextInstance = 1;

/**
 * Outstanding operations of one LibOS. A token is the instance's base plus a
 * sequence (see SMALL_SPAN), so a token handed to the wrong LibOS is
 * recognised, and issuing one allocates no object for the caller. A result
 * stays here until exactly one wait takes it.
 */
export class TokenTable {
  readonly instance = nextInstance++;
  /** The token of sequence 0, and how many sequences there are (they wrap to 1). */
  readonly #base =
    this.instance <= SMALL_INSTANCES
      ? this.instance * SMALL_SPAN
      : this.instance * WIDE_INSTANCE_SPAN;
  readonly #span = this.instance <= SMALL_INSTANCES ? SMALL_SPAN : WIDE_SPAN;
  #sequence = 0;
  /** Outstanding entries by sequence. */
  readonly #entries = new SequenceIndex<Entry>();
  /**
   * Entries no longer reachable from the index, the unclaimed queue or a
   * caller, for the next issue(): a steady flow of operations allocates no
   * entries, and none is promoted to the old generation only to die there.
   */
  readonly #pool: Entry[] = [];
  /** Descriptors failAll was given whose operations are not failed yet, with the errno to use. */
  #closing = new Map<QDesc, number>();
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
    // A descriptor reused before its old operations were failed: fail them first.
    if (this.#closing.size !== 0 && this.#closing.has(qd)) this.#failClosing();
    // Skip sequences still outstanding after a wrap (a very old pending accept).
    do this.#sequence = (this.#sequence % (this.#span - 1)) + 1;
    while (this.#entries.get(this.#sequence) !== undefined);
    const sequence = this.#sequence;
    const entry = this.#pool.pop();
    if (entry === undefined) {
      this.#entries.add({
        sequence,
        qd,
        opcode,
        done: false,
        result: undefined,
        outcome: Opcode.INVALID,
        ret: 0,
        maker: undefined,
        buffer: undefined,
        offset: 0,
        length: 0,
        waiter: undefined,
        taken: false,
      });
    } else {
      entry.sequence = sequence;
      entry.qd = qd;
      entry.opcode = opcode;
      entry.done = false;
      entry.taken = false;
      this.#entries.add(entry);
    }
    return this.#base + sequence;
  }

  /** Records the outcome of an operation and hands it to its waiter, if any. */
  complete(qt: QToken, result: Omit<QResult, 'qt' | 'qd'> & { qd?: QDesc }): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.done) return;
    this.#settle(entry, { ...result, qd: result.qd ?? entry.qd, qt });
  }

  /**
   * As complete() with `{opcode, ret}`, but no object is made until a wait
   * takes the result: a completion waiting in the unclaimed queue is a few
   * fields of its (long-lived, reused) entry, not young objects that a
   * scavenge must copy and may promote.
   */
  completeBare(qt: QToken, opcode: Opcode, ret: number): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.done) return;
    entry.outcome = opcode;
    entry.ret = ret;
    this.#settleDeferred(entry);
  }

  /**
   * Completes a pop with the `length` bytes at `offset` of `buffer`, which
   * must not change until then: `maker` makes the sga when a wait takes the
   * result (as completeBare, no object before).
   */
  completeView(
    qt: QToken,
    maker: ViewMaker,
    buffer: ArrayBuffer,
    offset: number,
    length: number,
  ): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.done) return;
    entry.outcome = Opcode.POP;
    entry.ret = 0;
    entry.maker = maker;
    entry.buffer = buffer;
    entry.offset = offset;
    entry.length = length;
    this.#settleDeferred(entry);
  }

  /**
   * As complete(), for a result object the backend built for this completion
   * alone: the table keeps and hands out that object (its `qd` becomes the
   * token's, `qt` must be the token) instead of copying it.
   */
  completeOwned(qt: QToken, result: QResult): void {
    const entry = this.#lookup(qt);
    if (entry === undefined || entry.done) return;
    result.qd = entry.qd;
    this.#settle(entry, result);
  }

  #settle(entry: Entry, full: QResult): void {
    entry.done = true;
    entry.result = full;
    if (entry.opcode === Opcode.CONNECT || entry.opcode === Opcode.ACCEPT)
      this.onSettled?.(entry.qd, entry.opcode, full);
    this.#handTo(entry);
  }

  #settleDeferred(entry: Entry): void {
    entry.done = true;
    if (entry.opcode === Opcode.CONNECT || entry.opcode === Opcode.ACCEPT)
      this.onSettled?.(entry.qd, entry.opcode, {
        opcode: entry.outcome,
        qd: entry.qd,
        ret: entry.ret,
      });
    this.#handTo(entry);
  }

  /** Hands a completed entry's result to its waiter, or queues the entry as unclaimed. */
  #handTo(entry: Entry): void {
    const waiter = entry.waiter ?? this.anyWaiter;
    if (waiter !== undefined) {
      this.#entries.delete(entry.sequence);
      const result = this.#takeResult(entry);
      entry.waiter = undefined;
      this.#recycle(entry);
      waiter.deliver(result);
    } else {
      this.#unclaimed[this.#tail++] = entry;
    }
  }

  /**
   * The result of a completed entry, made now if it was recorded without one;
   * the entry keeps no reference to it (an entry outlives many scavenges, and
   * what an old object points to survives them).
   */
  #takeResult(entry: Entry): QResult {
    const result = entry.result;
    if (result !== undefined) {
      entry.result = undefined;
      return result;
    }
    const qt = this.#base + entry.sequence;
    const maker = entry.maker;
    if (maker === undefined) return { opcode: entry.outcome, qd: entry.qd, qt, ret: entry.ret };
    const sga = maker.sgaOf(entry.buffer!, entry.offset, entry.length);
    entry.maker = undefined;
    entry.buffer = undefined;
    return { opcode: entry.outcome, qd: entry.qd, qt, ret: entry.ret, sga };
  }

  /**
   * Completes every pending operation on `qd` as FAILED with `errno`
   * (ECANCELED on close). Closing a descriptor is one walk over the whole
   * table, so the walk is shared: descriptors closed one after another are
   * failed together, in a microtask, or at once when anything looks at one of
   * their operations, issues one on a reused descriptor, or takes results.
   */
  failAll(qd: QDesc, errno: number = ERRNO.ECANCELED): void {
    if (this.#closing.has(qd)) return;
    if (this.#closing.size === 0) queueMicrotask(this.#failClosingSoon);
    this.#closing.set(qd, errno);
  }

  failEverything(errno: number = ERRNO.ECANCELED): void {
    this.#failClosing();
    for (const entry of this.#entries.filter((e) => !e.done)) this.#failPending(entry, errno);
  }

  /** Fails the pending operations of every descriptor failAll was given: one walk. */
  #failClosing(): void {
    const closing = this.#closing;
    if (closing.size === 0) return;
    this.#closing = new Map();
    // Only the matching entries are copied out (completing one changes the index).
    for (const entry of this.#entries.filter((e) => !e.done && closing.has(e.qd)))
      this.#failPending(entry, closing.get(entry.qd)!);
  }

  readonly #failClosingSoon = (): void => this.#failClosing();

  #failPending(entry: Entry, errno: number): void {
    // Completing an earlier one may have handed this entry out and reused it.
    const qt = this.#base + entry.sequence;
    this.complete(qt, { opcode: Opcode.FAILED, ret: errno });
  }

  /** The entry of a token this LibOS issued and nobody has consumed, or a DemiError. */
  entry(qt: unknown, syscall: string): Entry {
    if (typeof qt !== 'number' || !Number.isSafeInteger(qt) || qt <= 0) {
      throw new DemiError('EINVAL', `not a queue token: ${describe(qt)}`, { syscall });
    }
    const sequence = qt - this.#base;
    if (sequence <= 0 || sequence >= this.#span) {
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
    if (entry === undefined || !entry.done) return undefined;
    this.#entries.delete(entry.sequence);
    // A completed entry in the table is always in the unclaimed queue.
    entry.taken = true;
    const result = this.#takeResult(entry);
    if (++this.#stale > STALE_SLACK && this.#stale * 2 > this.#tail - this.#head) this.#compact();
    return result;
  }

  /** Completed results in the unclaimed queue not yet taken (by name or by takeUnclaimed). */
  get unclaimed(): number {
    this.#failClosing();
    return this.#tail - this.#head - this.#stale;
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
    // Closed descriptors' failures join the queue first, unless a waitNextN waiter (the
    // caller, then) would be handed them in the middle of this: the microtask does that.
    if (this.anyWaiter === undefined) this.#failClosing();
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
      out[count++] = this.#takeResult(entry);
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
    const entry = this.#entries.get(qt - this.#base);
    if (
      entry === undefined ||
      this.#closing.size === 0 ||
      entry.done ||
      !this.#closing.has(entry.qd)
    )
      return entry;
    // An operation of a closed descriptor: failed now (its entry may have gone to a waiter).
    this.#failClosing();
    return this.#entries.get(qt - this.#base);
  }

  /** Keeps a spent entry (in neither the index nor the unclaimed queue) for reuse. */
  #recycle(entry: Entry): void {
    if (this.#pool.length < POOL_MAX) this.#pool.push(entry);
  }

  get size(): number {
    this.#failClosing();
    return this.#entries.size;
  }
}
