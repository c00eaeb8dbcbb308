import { completePop, drainPushes, type PopResult } from '@demi/catmem';
import {
  BaseLibOS,
  type Capability,
  DemiError,
  IPPROTO_TCP,
  Opcode,
  PopPool,
  type QDesc,
  type QToken,
  type Sga,
  type SocketAddress,
  sgaBytes,
} from '@demi/core';
import { type CatloopNative, native, nativeError } from './native.js';
import { type CatloopOptions, resolveOptions } from './options.js';
import { Socket } from './socket.js';

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['tcp', 'multiprocess']);
const CONNECTED = { opcode: Opcode.CONNECT, ret: 0 } as const;
/** End of file: one zero-length segment, as kernel-socket LibOSes report it. */
const EOF_SGA: Sga = { segments: [new Uint8Array(0)] };
const ANY = '0.0.0.0';
/** While a connect waits, async waits re-check its listener's liveness this often. */
const CONNECT_CHECK_MS = 10;
/**
 * Per instance not yet shut down: closes its sockets if the process exits first
 * (also on an uncaught exception, when native cleanup does not run), so its
 * peers see end of file and no segment is left in /dev/shm.
 */
const live = new Set<() => void>();
let exitHooked = false;

function closeAllAtExit(): void {
  for (const close of live) close();
  live.clear();
}

/** How often idle connections give ring memory back (see catmem's End::Trim). */
const TRIM_EVERY_MS = 1000;
/**
 * Staging (where pops land) starts this large and grows, up to the socket's
 * largest record, when a pop asks for more.
 */
const MIN_STAGING = 64 * 1024;

/**
 * TCP-like stream sockets between processes on one host over catmem's
 * shared-memory rings. Every address:port in use is a catmem segment named
 * after it: a listener's control pipe, or one connection's duplex pipe named
 * after the client's ephemeral port. Connection set-up goes through the
 * listener's control pipe; data never touches a kernel socket.
 */
export class Catloop extends BaseLibOS {
  readonly name = 'catloop';
  readonly capabilities = CAPABILITIES;
  /** Ring size of the connections this instance opens. */
  readonly ringSize: number;
  readonly firstEphemeralPort: number;

  readonly #native: CatloopNative;
  readonly #ctx: number;
  readonly #sockets = new Map<QDesc, Socket>();
  /** Sockets by native handle (handles are small and reused). */
  readonly #byHandle: (Socket | undefined)[] = [];
  /**
   * Sockets with pending operations, each knowing its place (busyAt): adding
   * and removing one allocates nothing, unlike a Set that rebuilds its table
   * as sockets come and go once per message.
   */
  readonly #busy: Socket[] = [];
  /** Sockets whose connect waits for the listener's answer. */
  readonly #connecting = new Set<Socket>();
  /** Handles of the sockets the addon found ready (see #advanceReady). */
  #ready = new Uint32Array(64);
  #staging = new Uint8Array(0);
  /** Memory of freed pops, for the next ones (sgafree). */
  readonly #pool = new PopPool();
  readonly #trimTimer: ReturnType<typeof setInterval>;
  #nextQd = 1;

  constructor(options: CatloopOptions = {}) {
    super();
    const resolved = resolveOptions(options);
    this.ringSize = resolved.ringSize;
    this.firstEphemeralPort = resolved.firstEphemeralPort;
    this.#native = native();
    this.#ctx = this.#native.newContext(() => this.progress());
    this.#growStaging(MIN_STAGING);
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

  // ---- sockets ------------------------------------------------------------

  protected override doSocket(_domain: number, _type: number, protocol: number): QDesc {
    if (protocol !== 0 && protocol !== IPPROTO_TCP) {
      throw new DemiError(
        'EPROTONOSUPPORT',
        `protocol ${protocol} is not TCP; use 0 or ${IPPROTO_TCP}`,
        { syscall: 'socket' },
      );
    }
    const qd = this.#nextQd++;
    this.#sockets.set(qd, new Socket(qd));
    return qd;
  }

  #socket(qd: QDesc, syscall: string): Socket {
    const sock = this.#sockets.get(qd);
    if (sock === undefined)
      throw new DemiError('EBADF', `no open socket with queue descriptor ${qd}`, { syscall });
    if (sock.closeQt !== undefined)
      throw new DemiError('EBADF', `socket ${qd} is being closed`, { syscall });
    return sock;
  }

