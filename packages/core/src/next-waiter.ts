import { DemiError } from './errors.js';
import type { TokenTable, Waiter } from './token-table.js';
import type { QResult } from './types.js';

type Settle<T> = (value: T) => void;

/**
 * The sleeping waitNextN of one LibOS (there is at most one): made once and
 * reused by every call, so a waitNextN that sleeps allocates its promise, and
 * a timer when it has a timeout, but no waiter object or closures of its own.
 */
export class NextWaiter implements Waiter {
  #resolve: Settle<QResult[]> | undefined;
  #reject: Settle<unknown> | undefined;
  #most = 0;
  #timeout = 0;
  #timer: NodeJS.Timeout | undefined;
  /** A delivery whose batch is made in the next microtask (see deliver). */
  #flushResolve: Settle<QResult[]> | undefined;
  #flushFirst: QResult | undefined;
  #flushMost = 0;

  constructor(
    private readonly tokens: TokenTable,
    /** Called when the wait ends, either way. */
    private readonly ended: () => void,
  ) {}

  /** Sleeps until a completion, then resolves with at most `most` results; ETIMEDOUT after `timeout` ms. */
  sleep(most: number, timeout: number | undefined): Promise<QResult[]> {
    const promise = new Promise<QResult[]>(this.#capture);
    this.#most = most;
    this.tokens.anyWaiter = this;
    if (timeout !== undefined) {
      this.#timeout = timeout;
      this.#timer = setTimeout(this.#timedOut, timeout);
    }
    return promise;
  }

  deliver(result: QResult): boolean {
    const resolve = this.#resolve!;
    const most = this.#most;
    this.#end();
    // Completions landing in the same poll are handed out together.
    if (this.#flushResolve === undefined) {
      this.#flushResolve = resolve;
      this.#flushFirst = result;
      this.#flushMost = most;
      queueMicrotask(this.#flush);
    } else {
      // A second waitNextN made and woken before the first one's batch was made.
      queueMicrotask(() => resolve(this.tokens.takeUnclaimed(most, result)));
    }
    return true;
  }

  readonly #capture = (resolve: Settle<QResult[]>, reject: Settle<unknown>): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  readonly #flush = (): void => {
    const resolve = this.#flushResolve!;
    const first = this.#flushFirst;
    this.#flushResolve = undefined;
    this.#flushFirst = undefined;
    resolve(this.tokens.takeUnclaimed(this.#flushMost, first));
  };

  readonly #timedOut = (): void => {
    const reject = this.#reject!;
    this.#timer = undefined;
    this.#end();
    reject(
      new DemiError('ETIMEDOUT', `no completion within ${this.#timeout} ms`, {
        syscall: 'waitNextN',
      }),
    );
  };

  #end(): void {
    this.tokens.anyWaiter = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.ended();
  }
}
