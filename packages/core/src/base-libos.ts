import { Adopt } from './adopt.js';
import { AF_INET, Opcode, SOCK_DGRAM, SOCK_STREAM } from './constants.js';
import { DemiError } from './errors.js';
import { NextWaiter } from './next-waiter.js';
import { SocketRules } from './socket-rules.js';
import { TokenTable, type Waiter } from './token-table.js';
import type {
  Capability,
  LibOS,
  QDesc,
  QResult,
  QToken,
  Sga,
  SocketAddress,
  SockoptValue,
  WaitAnyResult,
} from './types.js';
import {
  assertAddress,
  assertInteger,
  assertPopSize,
  assertQd,
  assertSga,
  assertTimeout,
  describe,
  MAX_SGA_SIZE,
} from './validate.js';

/** How long waitSync spins on non-blocking polls, by default, before it lets the backend block briefly. */
const SPIN_BEFORE_BLOCKING_MS = 0.2;
/** The longest one blocking poll inside waitSync may last, so its deadline is kept. */
const SYNC_BLOCK_MS = 1;
/** How long one slice of polling may hold the event loop in a polled backend. */
const POLL_SLICE_MS = 0.5;
/** How long async waits may hand out ready results before the event loop must turn. */
const READY_SLICE_MS = 2;
/**
 * The most results one waitNextN hands out. A batch lives until the caller
 * has handled it and its next batch is made, and V8 grows its young
 * generation by the bytes that survive scavenges: 256 results of a 64-byte
 * echo server (~40 KiB, two batches alive at once) doubled it every few
 * seconds at a high message rate, where 64 (~10 KiB) does not. Fewer per
 * call costs nothing measurable: one promise per 64 messages.
 */
const NEXT_N_MAX = 64;
const PIPE_NAME = /^[A-Za-z0-9._:-]{1,200}$/;
/** Node's global `performance` is a getter on globalThis: read once, not on every clock read of a poll loop. */
const perf = performance;

/**
 * Everything a LibOS shares: argument checks, the token table, and the wait
 * engine. A backend implements the `do*` operations it supports (the rest throw
 * ENOTSUP), `poll()` to make progress, and says how async waits sleep.
 */
export abstract class BaseLibOS implements LibOS {
  abstract readonly name: string;
  abstract readonly capabilities: ReadonlySet<Capability>;

  protected readonly tokens = new TokenTable();
  readonly #rules = new SocketRules();
  readonly #next = new NextWaiter(this.tokens, () => this.#waiterGone());
  #asyncWaiters = 0;
  #sleeping = false;
  #timer: NodeJS.Timeout | undefined;
  /** When `#timer` fires (perf.now() ms) and whether it holds the process, to skip needless re-arming. */
  #timerDue = 0;
  #timerHolds = false;
  #sliceScheduled = false;
  /** When async waits started handing out ready results with the event loop not turning since (-1: it has). */
  #readySince = -1;
  #closed = false;

  constructor() {
    this.tokens.onSettled = (qd, issued, result) => this.#rules.settled(qd, issued, result);
  }

  // ---- what a backend provides -------------------------------------------

  /**
   * Makes progress and completes tokens; may block up to `timeoutMs` (0: never
   * block). `sync` is true inside waitSync/waitAnySync, where the caller has
   * chosen to spend this thread on the wait (a backend may spin natively).
   */
  protected abstract poll(timeoutMs: number, sync: boolean): void;

  /**
   * Whether an async wait polls once before it sleeps. A backend whose
   * operations finish inside the call that issued them whenever they can, and
   * whose wake-up source fires for anything that became ready since, sets this
   * false and saves a poll per wait.
   */
  protected readonly pollBeforeSleep: boolean = true;

  /**
   * How long waitSync polls without blocking before it lets the backend block
   * (up to 1 ms at a time). Backends whose blocking poll spins natively first
   * (shared-memory rings) set 0: on a machine where the peer shares this core,
   * spinning here would only delay the peer.
   */
  protected readonly syncSpinMs: number = SPIN_BEFORE_BLOCKING_MS;

