/**
 * Every timer of a stack lives in one binary min-heap. A `Timer` is allocated
 * once by its owner (a connection has a few) and re-armed in place, so arming
 * and cancelling on the per-packet path allocates nothing.
 */
export class Timer {
  /** Absolute deadline (ms), Infinity when not armed. */
  at = Number.POSITIVE_INFINITY;
  /** Position in the heap, -1 when not armed. */
  index = -1;

  /** Counted in the heap's `holding` while armed. */
  counted = false;

  /**
   * @param holds whether the timer carries work owed to a peer (a retransmission,
   *   a probe), asked when it is armed: while one is armed the stack must run even
   *   with no wait outstanding.
   */
  constructor(
    readonly fire: (now: number) => void,
    readonly holds: boolean | (() => boolean) = false,
  ) {}

  get armed(): boolean {
    return this.index >= 0;
  }
}

/** Most timers one `runDue` call fires, so a timer that keeps re-arming in the past cannot spin forever. */
const MAX_FIRES_PER_RUN = 100_000;

export class TimerHeap {
  readonly #heap: Timer[] = [];
  #holding = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** Armed timers that carry work owed to a peer. */
  get holding(): number {
    return this.#holding;
  }

  /** Arms (or re-arms) `timer` for absolute time `at`. */
  set(timer: Timer, at: number): void {
    if (timer.index >= 0) {
      const old = timer.at;
      timer.at = at;
      if (at < old) this.#up(timer.index);
      else if (at > old) this.#down(timer.index);
      return;
    }
    timer.at = at;
    timer.index = this.#heap.length;
    const holds = timer.holds;
    timer.counted = typeof holds === 'function' ? holds() : holds;
    if (timer.counted) this.#holding++;
    this.#heap.push(timer);
    this.#up(timer.index);
  }

  /** Arms `timer` for `at` unless it is already armed for earlier. */
  setIfEarlier(timer: Timer, at: number): void {
    if (timer.index < 0 || at < timer.at) this.set(timer, at);
  }

  cancel(timer: Timer): void {
    const i = timer.index;
    if (i < 0) return;
    const last = this.#heap.pop()!;
    if (last !== timer) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    timer.index = -1;
    timer.at = Number.POSITIVE_INFINITY;
    if (timer.counted) this.#holding--;
    timer.counted = false;
  }

  /** The earliest deadline, or undefined when nothing is armed. */
  nextAt(): number | undefined {
    return this.#heap.length === 0 ? undefined : this.#heap[0]!.at;
  }

  /** Fires every timer due at `now` (earliest first); returns how many fired. */
  runDue(now: number): number {
    let fired = 0;
    while (this.#heap.length > 0 && fired < MAX_FIRES_PER_RUN) {
      const top = this.#heap[0]!;
      if (top.at > now) break;
      this.cancel(top);
      fired++;
      top.fire(now);
    }
    return fired;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.at <= t.at) break;
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = t;
    t.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.at < heap[l]!.at ? r : l;
      const child = heap[c]!;
      if (child.at >= t.at) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = t;
    t.index = i;
  }
}
