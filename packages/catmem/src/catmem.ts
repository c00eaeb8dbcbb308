import {
  BaseLibOS,
  type Capability,
  DemiError,
  ERRNO,
  Opcode,
  PopPool,
  type QDesc,
  type QToken,
  type Sga,
  sgaBytes,
} from '@demi/core';
import {
  assertDirectory,
  assertRingSize,
  type CatmemOptions,
  DEFAULT_RING_SIZE,
} from './config.js';
import { type CatmemNative, native, nativeError } from './native.js';
import { PipeEnd } from './pipe-end.js';
import { completePop, drainPushes } from './ring-ops.js';

/** Per instance not yet shut down: closes its ends (EOF, unlink) if the process exits first. */
const live = new Set<() => void>();
let exitHooked = false;

function closeAllAtExit(): void {
  for (const close of live) close();
  live.clear();
}

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['pipe', 'multiprocess']);
const EOF_SGA: Sga = { segments: [] };
/** How often idle ends give ring memory back (see End::Trim). */
const TRIM_EVERY_MS = 1000;

/**
 * Pipes between processes over POSIX shared memory: each pipe is two
 * single-producer/single-consumer rings of messages. A push or pop is one call
 * into native code that completes inline whenever the ring allows; waiting
 * spins, yields, then sleeps on a process-shared futex.
 */
export class Catmem extends BaseLibOS {
  readonly name = 'catmem';
  readonly capabilities = CAPABILITIES;
  /** Ring size of the pipes this instance creates (openPipe takes the creator's). */
  readonly ringSize: number;
  readonly directory: string | undefined;

  readonly #native: CatmemNative;
  readonly #ctx: number;
  readonly #ends = new Map<QDesc, PipeEnd>();
  /** Ends with pending operations: the only ones poll looks at. */
  readonly #busy = new Set<PipeEnd>();
  #staging = new Uint8Array(0);
  /** Memory of freed pops, for the next ones (sgafree). */
  readonly #pool = new PopPool();
  readonly #trimTimer: ReturnType<typeof setInterval>;
  #nextQd = 1;

