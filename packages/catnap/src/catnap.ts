import {
  BaseLibOS,
  type Capability,
  DemiError,
  ERRNO,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Opcode,
  type QDesc,
  type QToken,
  type Sga,
  SO_LINGER,
  SOCK_STREAM,
  SOL_SOCKET,
  type SocketAddress,
  type SockoptValue,
} from '@demi/core';
import { endpointToAddress, ipv4ToInt } from './address.js';
import { loadAddon, type NativeEngine, type SlabStats, toDemiError } from './native.js';
import { type CatnapOptions, resolveOptions } from './options.js';

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'tcp',
  'udp',
  'sockopt',
  'multiprocess',
]);

// Record slots (native/records.h).
const TOKEN = 0;
const OPCODE = 1;
const RET = 2;
const QD = 3;
const VALUE = 4;
const OFFSET = 5;
const SLAB = 6;
const ADDR = 7;

/**
 * A popped sga: its slab's generation sits in a private field, so sgafree can
 * tell catnap's own pops (and not copies of them) without a side table.
 */
class PoppedSga implements Sga {
  segments: Uint8Array[];
  /** Set on datagram pops only (no field on stream pops). */
  declare addr?: SocketAddress;
  readonly #view: Uint8Array;
  #generation: number | undefined;

  constructor(view: Uint8Array, generation: number) {
    this.segments = [view];
    this.#view = view;
    this.#generation = generation;
  }