  /**
   * Starts or stops waking this LibOS while async waits are outstanding. A backend
   * with a file descriptor watches it on libuv and calls `progress()` when it is
   * ready (no CPU while idle). The default polls in short slices that yield to the
   * event loop, for devices that can only be polled.
   */
  protected setWakeups(active: boolean): void {
    if (active) this.#scheduleSlice();
  }

  /** Milliseconds until the backend's next timer, if it has one (retransmits, keepalive). */
  protected nextTimerMs(): number | undefined {
    return undefined;
  }

  /**
   * Whether the backend's pending timers carry work owed to a peer (data or a
   * FIN not yet acknowledged). Then they run, and the LibOS wakes on its device,
   * with no wait outstanding and keep the process alive; other timers
   * (keepalive, TIME-WAIT) run only while something else keeps it alive.
   */
  protected timersHoldProcess(): boolean {
    return false;
  }

  protected doSocket(_domain: number, _type: number, _protocol: number): QDesc {
    throw this.unsupported('socket');
  }
  protected doBind(_qd: QDesc, _addr: SocketAddress): void {
    throw this.unsupported('bind');
  }
  protected doListen(_qd: QDesc, _backlog: number): void {
    throw this.unsupported('listen');
  }
  protected doAccept(_qd: QDesc): QToken {
    throw this.unsupported('accept');
  }
  protected doConnect(_qd: QDesc, _addr: SocketAddress): QToken {
    throw this.unsupported('connect');
  }
  protected abstract doClose(qd: QDesc): void;
  protected doAsyncClose(qd: QDesc): QToken {
    this.doClose(qd);
    const qt = this.tokens.issue(qd, Opcode.CLOSE);
    this.tokens.complete(qt, { opcode: Opcode.CLOSE, ret: 0 });
    return qt;
  }
  protected abstract doPush(qd: QDesc, sga: Sga): QToken;
  protected doPushto(_qd: QDesc, _sga: Sga, _addr: SocketAddress): QToken {
    throw this.unsupported('pushto');
  }
  protected abstract doPop(qd: QDesc, size: number): QToken;
  protected doCreatePipe(_name: string): QDesc {
    throw this.unsupported('createPipe');
  }
  protected doOpenPipe(_name: string): QDesc {
    throw this.unsupported('openPipe');
  }
  protected doSetsockopt(_qd: QDesc, _level: number, _name: number, _value: SockoptValue): void {
    throw this.unsupported('setsockopt');
  }
  protected doGetsockopt(_qd: QDesc, _level: number, _name: number): SockoptValue {
    throw this.unsupported('getsockopt');
  }
  protected doGetpeername(_qd: QDesc): SocketAddress {
    throw this.unsupported('getpeername');
  }
  protected doGetsockname(_qd: QDesc): SocketAddress {
    throw this.unsupported('getsockname');
  }
  protected doSgaalloc(size: number): Sga {
    return { segments: [new Uint8Array(size)] };
  }
  protected doSgafree(_sga: Sga): void {}
  protected abstract doShutdown(): Promise<void> | void;

  protected unsupported(syscall: string): DemiError {
    return new DemiError(
      'ENOTSUP',
      `${this.name} does not support ${syscall} (capabilities: ${[...this.capabilities].join(', ') || 'none'})`,
      { syscall },
    );
  }

  // ---- the contract: validate, then hand to the backend -------------------

  socket(domain: number, type: number, protocol = 0): QDesc {
    this.#live('socket');
    assertInteger(domain, 'domain', 'socket', 0, 0xffff);
    assertInteger(type, 'type', 'socket', 0, 0xffff);
    assertInteger(protocol, 'protocol', 'socket', 0, 0xffff);
    if (domain !== AF_INET)
      throw new DemiError(
        'ENOTSUP',
        `only AF_INET (${AF_INET}) sockets are supported, got domain ${domain}`,
        { syscall: 'socket' },
      );
    if (type === SOCK_STREAM && !this.capabilities.has('tcp'))
      throw new DemiError('ENOTSUP', `${this.name} has no stream (TCP) sockets`, {
        syscall: 'socket',
      });
    if (type === SOCK_DGRAM && !this.capabilities.has('udp'))
      throw new DemiError('ENOTSUP', `${this.name} has no datagram (UDP) sockets`, {
        syscall: 'socket',
      });
    if (type !== SOCK_STREAM && type !== SOCK_DGRAM)
      throw new DemiError('ENOTSUP', `socket type ${type} is not SOCK_STREAM or SOCK_DGRAM`, {
        syscall: 'socket',
      });
    const qd = this.doSocket(domain, type, protocol);
    this.#rules.opened(qd, type);
    return qd;
  }