  constructor(options: CatmemOptions = {}) {
    super();
    this.ringSize =
      options.ringSize === undefined ? DEFAULT_RING_SIZE : assertRingSize(options.ringSize);
    this.directory = assertDirectory(options.directory);
    this.#native = native();
    this.#ctx = this.#native.newContext(() => this.progress());
    this.#trimTimer = setInterval(() => {
      this.#native.trim(this.#ctx);
      this.#pool.trimIdle();
    }, TRIM_EVERY_MS);
    this.#trimTimer.unref();
    live.add(this.#closeAtExit);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', closeAllAtExit);
    }
  }

  // ---- pipes --------------------------------------------------------------

  protected override doCreatePipe(name: string): QDesc {
    let handle: number;
    try {
      handle = this.#native.create(this.#ctx, name, this.ringSize, this.directory);
    } catch (err) {
      throw nativeError(err, 'createPipe');
    }
    return this.#adopt(handle, name);
  }

  protected override doOpenPipe(name: string): QDesc {
    let handle: number;
    try {
      handle = this.#native.open(this.#ctx, name, this.directory);
    } catch (err) {
      throw nativeError(err, 'openPipe');
    }
    return this.#adopt(handle, name);
  }

  #adopt(handle: number, name: string): QDesc {
    const [ringSize, maxMessage, side] = this.#native.info(handle);
    if (this.#staging.byteLength < maxMessage) {
      // Pops land here first: one buffer, as large as the largest record.
      this.#staging = new Uint8Array(maxMessage);
      this.#native.setStaging(this.#ctx, this.#staging.buffer as ArrayBuffer);
    }
    const qd = this.#nextQd++;
    this.#ends.set(qd, new PipeEnd(qd, handle, name, side, ringSize, maxMessage));
    return qd;
  }

  #end(qd: QDesc, syscall: string): PipeEnd {
    const end = this.#ends.get(qd);
    if (end === undefined)
      throw new DemiError('EBADF', `no open pipe with queue descriptor ${qd}`, { syscall });
    if (end.closeQt !== undefined)
      throw new DemiError('EBADF', `pipe ${qd} is being closed`, { syscall });
    return end;
  }

  /** The pipe behind a queue descriptor: its name, side and sizes. */
  pipeInfo(qd: QDesc): {
    name: string;
    side: 'creator' | 'opener';
    ringSize: number;
    maxMessage: number;
  } {
    const end = this.#ends.get(qd);
    if (end === undefined)
      throw new DemiError('EBADF', `no open pipe with queue descriptor ${qd}`, {
        syscall: 'pipeInfo',
      });
    return {
      name: end.name,
      side: end.side === 0 ? 'creator' : 'opener',
      ringSize: end.ringSize,
      maxMessage: end.maxMessage,
    };
  }

  // ---- data ---------------------------------------------------------------

  protected override doPush(qd: QDesc, sga: Sga): QToken {
    const end = this.#end(qd, 'push');
    const data = sga.segments.length === 1 ? sga.segments[0]! : sgaBytes(sga);
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    let offset = 0;
    if (end.pushes.length === 0) {
      const r = this.#native.push(end.handle, data);
      if (r === data.byteLength) {
        this.tokens.completeBare(qt, Opcode.PUSH, 0);
        return qt;
      }
      if (r < 0) {
        this.tokens.completeBare(qt, Opcode.FAILED, -r);
        return qt;
      }
      offset = r;
    }
    end.pushes.push({ qt, data, offset });
    this.#busy.add(end);
    return qt;
  }

  protected override doPop(qd: QDesc, size: number): QToken {
    const end = this.#end(qd, 'pop');
    const qt = this.tokens.issue(qd, Opcode.POP);
    if (end.pops.length === 0 && this.#popNow(end, qt, size)) return qt;
    end.pops.push({ qt, size });
    this.#busy.add(end);
    return qt;
  }

  /** One pop attempt; false when nothing is there yet. */
  #popNow(end: PipeEnd, qt: QToken, size: number): boolean {
    const r = this.#native.pop(end.handle, size, this.#pool.spare);
    return completePop(this.tokens, qt, r, this.#staging, EOF_SGA, this.#pool);
  }

  /** Moves one end's pending work forward; true if anything completed. */
  #advance(end: PipeEnd): boolean {
    let progressed = drainPushes(this.tokens, this.#native, end.handle, end.pushes);
    while (end.pops.length > 0 && this.#popNow(end, end.pops[0]!.qt, end.pops[0]!.size)) {
      end.pops.shift();
      progressed = true;
    }
    if (end.closeQt !== undefined && end.pushes.length === 0) {
      this.#finishClose(end);
      progressed = true;
    }
    if (end.idle) this.#busy.delete(end);
    return progressed;
  }

  protected poll(timeoutMs: number, _sync: boolean): void {
    if (this.#busy.size === 0) return;
    if (timeoutMs > 0 && this.#busy.size === 1 && !this.isShutdown) {
      // The common waitSync case, one pipe with only pops pending: pop, wait
      // and pop again in a single native call.
      const [end] = this.#busy as unknown as [PipeEnd];
      const head = end.pops[0];
      if (head !== undefined && end.pushes.length === 0 && end.closeQt === undefined) {
        const r = this.#native.popWait(end.handle, head.size, timeoutMs, this.#pool.spare);
        if (completePop(this.tokens, head.qt, r, this.#staging, EOF_SGA, this.#pool)) {
          end.pops.shift();
          this.#advance(end);
        }
        return;
      }
    }
    let progressed = false;
    for (const end of this.#busy) if (this.#advance(end)) progressed = true;
    if (progressed || timeoutMs <= 0 || this.isShutdown) return;
    this.#native.sleep(this.#ctx, timeoutMs);
    for (const end of this.#busy) this.#advance(end);
  }

  // ---- memory ---------------------------------------------------------------

  protected override doSgaalloc(size: number): Sga {
    return this.#pool.issue(super.doSgaalloc(size).segments);
  }

  /** The memory of a freed pop may back a later pop: do not read it after sgafree. */
  protected override doSgafree(sga: Sga): void {
    this.#pool.free(sga);
  }

  // ---- waiting --------------------------------------------------------------

  // Every blocking poll here spins on the rings natively first, then sleeps on
  // the futex (see poll): waitSync adds no spinning of its own.
  protected override readonly syncSpinMs = 0;

  protected override setWakeups(active: boolean): void {
    if (this.isShutdown) return;
    try {
      this.#native.setWakeups(this.#ctx, active);
    } catch (err) {
      // e.g. ENOSPC: the wake-up FIFO could not be made in /dev/shm.
      throw nativeError(err, 'wait');
    }
  }

  // ---- closing ------------------------------------------------------------

  protected override doClose(qd: QDesc): void {
    const end = this.#ends.get(qd);
    if (end === undefined)
      throw new DemiError('EBADF', `no open pipe with queue descriptor ${qd}`, {
        syscall: 'close',
      });
    this.#release(end);
    this.tokens.failAll(qd);
  }

  protected override doAsyncClose(qd: QDesc): QToken {
    const end = this.#end(qd, 'asyncClose');
    end.closeQt = this.tokens.issue(qd, Opcode.CLOSE);
    const qt = end.closeQt;
    if (end.pushes.length === 0) this.#finishClose(end);
    else this.#busy.add(end);
    return qt;
  }

  #finishClose(end: PipeEnd): void {
    const qt = end.closeQt!;
    this.#release(end);
    for (const p of end.pops.splice(0))
      this.tokens.complete(p.qt, { opcode: Opcode.FAILED, ret: ERRNO.ECANCELED });
    this.tokens.complete(qt, { opcode: Opcode.CLOSE, ret: 0 });
  }

  #release(end: PipeEnd): void {
    this.#ends.delete(end.qd);
    this.#busy.delete(end);
    this.#native.close(end.handle);
  }

  readonly #closeAtExit = (): void => this.#native.destroyContext(this.#ctx);

  protected override doShutdown(): void {
    if (live.delete(this.#closeAtExit)) this.#native.destroyContext(this.#ctx);
    this.#ends.clear();
    this.#busy.clear();
    clearInterval(this.#trimTimer);
    this.#staging = new Uint8Array(0);
    this.#pool.clear();
  }
}