  protected override doBind(qd: QDesc, addr: SocketAddress): void {
    // Calls in the wrong state never get here: core's socket rules answer them.
    const sock = this.#socket(qd, 'bind');
    let handle: number;
    let port: number;
    try {
      [handle, port] = this.#native.bind(
        this.#ctx,
        addr.address,
        addr.port,
        this.firstEphemeralPort,
      );
    } catch (err) {
      throw nativeError(err, 'bind');
    }
    this.#setHandle(sock, handle);
    sock.state = 'bound';
    sock.local = { address: addr.address, port };
  }

  protected override doListen(qd: QDesc, backlog: number): void {
    const sock = this.#socket(qd, 'listen');
    try {
      this.#native.listen(sock.handle, backlog);
    } catch (err) {
      throw nativeError(err, 'listen');
    }
    sock.state = 'listening';
  }

  protected override doAccept(qd: QDesc): QToken {
    const sock = this.#socket(qd, 'accept');
    const qt = this.tokens.issue(qd, Opcode.ACCEPT);
    if (sock.accepts.length === 0 && this.#acceptNow(sock, qt)) return qt;
    sock.queueAccept(qt);
    this.#markBusy(sock);
    return qt;
  }

  /** One accept attempt; false when no connection is queued yet. */
  #acceptNow(listener: Socket, qt: QToken): boolean {
    let got: [number, string, number, string] | undefined;
    try {
      got = this.#native.accept(listener.handle);
    } catch (err) {
      this.tokens.complete(qt, { opcode: Opcode.FAILED, ret: nativeError(err, 'accept').errno });
      return true;
    }
    if (got === undefined) return false;
    const [handle, peerAddress, peerPort, peerDestination] = got;
    const sock = new Socket(this.#nextQd++);
    this.#setHandle(sock, handle);
    sock.state = 'connected';
    // A wildcard listener's connection is local to the address the client connected to.
    const local = listener.local!;
    sock.local = {
      address: local.address === ANY ? peerDestination : local.address,
      port: local.port,
    };
    sock.remote = { address: peerAddress, port: peerPort };
    this.#sockets.set(sock.qd, sock);
    sock.maxRecord = this.#native.info(handle)[1];
    this.tokens.complete(qt, {
      opcode: Opcode.ACCEPT,
      ret: 0,
      accepted: { qd: sock.qd, addr: { ...sock.remote } },
    });
    return true;
  }

  protected override doConnect(qd: QDesc, addr: SocketAddress): QToken {
    const sock = this.#socket(qd, 'connect');
    const qt = this.tokens.issue(qd, Opcode.CONNECT);
    let localAddress = ANY;
    let localPort = 0;
    if (sock.state === 'bound') {
      // The connection's pipe takes the bound address's name; the listener
      // learns the address from the request, as a kernel learns it from the SYN.
      localAddress = sock.local!.address;
      localPort = sock.local!.port;
      this.#native.close(sock.handle);
      this.#setHandle(sock, 0);
      sock.state = 'fresh';
      sock.local = undefined;
    }
    let handle: number;
    try {
      [handle, localAddress, localPort] = this.#native.connect(
        this.#ctx,
        addr.address,
        addr.port,
        localAddress,
        localPort,
        this.ringSize,
        this.firstEphemeralPort,
      );
    } catch (err) {
      // Refusals are results, as for a non-blocking connect.
      this.tokens.complete(qt, { opcode: Opcode.FAILED, ret: nativeError(err, 'connect').errno });
      return qt;
    }
    this.#setHandle(sock, handle);
    sock.state = 'connecting';
    sock.local = { address: localAddress, port: localPort };
    sock.remote = { address: addr.address, port: addr.port };
    sock.connectQt = qt;
    this.#connecting.add(sock);
    if (!this.#handshake(sock)) this.#markBusy(sock);
    return qt;
  }

  /** Checks for the listener's answer; true once the connect completed either way. */
  #handshake(sock: Socket): boolean {
    const r = this.#native.handshake(sock.handle);
    if (r === 0) return false;
    const qt = sock.connectQt!;
    sock.connectQt = undefined;
    this.#connecting.delete(sock);
    if (r === 1) {
      sock.state = 'connected';
      sock.maxRecord = this.#native.info(sock.handle)[1];
      this.tokens.complete(qt, CONNECTED);
    } else {
      this.#native.close(sock.handle);
      this.#setHandle(sock, 0);
      sock.state = 'fresh';
      sock.local = undefined;
      sock.remote = undefined;
      this.tokens.completeBare(qt, Opcode.FAILED, -r);
    }
    return true;
  }

  #growStaging(size: number): void {
    if (this.#staging.byteLength >= size) return;
    this.#staging = new Uint8Array(size);
    this.#native.setStaging(this.#ctx, this.#staging.buffer as ArrayBuffer);
  }

  protected override doGetsockname(qd: QDesc): SocketAddress {
    const sock = this.#socket(qd, 'getsockname');
    return sock.local === undefined ? { address: ANY, port: 0 } : { ...sock.local };
  }

  protected override doGetpeername(qd: QDesc): SocketAddress {
    const sock = this.#socket(qd, 'getpeername');
    if (sock.state !== 'connected' || sock.remote === undefined) {
      throw new DemiError('ENOTCONN', `socket ${qd} is not connected`, { syscall: 'getpeername' });
    }
    return { ...sock.remote };
  }

  // ---- data ---------------------------------------------------------------

  protected override doPush(qd: QDesc, sga: Sga): QToken {
    const sock = this.#socket(qd, 'push');
    const data = sga.segments.length === 1 ? sga.segments[0]! : sgaBytes(sga);
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    let offset = 0;
    if (sock.pushes.length === 0) {
      const r = this.#native.push(sock.handle, data);
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
    sock.queuePush({ qt, data, offset });
    this.#markBusy(sock);
    return qt;
  }

  protected override doPop(qd: QDesc, size: number): QToken {
    const sock = this.#socket(qd, 'pop');
    const qt = this.tokens.issue(qd, Opcode.POP);
    if (sock.popQt === undefined && this.#popNow(sock, qt, size)) return qt;
    sock.queuePop(qt, size);
    this.#markBusy(sock);
    return qt;
  }

  /** One pop attempt; false when nothing is there yet. */
  #popNow(sock: Socket, qt: QToken, size: number): boolean {
    if (size > this.#staging.byteLength) this.#growStaging(Math.min(size, sock.maxRecord));
    return this.#popDone(qt, this.#native.pop(sock.handle, size, this.#pool.spare));
  }

  /** Completes a pop from the addon's answer; false for "nothing yet". */
  #popDone(qt: QToken, r: PopResult): boolean {
    return completePop(this.tokens, qt, r, this.#staging, EOF_SGA, this.#pool);
  }

  protected override doSgaalloc(size: number): Sga {
    return this.#pool.issue(super.doSgaalloc(size).segments);
  }

  /** The memory of a freed pop may back a later pop: do not read it after sgafree. */
  protected override doSgafree(sga: Sga): void {
    this.#pool.free(sga);
  }

  // ---- progress -------------------------------------------------------------

  /** Moves one socket's pending work forward; true if anything completed. */
  #advance(sock: Socket): boolean {
    let progressed = false;
    if (sock.connectQt !== undefined && this.#handshake(sock)) progressed = true;
    while (sock.accepts.length > 0 && this.#acceptNow(sock, sock.accepts[0]!)) {
      sock.accepts.shift();
      progressed = true;
    }
    if (sock.pushes.length > 0 && drainPushes(this.tokens, this.#native, sock.handle, sock.pushes))
      progressed = true;
    while (sock.popQt !== undefined && this.#popNow(sock, sock.popQt, sock.popSize)) {
      sock.shiftPop();
      progressed = true;
    }
    if (sock.closeQt !== undefined && sock.pushes.length === 0) {
      this.#finishClose(sock);
      progressed = true;
    }
    if (sock.idle) this.#unmarkBusy(sock);
    return progressed;
  }

  protected poll(timeoutMs: number, _sync: boolean): void {
    if (this.#busy.length === 0) return;
    if (timeoutMs > 0 && this.#busy.length === 1 && this.#popWait(timeoutMs)) return;
    if (this.#advanceReady() || timeoutMs <= 0 || this.isShutdown) return;
    this.#native.sleep(this.#ctx, timeoutMs);
    this.#advanceReady();
  }

  /**
   * Moves forward the sockets whose operations can complete: the ones the
   * addon finds ready (one native pass over the ends, no call per socket),
   * and those waiting for a connect's answer (a listener that dies answers
   * nothing). Every other busy socket waits for something that is not there
   * yet, so a wake-up costs JS the ready sockets, not all busy ones.
   */
  #advanceReady(): boolean {
    let progressed = false;
    if (this.#connecting.size > 0) {
      for (const sock of this.#connecting) if (this.#advance(sock)) progressed = true;
    }
    let n = this.#native.ready(this.#ctx, this.#ready);
    while (n > this.#ready.length) {
      this.#ready = new Uint32Array(2 ** Math.ceil(Math.log2(n)));
      n = this.#native.ready(this.#ctx, this.#ready);
    }
    const ready = this.#ready;
    for (let i = 0; i < n; i++) {
      const sock = this.#byHandle[ready[i]!];
      // A socket closed (or its handle reused) earlier in this pass is looked at harmlessly.
      if (sock !== undefined && sock.busyAt >= 0 && this.#advance(sock)) progressed = true;
    }
    return progressed;
  }

  #markBusy(sock: Socket): void {
    if (sock.busyAt >= 0) return;
    sock.busyAt = this.#busy.length;
    this.#busy.push(sock);
  }

  #unmarkBusy(sock: Socket): void {
    const at = sock.busyAt;
    if (at < 0) return;
    sock.busyAt = -1;
    const last = this.#busy.pop()!;
    if (last !== sock) {
      this.#busy[at] = last;
      last.busyAt = at;
    }
  }

  #setHandle(sock: Socket, handle: number): void {
    if (sock.handle !== 0) this.#byHandle[sock.handle] = undefined;
    sock.handle = handle;
    if (handle !== 0) this.#byHandle[handle] = sock;
  }

  /**
   * The common case of a sync wait, one socket waiting for data and nothing
   * else pending: pop, sleep and pop again in one native call. False when that
   * is not the case.
   */
  #popWait(timeoutMs: number): boolean {
    const sock = this.#busy[0]!;
    if (
      sock.popQt === undefined ||
      sock.pushes.length > 0 ||
      sock.accepts.length > 0 ||
      sock.connectQt !== undefined ||
      sock.closeQt !== undefined
    ) {
      return false;
    }
    const size = sock.popSize;
    if (size > this.#staging.byteLength) this.#growStaging(Math.min(size, sock.maxRecord));
    if (
      this.#popDone(
        sock.popQt,
        this.#native.popWait(sock.handle, size, timeoutMs, this.#pool.spare),
      )
    ) {
      sock.shiftPop();
      while (sock.popQt !== undefined && this.#popNow(sock, sock.popQt, sock.popSize))
        sock.shiftPop();
      if (sock.idle) this.#unmarkBusy(sock);
    }
    return true;
  }

  protected override nextTimerMs(): number | undefined {
    // A listener that dies before it answers wakes nobody: look at it now and then.
    return this.#connecting.size > 0 ? CONNECT_CHECK_MS : undefined;
  }

  protected override setWakeups(active: boolean): void {
    if (this.isShutdown) return;
    try {
      this.#native.setWakeups(this.#ctx, active);
    } catch (err) {
      // e.g. ENOSPC: the wake-up FIFO could not be made in /dev/shm.
      throw nativeError(err, 'wait');
    }
  }

  // Blocking polls spin on the rings natively first (see catmem's poll).
  protected override readonly syncSpinMs = 0;

  // ---- closing ------------------------------------------------------------

  protected override doClose(qd: QDesc): void {
    const sock = this.#sockets.get(qd);
    if (sock === undefined)
      throw new DemiError('EBADF', `no open socket with queue descriptor ${qd}`, {
        syscall: 'close',
      });
    this.#release(sock);
    this.tokens.failAll(qd);
  }

  protected override doAsyncClose(qd: QDesc): QToken {
    const sock = this.#socket(qd, 'asyncClose');
    sock.closeQt = this.tokens.issue(qd, Opcode.CLOSE);
    const qt = sock.closeQt;
    if (sock.pushes.length === 0) this.#finishClose(sock);
    else this.#markBusy(sock);
    return qt;
  }

  #finishClose(sock: Socket): void {
    const qt = sock.closeQt!;
    this.#release(sock);
    this.tokens.complete(qt, { opcode: Opcode.CLOSE, ret: 0 });
    this.tokens.failAll(sock.qd);
  }

  /** Closes the native side (a listener refuses what it queued) and forgets the socket. */
  #release(sock: Socket): void {
    this.#sockets.delete(sock.qd);
    this.#unmarkBusy(sock);
    this.#connecting.delete(sock);
    if (sock.handle !== 0) this.#native.close(sock.handle);
    this.#setHandle(sock, 0);
  }

  readonly #closeAtExit = (): void => this.#native.destroyContext(this.#ctx);

  protected override doShutdown(): void {
    if (live.delete(this.#closeAtExit)) this.#native.destroyContext(this.#ctx);
    this.#sockets.clear();
    for (const sock of this.#busy) sock.busyAt = -1;
    this.#busy.length = 0;
    this.#byHandle.length = 0;
    this.#connecting.clear();
    clearInterval(this.#trimTimer);
    this.#staging = new Uint8Array(0);
    this.#pool.clear();
  }
}