  bind(qd: QDesc, addr: SocketAddress): void {
    this.#live('bind');
    assertQd(qd, 'bind');
    const address = assertAddress(addr, 'bind');
    this.#rules.beforeBind(qd, address);
    this.doBind(qd, address);
    this.#rules.bound(qd, address);
  }

  listen(qd: QDesc, backlog: number): void {
    this.#live('listen');
    assertQd(qd, 'listen');
    assertInteger(backlog, 'backlog', 'listen', 0, 65535);
    this.#rules.beforeListen(qd);
    this.doListen(qd, backlog);
    this.#rules.listening(qd);
  }

  accept(qd: QDesc): QToken {
    this.#live('accept');
    this.#rules.beforeAccept(assertQd(qd, 'accept'));
    return this.doAccept(qd);
  }

  connect(qd: QDesc, addr: SocketAddress): QToken {
    this.#live('connect');
    assertQd(qd, 'connect');
    const address = assertAddress(addr, 'connect', false);
    const before = this.#rules.beforeConnect(qd);
    let qt: QToken;
    try {
      qt = this.doConnect(qd, address);
    } catch (err) {
      this.#rules.connectThrew(qd, before);
      throw err;
    }
    this.#armTimer();
    return qt;
  }

  close(qd: QDesc): void {
    this.#live('close');
    this.doClose(assertQd(qd, 'close'));
    this.#rules.closed(qd);
    this.#armTimer();
  }

  asyncClose(qd: QDesc): QToken {
    this.#live('asyncClose');
    const qt = this.doAsyncClose(assertQd(qd, 'asyncClose'));
    this.#rules.closed(qd);
    this.#armTimer();
    return qt;
  }

  push(qd: QDesc, sga: Sga): QToken {
    this.#live('push');
    assertQd(qd, 'push');
    const data = assertSga(sga, 'push', true);
    this.#rules.beforeTransfer(qd, 'push');
    const qt = this.doPush(qd, data);
    this.#armTimer();
    return qt;
  }

  pushto(qd: QDesc, sga: Sga, addr: SocketAddress): QToken {
    this.#live('pushto');
    assertQd(qd, 'pushto');
    const data = assertSga(sga, 'pushto', true);
    const address = assertAddress(addr, 'pushto', false);
    this.#rules.beforeTransfer(qd, 'pushto');
    const qt = this.doPushto(qd, data, address);
    this.#rules.autobound(qd);
    this.#armTimer();
    return qt;
  }

  pop(qd: QDesc, size?: number): QToken {
    this.#live('pop');
    assertQd(qd, 'pop');
    const max = assertPopSize(size, 'pop');
    this.#rules.beforeTransfer(qd, 'pop');
    return this.doPop(qd, max);
  }

  sgaalloc(size: number): Sga {
    this.#live('sgaalloc');
    return this.doSgaalloc(assertInteger(size, 'size', 'sgaalloc', 1, MAX_SGA_SIZE));
  }

  sgafree(sga: Sga): void {
    assertSga(sga, 'sgafree');
    if (FreedSga.by(sga) === this)
      throw new DemiError('EINVAL', 'sga was already freed', { syscall: 'sgafree' });
    FreedSga.mark(sga, this);
    this.doSgafree(sga);
  }

  createPipe(name: string): QDesc {
    this.#live('createPipe');
    if (!this.capabilities.has('pipe')) throw this.unsupported('createPipe');
    const qd = this.doCreatePipe(assertPipeName(name, 'createPipe'));
    this.#rules.openedPipe(qd);
    return qd;
  }

  openPipe(name: string): QDesc {
    this.#live('openPipe');
    if (!this.capabilities.has('pipe')) throw this.unsupported('openPipe');
    const qd = this.doOpenPipe(assertPipeName(name, 'openPipe'));
    this.#rules.openedPipe(qd);
    return qd;
  }