  /** The slab generation of a popped sga still holding just its own view, once; else undefined. */
  static take(sga: Sga): number | undefined {
    if (!(#generation in sga)) return undefined;
    const popped = sga as PoppedSga;
    const generation = popped.#generation;
    popped.#generation = undefined;
    const intact = popped.segments.length === 1 && popped.segments[0] === popped.#view;
    return intact ? generation : undefined;
  }
}

/**
 * The kernel-socket LibOS: TCP and UDP over non-blocking Linux sockets and
 * epoll, in a native addon. Operations that can finish at once (a send the
 * kernel takes whole, a read with data waiting) complete inside the call that
 * issued them; the rest complete in batches, one native call per poll, through
 * a record buffer shared with the addon. Popped bytes are views into pooled
 * slabs the kernel reads straight into.
 */
export class Catnap extends BaseLibOS {
  readonly name = 'catnap';
  readonly capabilities = CAPABILITIES;

  readonly #engine: NativeEngine;
  readonly #records: Float64Array;
  readonly #slots: number;
  readonly #capacity: number;
  readonly #inWake: number;
  readonly #wantWakeups: number;
  readonly #popSize: number;
  #slab: ArrayBuffer | undefined;
  #slabGeneration = -1;
  // An async wait need not poll before it sleeps: operations that could finish
  // already did inside their call, and anything that became ready since leaves
  // the epoll fd readable, which wakes us on the next turn of the event loop.
  // Saves a native call and a system call per async wait.
  protected override readonly pollBeforeSleep = false;
  // Called from the addon when the epoll fd is readable, with the records it has
  // just harvested. Held here: the addon holds it weakly, so a forgotten Catnap
  // can be collected.
  readonly #onWake = (n: number): void => {
    if (this.isShutdown) return;
    this.#completed(n);
    // A full buffer: more may be ready. (progress() would also re-arm timers;
    // catnap has none, so after a partial batch there is nothing left to do.)
    if (n === this.#capacity) this.progress();
  };

  constructor(options: CatnapOptions = {}) {
    super();
    const { popSize, engine } = resolveOptions(options);
    const addon = loadAddon();
    this.#popSize = popSize;
    this.#slots = addon.RECORD_SLOTS;
    this.#capacity = addon.RECORD_CAPACITY;
    // Shared memory cannot be detached, so the addon may keep its address.
    this.#records = new Float64Array(new SharedArrayBuffer(addon.RECORD_ARRAY_LENGTH * 8));
    this.#inWake = addon.IN_WAKE;
    this.#wantWakeups = addon.WANT_WAKEUPS;
    // Slabs need no zero-filling: recv() writes every byte a pop hands out.
    const slabBytes = addon.SLAB_BYTES;
    const allocSlab = (): ArrayBuffer => Buffer.allocUnsafeSlow(slabBytes).buffer as ArrayBuffer;
    try {
      this.#engine = addon.createEngine(this.#onWake, this.#records, { ...engine, allocSlab });
    } catch (err) {
      throw toDemiError(err, 'init');
    }
  }

  /** Receive-slab pool counters, for tests and diagnostics (zeros after shutdown). */
  get slabStats(): SlabStats {
    return this.isShutdown
      ? { outstanding: 0, pooled: 0, returnedEarly: 0 }
      : this.#engine.slabStats();
  }

  /** Open sockets, including ones still finishing an asyncClose (for tests and tools). */
  get socketCount(): number {
    return this.isShutdown ? 0 : this.#engine.socketCount();
  }

  override pop(qd: QDesc, size?: number): QToken {
    return super.pop(qd, size ?? this.#popSize);
  }

  // ---- operations ---------------------------------------------------------

  protected override doSocket(_domain: number, type: number, protocol: number): QDesc {
    const expected = type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    if (protocol !== 0 && protocol !== expected) {
      throw new DemiError(
        'EPROTONOSUPPORT',
        `protocol ${protocol} does not go with socket type ${type}; use 0 or ${expected}`,
        { syscall: 'socket' },
      );
    }
    try {
      return this.#engine.socket(type);
    } catch (err) {
      throw toDemiError(err, 'socket');
    }
  }

  protected override doBind(qd: QDesc, addr: SocketAddress): void {
    try {
      this.#engine.bind(qd, ipv4ToInt(addr.address), addr.port);
    } catch (err) {
      throw toDemiError(err, 'bind');
    }
  }

  protected override doListen(qd: QDesc, backlog: number): void {
    try {
      this.#engine.listen(qd, backlog);
    } catch (err) {
      throw toDemiError(err, 'listen');
    }
  }

  protected override doAccept(qd: QDesc): QToken {
    const qt = this.tokens.issue(qd, Opcode.ACCEPT);
    try {
      this.#completed(this.#engine.accept(qd, qt));
    } catch (err) {
      throw this.#abandon(qt, err, 'accept');
    }
    return qt;
  }

  protected override doConnect(qd: QDesc, addr: SocketAddress): QToken {
    const qt = this.tokens.issue(qd, Opcode.CONNECT);
    try {
      this.#completed(this.#engine.connect(qd, qt, ipv4ToInt(addr.address), addr.port));
    } catch (err) {
      throw this.#abandon(qt, err, 'connect');
    }
    return qt;
  }

  protected override doClose(qd: QDesc): void {
    try {
      this.#engine.close(qd);
    } catch (err) {
      throw toDemiError(err, 'close');
    }
    this.tokens.failAll(qd);
  }

  protected override doAsyncClose(qd: QDesc): QToken {
    const qt = this.tokens.issue(qd, Opcode.CLOSE);
    try {
      this.#completed(this.#engine.asyncClose(qd, qt));
    } catch (err) {
      throw this.#abandon(qt, err, 'asyncClose');
    }
    return qt;
  }

  protected override doPush(qd: QDesc, sga: Sga): QToken {
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    const segments = sga.segments;
    try {
      this.#completed(this.#engine.push(qd, qt, segments.length === 1 ? segments[0]! : segments));
    } catch (err) {
      throw this.#abandon(qt, err, 'push');
    }
    return qt;
  }

  protected override doPushto(qd: QDesc, sga: Sga, addr: SocketAddress): QToken {
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    const segments = sga.segments;
    try {
      const data = segments.length === 1 ? segments[0]! : segments;
      this.#completed(this.#engine.pushto(qd, qt, data, ipv4ToInt(addr.address), addr.port));
    } catch (err) {
      throw this.#abandon(qt, err, 'pushto');
    }
    return qt;
  }

  protected override doPop(qd: QDesc, size: number): QToken {
    const qt = this.tokens.issue(qd, Opcode.POP);
    try {
      this.#completed(this.#engine.pop(qd, qt, size));
    } catch (err) {
      throw this.#abandon(qt, err, 'pop');
    }
    return qt;
  }

  protected override doSetsockopt(
    qd: QDesc,
    level: number,
    name: number,
    value: SockoptValue,
  ): void {
    let flag = 0;
    let seconds = 0;
    if (level === SOL_SOCKET && name === SO_LINGER) {
      if (typeof value !== 'object') {
        throw new DemiError('EINVAL', 'SO_LINGER takes {onoff: boolean, linger: seconds}', {
          syscall: 'setsockopt',
        });
      }
      flag = value.onoff ? 1 : 0;
      seconds = value.linger;
    } else if (typeof value === 'boolean') {
      flag = value ? 1 : 0;
    } else if (value === 0 || value === 1) {
      flag = value;
    } else if (isKnownFlag(level, name)) {
      throw new DemiError('EINVAL', 'this option takes a boolean', { syscall: 'setsockopt' });
    }
    // Unknown options reach the addon, which says EBADF or ENOPROTOOPT.
    try {
      this.#engine.setsockopt(qd, level, name, flag, seconds);
    } catch (err) {
      throw toDemiError(err, 'setsockopt');
    }
  }

  protected override doGetsockopt(qd: QDesc, level: number, name: number): SockoptValue {
    try {
      return this.#engine.getsockopt(qd, level, name);
    } catch (err) {
      throw toDemiError(err, 'getsockopt');
    }
  }

  protected override doGetpeername(qd: QDesc): SocketAddress {
    try {
      return endpointToAddress(this.#engine.peername(qd));
    } catch (err) {
      throw toDemiError(err, 'getpeername');
    }
  }

  protected override doGetsockname(qd: QDesc): SocketAddress {
    try {
      return endpointToAddress(this.#engine.sockname(qd));
    } catch (err) {
      throw toDemiError(err, 'getsockname');
    }
  }

  // Only an sga catnap popped, still holding its view, counts (core refuses
  // freeing it twice); anything else changes nothing. A slab whose views are
  // all freed goes back to the pool without waiting for V8 to collect them.
  protected override doSgafree(sga: Sga): void {
    const generation = PoppedSga.take(sga);
    if (generation === undefined || this.isShutdown) return;
    this.#engine.sgafree(generation);
  }

  protected override doShutdown(): void {
    this.#engine.shutdown();
    this.#slab = undefined;
  }

  // ---- progress -----------------------------------------------------------

  protected override poll(timeoutMs: number, sync: boolean): void {
    let n: number;
    try {
      // Inside waitSync non-blocking polls spin natively for a while (see native PollKernel).
      n = this.#engine.poll(timeoutMs, sync);
      this.#completed(n);
      // A full record buffer means more may be ready: keep going without blocking.
      while (n === this.#capacity) {
        n = this.#engine.poll(0);
        this.#completed(n);
      }
    } catch (err) {
      throw toDemiError(err, 'wait');
    }
  }

  protected override setWakeups(active: boolean): void {
    if (this.isShutdown) return;
    // Inside a wake-up (its callback and the microtasks after it) waits end
    // and begin in quick succession: note the wish, the addon applies the
    // last one when the wake-up returns to the event loop.
    if (this.#records[this.#inWake] === 1) this.#records[this.#wantWakeups] = active ? 1 : 0;
    else this.#engine.setWakeups(active);
  }

  /** Walks the records the last native call wrote and completes their tokens. */
  #completed(n: number): void {
    if (n === 0) return;
    const r = this.#records;
    const tokens = this.tokens;
    const slots = this.#slots;
    for (let o = 0, end = n * slots; o < end; o += slots) {
      const qt = r[o + TOKEN]!;
      // `| 0`: small integers, stored untagged in the result (a double read
      // from the records would be boxed in each result that holds it).
      const opcode = (r[o + OPCODE]! | 0) as Opcode;
      const ret = r[o + RET]! | 0;
      switch (opcode) {
        case Opcode.POP: {
          const generation = r[o + SLAB]!;
          if (generation !== this.#slabGeneration) {
            this.#slab = this.#engine.slab(generation);
            this.#slabGeneration = generation;
          }
          const sga = new PoppedSga(
            new Uint8Array(this.#slab!, r[o + OFFSET]!, r[o + VALUE]!),
            generation,
          );
          const endpoint = r[o + ADDR]!;
          // One result object per completion: the table keeps it (and sets qd).
          if (endpoint >= 0) {
            const addr = endpointToAddress(endpoint);
            sga.addr = addr;
            tokens.completeOwned(qt, { opcode, qd: 0, qt, ret, sga, addr });
          } else {
            tokens.completeOwned(qt, { opcode, qd: 0, qt, ret, sga });
          }
          break;
        }
        case Opcode.ACCEPT:
          tokens.completeOwned(qt, {
            opcode,
            qd: 0,
            qt,
            ret,
            accepted: { qd: r[o + VALUE]! | 0, addr: endpointToAddress(r[o + ADDR]!) },
          });
          break;
        case Opcode.CLOSE:
          tokens.complete(qt, { opcode, ret });
          // Pops and accepts that were pending when asyncClose began.
          tokens.failAll(r[o + QD]!);
          break;
        default:
          tokens.completeOwned(qt, { opcode, qd: 0, qt, ret });
      }
    }
  }

  /** Forgets a token whose operation the addon refused, without anyone seeing it complete. */
  #abandon(qt: QToken, err: unknown, syscall: string): unknown {
    const anyWaiter = this.tokens.anyWaiter;
    this.tokens.anyWaiter = undefined;
    this.tokens.complete(qt, { opcode: Opcode.FAILED, ret: ERRNO.ECANCELED });
    this.tokens.take(qt);
    this.tokens.anyWaiter = anyWaiter;
    return toDemiError(err, syscall);
  }
}

function isKnownFlag(level: number, name: number): boolean {
  return (
    (level === SOL_SOCKET && (name === 2 || name === 9)) || (level === IPPROTO_TCP && name === 1)
  );
}