  setsockopt(qd: QDesc, level: number, name: number, value: SockoptValue): void {
    this.#live('setsockopt');
    this.#rules.check(assertQd(qd, 'setsockopt'), 'setsockopt');
    assertInteger(level, 'level', 'setsockopt', 0, 0xffff);
    assertInteger(name, 'name', 'setsockopt', 0, 0xffff);
    const ok =
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) ||
      (typeof value === 'object' &&
        value !== null &&
        typeof value.onoff === 'boolean' &&
        Number.isInteger(value.linger) &&
        value.linger >= 0 &&
        value.linger <= 0xffff);
    if (!ok)
      throw new DemiError(
        'EINVAL',
        `option value must be a boolean, a non-negative integer or {onoff, linger}, got ${describe(value)}`,
        { syscall: 'setsockopt' },
      );
    this.doSetsockopt(qd, level, name, value);
  }

  getsockopt(qd: QDesc, level: number, name: number): SockoptValue {
    this.#live('getsockopt');
    this.#rules.check(assertQd(qd, 'getsockopt'), 'getsockopt');
    assertInteger(level, 'level', 'getsockopt', 0, 0xffff);
    assertInteger(name, 'name', 'getsockopt', 0, 0xffff);
    return this.doGetsockopt(qd, level, name);
  }

  getpeername(qd: QDesc): SocketAddress {
    this.#live('getpeername');
    this.#rules.check(assertQd(qd, 'getpeername'), 'getpeername');
    return this.doGetpeername(qd);
  }

  getsockname(qd: QDesc): SocketAddress {
    this.#live('getsockname');
    this.#rules.check(assertQd(qd, 'getsockname'), 'getsockname');
    return this.doGetsockname(qd);
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.tokens.failEverything();
    this.#rules.clear();
    this.#stopSleeping();
    await this.doShutdown();
  }

  get isShutdown(): boolean {
    return this.#closed;
  }

  // ---- waiting ------------------------------------------------------------

  wait(qt: QToken, timeoutMs?: number): Promise<QResult> {
    // waitAny([qt]) minus its {index, result} and the promise that unwraps it:
    // this runs once per operation.
    try {
      const timeout = assertTimeout(timeoutMs, 'wait');
      const ready = this.#takeChecked(qt, 'wait');
      if (ready !== undefined) return this.#handOut(ready);
      if (this.pollBeforeSleep) {
        this.poll(0, false);
        const afterPoll = this.tokens.take(qt);
        if (afterPoll !== undefined) {
          this.#armTimer();
          return this.#handOut(afterPoll);
        }
      }
      return this.#sleepOn([qt], timeout, true) as Promise<QResult>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  waitAny(qts: readonly QToken[], timeoutMs?: number): Promise<WaitAnyResult> {
    try {
      const timeout = assertTimeout(timeoutMs, 'wait');
      assertTokenList(qts, timeout, 'wait');
      const ready = this.#scan(qts, 'wait');
      if (ready !== undefined) return this.#handOut(ready);
      if (this.pollBeforeSleep) {
        this.poll(0, false);
        const afterPoll = this.#takeFirst(qts);
        if (afterPoll !== undefined) {
          this.#armTimer();
          return this.#handOut(afterPoll);
        }
      }
      return this.#sleepOn(qts, timeout, false) as Promise<WaitAnyResult>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Resolves an async wait whose result is ready now. A loop awaiting waits that
   * are always ready would never return to the event loop, starving timers, I/O
   * and signals: once such hand-outs have gone on for READY_SLICE_MS without the
   * loop turning, the next result is handed out from setImmediate instead.
   */
  #handOut<T>(result: T): Promise<T> {
    if (this.#readySince < 0) {
      this.#readySince = perf.now();
      // Runs once the loop reaches its check phase, i.e. the chain has yielded.
      setImmediate(this.#loopTurned);
      return Promise.resolve(result);
    }
    if (perf.now() - this.#readySince < READY_SLICE_MS) return Promise.resolve(result);
    return new Promise((resolve) => setImmediate(resolve, result));
  }

  readonly #loopTurned = (): void => {
    this.#readySince = -1;
  };

  /**
   * Registers one async waiter on `qts` and sleeps until one completes or the
   * timeout; resolves the bare result when `bare`, else {index, result}.
   */
  #sleepOn(
    qts: readonly QToken[],
    timeout: number | undefined,
    bare: boolean,
  ): Promise<WaitAnyResult | QResult> {
    return new Promise<WaitAnyResult | QResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        for (const qt of qts) this.tokens.setWaiter(qt, undefined);
        if (timer !== undefined) clearTimeout(timer);
        this.#waiterGone();
      };
      const waiter: Waiter = {
        deliver: (result) => {
          finish();
          resolve(bare ? result : { index: qts.indexOf(result.qt), result });
          return true;
        },
      };
      for (const qt of qts) this.tokens.setWaiter(qt, waiter);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(
            new DemiError(
              'ETIMEDOUT',
              `no completion within ${timeout} ms; the token${qts.length > 1 ? 's remain' : ' remains'} valid`,
              { syscall: 'wait' },
            ),
          );
        }, timeout);
      }
      this.#waiterAdded();
    });
  }

  waitNextN(n: number, timeoutMs?: number): Promise<QResult[]> {
    try {
      assertInteger(n, 'n', 'waitNextN', 1, 1 << 20);
      const timeout = assertTimeout(timeoutMs, 'waitNextN');
      if (this.tokens.anyWaiter !== undefined)
        throw new DemiError('EINVAL', 'another waitNextN is already outstanding', {
          syscall: 'waitNextN',
        });
      const most = Math.min(n, NEXT_N_MAX);
      // Enough completions queued already: hand them out without a poll.
      if (this.pollBeforeSleep && this.tokens.unclaimed < most) this.poll(0, false);
      const ready = this.tokens.takeUnclaimed(most);
      if (ready.length > 0) {
        this.#armTimer();
        return this.#handOut(ready);
      }
      const sleeping = this.#next.sleep(most, timeout);
      this.#waiterAdded();
      return sleeping;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  waitSync(qt: QToken, timeoutMs?: number): QResult {
    // Pushes and pops often complete inside the call that issued them: hand the
    // result out at once. take() only ever returns a completed result of this
    // table that no other wait holds, so it needs no further checks.
    const timeout = assertTimeout(timeoutMs, 'waitSync');
    const done = typeof qt === 'number' ? this.tokens.take(qt) : undefined;
    return done ?? this.waitAnySync([qt], timeout).result;
  }

  waitAnySync(qts: readonly QToken[], timeoutMs?: number): WaitAnyResult {
    const timeout = assertTimeout(timeoutMs, 'waitSync');
    assertTokenList(qts, timeout, 'waitSync');
    const start = perf.now();
    const deadline = timeout === undefined ? Number.POSITIVE_INFINITY : start + timeout;
    let polled = false;
    for (;;) {
      const ready = polled ? this.#takeFirst(qts) : this.#scan(qts, 'waitSync');
      if (ready !== undefined) {
        this.#armTimer();
        return ready;
      }
      const now = perf.now();
      // Always poll at least once: waitSync(qt, 0) is a non-blocking check.
      if (polled && now >= deadline) {
        throw new DemiError(
          'ETIMEDOUT',
          `no completion within ${timeout} ms; the token remains valid`,
          { syscall: 'waitSync' },
        );
      }
      // Spin first for the lowest latency; then let the backend block briefly so
      // two busy processes on one core do not starve each other.
      const blockMs =
        now - start < this.syncSpinMs ? 0 : Math.max(0, Math.min(SYNC_BLOCK_MS, deadline - now));
      this.poll(blockMs, true);
      polled = true;
    }
  }

  /** Backends call this when their wake-up source fires: polls and re-arms timers. */
  protected progress(): void {
    if (this.#closed) return;
    this.poll(0, false);
    this.#armTimer();
  }

  /**
   * Checks the tokens in order and hands out the first completed one: an
   * invalid token after it does not matter (as in Demikernel, which scans in
   * order); one before it is EINVAL.
   */
  #scan(qts: readonly QToken[], syscall: string): WaitAnyResult | undefined {
    for (let index = 0; index < qts.length; index++) {
      const result = this.#takeChecked(qts[index]!, syscall);
      if (result !== undefined) return { index, result };
    }
    return undefined;
  }

  /** Takes the token's result if it completed; EINVAL for a token that cannot be waited on. */
  #takeChecked(qt: QToken, syscall: string): QResult | undefined {
    const entry = this.tokens.entry(qt, syscall);
    if (entry.waiter !== undefined)
      throw new DemiError('EINVAL', `queue token ${qt} is already being waited on`, { syscall });
    return this.tokens.take(qt);
  }

  #takeFirst(qts: readonly QToken[]): WaitAnyResult | undefined {
    for (let index = 0; index < qts.length; index++) {
      const result = this.tokens.take(qts[index]!);
      if (result !== undefined) return { index, result };
    }
    return undefined;
  }

  #waiterAdded(): void {
    this.#asyncWaiters++;
    this.#armTimer();
  }

  #waiterGone(): void {
    this.#asyncWaiters--;
    if (this.#asyncWaiters === 0) this.#armTimer();
  }

  #stopSleeping(): void {
    this.#clearTimer();
    this.#setSleeping(false);
  }

  #setSleeping(on: boolean): void {
    if (on === this.#sleeping) return;
    this.#sleeping = on;
    this.setWakeups(on);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Keeps one libuv timer on the backend's next deadline whether or not a wait is
   * outstanding, so retransmissions and probes run after any operation. Work owed
   * to a peer also keeps the device's wake-up on (its ACKs are processed) and the
   * process alive; otherwise the timer is unref'd and the LibOS sleeps only for waits.
   */
  #armTimer(): void {
    if (this.#closed) return;
    const ms = this.nextTimerMs();
    const holds = ms !== undefined && this.timersHoldProcess();
    this.#setSleeping(this.#asyncWaiters > 0 || holds);
    if (ms === undefined) {
      this.#clearTimer();
      return;
    }
    const due = perf.now() + Math.max(0, ms);
    const ref = holds || this.#asyncWaiters > 0;
    if (this.#timer !== undefined && this.#timerHolds === ref && Math.abs(due - this.#timerDue) < 1)
      return;
    this.#clearTimer();
    this.#timerDue = due;
    this.#timerHolds = ref;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.progress();
      },
      Math.max(0, ms),
    );
    if (!ref) this.#timer.unref();
  }

  #scheduleSlice(): void {
    if (this.#sliceScheduled) return;
    this.#sliceScheduled = true;
    setImmediate(() => {
      this.#sliceScheduled = false;
      if (!this.#sleeping || this.#closed) return;
      const end = perf.now() + POLL_SLICE_MS;
      do this.poll(0, false);
      while (this.#sleeping && perf.now() < end);
      this.#armTimer();
      if (this.#sleeping) this.#scheduleSlice();
    });
  }

  #live(syscall: string): void {
    if (this.#closed) throw new DemiError('EBADF', `${this.name} has been shut down`, { syscall });
  }
}

/**
 * The token list of a wait: an array. An empty one waits for the timeout (as in
 * Demikernel), so without a timeout it would never return: EINVAL.
 */
function assertTokenList(qts: unknown, timeout: number | undefined, syscall: string): void {
  if (!Array.isArray(qts) || (qts.length === 0 && timeout === undefined)) {
    throw new DemiError(
      'EINVAL',
      `expected an array of queue tokens (empty only with a timeout), got ${describe(qts)}`,
      { syscall },
    );
  }
}

function assertPipeName(name: unknown, syscall: string): string {
  if (typeof name !== 'string' || !PIPE_NAME.test(name)) {
    throw new DemiError(
      'EINVAL',
      `pipe name must be 1-200 characters of [A-Za-z0-9._:-] (no '/'), got ${describe(name)}`,
      { syscall },
    );
  }
  return name;
}

/**
 * The LibOS that an sga was given back to: a private field on the sga (see
 * Adopt) rather than a WeakSet entry per freed pop, which every garbage
 * collection would have to trace.
 */
class FreedSga extends Adopt {
  #by: BaseLibOS | undefined;

  static by(sga: Sga): BaseLibOS | undefined {
    return #by in sga ? (sga as unknown as FreedSga).#by : undefined;
  }

  static mark(sga: Sga, libos: BaseLibOS): void {
    if (!(#by in sga)) new FreedSga(sga);
    (sga as unknown as FreedSga).#by = libos;
  }
}
