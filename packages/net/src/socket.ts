import { lookup } from 'node:dns';
import { isIP, isIPv4 } from 'node:net';
import { Duplex, type DuplexOptions } from 'node:stream';
import {
  AF_INET,
  ERRNO,
  IPPROTO_TCP,
  type LibOS,
  Opcode,
  type QDesc,
  type QResult,
  type QToken,
  SO_KEEPALIVE,
  SO_LINGER,
  SOCK_STREAM,
  SOL_SOCKET,
  type SocketAddress,
  TCP_NODELAY,
} from '@demi/core';
import {
  type ConnectArgs,
  normalizeArgs,
  validateConnectOptions,
  validateTimeout,
} from './args.js';
import { whenDone } from './completions.js';
import {
  codeOf,
  codeOfErrno,
  invalidArgType,
  socketClosed,
  socketClosedBeforeConnection,
  systemError,
} from './errors.js';
import { withLibOS } from './libos.js';

/** A LibOS takes at most this many segments in one push (catnap's limit). */
const MAX_SEGMENTS = 1024;

export interface SocketOptions extends DuplexOptions {
  /** The LibOS this socket lives on; the process's default (from `init()`) when absent. */
  libos?: LibOS;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Accepted sockets only: start paused instead of reading at once. */
  pauseOnConnect?: boolean;
}

/** How a server hands over an accepted connection. */
export interface AcceptedConnection {
  libos: LibOS;
  qd: QDesc;
  remote: SocketAddress;
  /** Told when the socket closes, to keep the server's count. */
  onClose?: () => void;
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

/**
 * node:net's Socket over a demi queue descriptor. Only the stream hooks are
 * ours: reads keep one pop outstanding while the readable side wants data;
 * writes become pushes, at most about writableHighWaterMark bytes in flight.
 */
export class Socket extends Duplex {
  connecting = false;
  /** The server that accepted this socket, as node:net names it. */
  server: unknown = null;
  _server: unknown = null;

  #libos: LibOS | undefined;
  #qd: QDesc | undefined;
  /** The qd was given back to the LibOS (closed, or closing after end()). */
  #released = false;
  #popping = false;
  #readWanted = false;
  #readEnded = false;
  /** Bytes pushed whose push has not completed, and how many pushes that is. */
  #inflight = 0;
  #pushes = 0;
  /** A write callback held back because too much is in flight. */
  /** `until`: the push whose completion releases it, when its bytes are the caller's. */
  #held: { cb: (err?: Error | null) => void; bytes: number; until?: QToken } | undefined;
  /** What _final runs once every push has completed. */
  #whenIdle: (() => void) | undefined;
  /** Work queued until the connection is up (writes, end). */
  #whenConnected: (() => void)[] = [];
  /** Callbacks of writes made while connecting, failed if the socket dies first. */
  #unsent: ((err?: Error | null) => void)[] = [];
  #bytesRead = 0;
  #dispatched = 0;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #noDelay: boolean | undefined;
  #keepAlive: boolean | undefined;
  #remote: SocketAddress | undefined;
  #local: SocketAddress | undefined;
  #onClose: (() => void) | undefined;

  constructor(options: SocketOptions = {}, accepted?: AcceptedConnection) {
    if (typeof options !== 'object' || options === null) options = {};
    const { libos, noDelay, keepAlive, pauseOnConnect, ...duplex } = options;
    super({ ...duplex, allowHalfOpen: Boolean(options.allowHalfOpen), emitClose: false });
    this.#libos = libos;
    if (noDelay) this.#noDelay = true;
    if (keepAlive) this.#keepAlive = true;
    if (accepted !== undefined) {
      this.#libos = accepted.libos;
      this.#qd = accepted.qd;
      this.#remote = accepted.remote;
      this.#onClose = accepted.onClose;
      this.#applyOptions();
      // Start reading at once, as node:net does, so end of file is seen even
      // before anyone listens for data; pauseOnConnect leaves it paused.
      if (pauseOnConnect) this.pause();
      else if ((options as { readable?: boolean }).readable !== false) this.read(0);
    }
  }

  // ---- connecting ---------------------------------------------------------

  connect(...args: unknown[]): this {
    const [options, cb] = normalizeArgs(args);
    validateConnectOptions(options);
    if (options.path != null) {
      // demi has no Unix-domain sockets.
      queueMicrotask(() => this.destroy(systemError('ENOTSUP', 'connect', String(options.path))));
      return this;
    }
    if (this.#qd !== undefined && !this.#released && !this.destroyed)
      throw systemError('EISCONN', 'connect');
    if (this.destroyed) {
      // Reconnecting a closed socket, as node:net allows: fresh stream state.
      (this as unknown as { _undestroy(): void })._undestroy();
      this.#qd = undefined;
      this.#released = false;
      this.#readEnded = false;
      this.#readWanted = false;
      this.#popping = false;
      this.#remote = undefined;
      this.#local = undefined;
    }
    if (cb !== null) this.once('connect', cb as () => void);
    if (options.timeout) this.setTimeout(options.timeout);
    if (options.noDelay) this.#noDelay = true;
    if (options.keepAlive) this.#keepAlive = true;
    this.connecting = true;
    const port = Number(options.port);
    const host = options.host || 'localhost';
    const start = (address: string): void =>
      withLibOS(
        this.#libos,
        (libos) => this.#open(libos, address, port, options),
        (err) => this.destroy(err as Error),
      );
    if (isIPv4(host)) start(host);
    else if (isIP(host)) {
      // demi's LibOSes are IPv4-only.
      process.nextTick(() => this.destroy(systemError('EAFNOSUPPORT', 'connect', host, port)));
    } else {
      lookup(host, { family: 4 }, (err, address, family) => {
        this.emit('lookup', err, address, family, host);
        if (this.destroyed) return;
        if (err) this.destroy(err);
        else start(address);
      });
    }
    return this;
  }

  #open(libos: LibOS, address: string, port: number, options: ConnectArgs): void {
    if (this.destroyed) return;
    this.#libos = libos;
    let syscall = 'connect';
    try {
      this.#qd = libos.socket(AF_INET, SOCK_STREAM);
      this.#released = false;
      if (options.localAddress || options.localPort) {
        syscall = 'bind';
        libos.bind(this.#qd, {
          address: options.localAddress ?? '0.0.0.0',
          port: options.localPort ?? 0,
        });
        syscall = 'connect';
      }
      const qt = libos.connect(this.#qd, { address, port });
      whenDone(libos, qt, (r) => this.#afterConnect(r, address, port));
    } catch (err) {
      const where = syscall === 'bind' ? options.localAddress : address;
      const at = syscall === 'bind' ? options.localPort : port;
      this.destroy(systemError(codeOf(err), syscall, where, at));
    }
  }

  #afterConnect(r: QResult, address: string, port: number): void {
    if (this.destroyed) return;
    if (r.opcode !== Opcode.CONNECT) {
      this.destroy(systemError(codeOfErrno(r.ret), 'connect', address, port));
      return;
    }
    this.connecting = false;
    this.#remote = { address, port };
    this.#applyOptions();
    this.emit('connect');
    this.emit('ready');
    const queued = this.#whenConnected;
    this.#whenConnected = [];
    this.#unsent = [];
    for (const run of queued) run();
    // Queued work may have ended (and released) or destroyed the socket already.
    if (this.#released || this.destroyed) return;
    if (this.#readWanted) this.#pop();
    else if (!this.isPaused()) this.read(0);
  }

  #connected(): boolean {
    return this.#qd !== undefined && !this.connecting && !this.destroyed;
  }

  // ---- reading ------------------------------------------------------------

  override _read(): void {
    // Asked before the connection is up: the stream waits for a push, so pop once connected.
    if (!this.#connected()) this.#readWanted = true;
    else if (!this.#released && !this.#popping) this.#pop();
  }

  #pop(): void {
    const libos = this.#libos!;
    this.#popping = true;
    let qt: number;
    try {
      qt = libos.pop(this.#qd!);
    } catch (err) {
      this.#popping = false;
      this.destroy(systemError(codeOf(err), 'read'));
      return;
    }
    whenDone(libos, qt, (r) => this.#onPop(r));
  }

  #onPop(r: QResult): void {
    this.#popping = false;
    if (this.destroyed || this.#readEnded) return;
    if (r.opcode !== Opcode.POP) {
      // A pop cancelled by our own end(), or by the LibOS shutting down, is not a
      // peer's error: the read side just stops.
      if (this.#released || r.ret === ERRNO.ECANCELED) this.#endReadable();
      else this.destroy(systemError(codeOfErrno(r.ret), 'read'));
      return;
    }
    const segments = r.sga?.segments ?? [];
    let bytes = 0;
    for (const s of segments) bytes += s.byteLength;
    if (bytes === 0) {
      this.#endReadable();
      return;
    }
    this.#bytesRead += bytes;
    this.#touch();
    let more = true;
    for (const s of segments) {
      if (s.byteLength > 0) more = this.push(Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    }
    // Pop again only while the consumer wants more: a paused reader leaves the
    // data in the LibOS, whose window then holds the peer back.
    if (more && !this.#popping && !this.#released && !this.destroyed) this.#pop();
  }

  #endReadable(): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    this.push(null);
    // With nothing buffered this emits 'end' now, read or not, as node:net does.
    this.read(0);
  }

  // ---- writing ------------------------------------------------------------

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    this.#send([chunk], cb);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    cb: (err?: Error | null) => void,
  ): void {
    const buffers = chunks.map((c) => c.chunk);
    this.#send(buffers.length > MAX_SEGMENTS ? [Buffer.concat(buffers)] : buffers, cb);
  }

  #send(segments: Buffer[], cb: (err?: Error | null) => void): void {
    if (this.connecting || this.#qd === undefined) {
      if (!this.connecting) {
        cb(socketClosed());
        return;
      }
      this.#whenConnected.push(() => this.#send(segments, cb));
      this.#unsent.push(cb);
      return;
    }
    if (this.#released || this.destroyed) {
      cb(socketClosed());
      return;
    }
    let bytes = 0;
    for (const s of segments) bytes += s.byteLength;
    if (bytes === 0) {
      cb();
      return;
    }
    const libos = this.#libos!;
    // A write's callback tells the caller it may reuse its buffer. When the
    // callback may come before the push completes (to keep up to
    // writableHighWaterMark bytes moving), the LibOS must own bytes of its own:
    // the contract lets it read the caller's until then. Writes up to the mark
    // are copied; a larger one is pushed as it is and called back only once its
    // own push completes.
    const early = this.#inflight + bytes <= this.writableHighWaterMark;
    const copied = bytes <= this.writableHighWaterMark;
    const owned = copied ? [copyOf(segments, bytes)] : segments;
    let qt: number;
    try {
      qt = libos.push(this.#qd, { segments: owned });
    } catch (err) {
      cb(systemError(codeOf(err), 'write'));
      return;
    }
    this.#inflight += bytes;
    this.#pushes++;
    this.#touch();
    whenDone(libos, qt, (r) => this.#afterPush(r, bytes, qt));
    // The stream's own buffer holds further writes while this callback is held,
    // so write() returns false once about writableHighWaterMark bytes wait.
    if (early) {
      this.#dispatched += bytes;
      cb();
    } else {
      this.#held = { cb, bytes, until: copied ? undefined : qt };
    }
  }

  #afterPush(r: QResult, bytes: number, qt: QToken): void {
    this.#inflight -= bytes;
    this.#pushes--;
    if (r.opcode !== Opcode.PUSH) {
      if (!this.destroyed && !this.#released)
        this.destroy(systemError(codeOfErrno(r.ret), 'write'));
      return;
    }
    this.#touch();
    const held = this.#held;
    if (
      held !== undefined &&
      (held.until === undefined ? this.#inflight <= this.writableHighWaterMark : held.until === qt)
    ) {
      this.#held = undefined;
      this.#dispatched += held.bytes;
      held.cb();
    }
    if (this.#pushes === 0 && this.#whenIdle !== undefined) {
      const idle = this.#whenIdle;
      this.#whenIdle = undefined;
      idle();
    }
  }

  /**
   * The write side ends. demi's contract has no shutdown(SHUT_WR), so once every
   * push has completed the connection is closed gracefully (asyncClose: the peer
   * reads everything, then end of file) and the read side ends with it.
   */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      this.#whenConnected.push(() => this._final(cb));
      return;
    }
    if (this.#qd === undefined || this.#released) {
      cb();
      return;
    }
    const close = (): void => {
      if (this.destroyed || this.#released) {
        cb();
        return;
      }
      const libos = this.#libos!;
      this.#released = true;
      let qt: number;
      try {
        qt = libos.asyncClose(this.#qd!);
      } catch (err) {
        cb(systemError(codeOf(err), 'shutdown'));
        return;
      }
      whenDone(libos, qt, () => {
        this.#endReadable();
        cb();
      });
    };
    if (this.#pushes === 0) close();
    else this.#whenIdle = close;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const unsent = this.connecting ? this.#unsent : [];
    this.connecting = false;
    this.#clearTimer();
    this.#whenConnected = [];
    this.#unsent = [];
    for (const write of unsent) write(socketClosedBeforeConnection());
    // A write still held back gets its callback, failed, as node:net's cancelled writes do.
    const held = this.#held;
    this.#held = undefined;
    if (this.#qd !== undefined && !this.#released) {
      this.#released = true;
      try {
        // Pending pops and pushes complete ECANCELED, which the handlers ignore.
        this.#libos!.close(this.#qd);
      } catch {
        // Already gone with its LibOS (shutdown): nothing left to release.
      }
    }
    const onClose = this.#onClose;
    this.#onClose = undefined;
    cb(err);
    held?.cb(systemError('ECANCELED', 'write'));
    process.nextTick(() => {
      this.emit('close', err != null);
      onClose?.();
    });
  }

  /** Ends the write side, and destroys once the data has gone. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes with a reset (SO_LINGER 0) where the LibOS has socket options. */
  resetAndDestroy(): this {
    if (this.#qd !== undefined && !this.#released && this.#hasSockopt()) {
      try {
        this.#libos!.setsockopt(this.#qd, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
      } catch {
        // Best effort, as a reset is.
      }
    }
    return this.destroy();
  }

  // ---- options and timers ------------------------------------------------

  setTimeout(msecs: number, callback?: () => void): this {
    this.#timeoutMs = validateTimeout(msecs);
    if (callback !== undefined) {
      if (typeof callback !== 'function') throw invalidArgType('callback', 'function', callback);
      if (this.#timeoutMs === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#clearTimer();
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.emit('timeout');
      }, this.#timeoutMs);
      this.#timer.unref();
    }
    return this;
  }

  get timeout(): number | undefined {
    return this.#timeoutMs === 0 ? undefined : this.#timeoutMs;
  }

  #touch(): void {
    this.#timer?.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  setNoDelay(noDelay = true): this {
    this.#noDelay = Boolean(noDelay);
    if (this.#connected()) this.#applyOptions();
    return this;
  }

  setKeepAlive(enable = false, _initialDelay = 0): this {
    this.#keepAlive = Boolean(enable);
    if (this.#connected()) this.#applyOptions();
    return this;
  }

  #hasSockopt(): boolean {
    return this.#libos?.capabilities.has('sockopt') ?? false;
  }

  /** LibOSes without socket options (catloop) have nothing to tune: no Nagle, no keepalive. */
  #applyOptions(): void {
    if (!this.#hasSockopt() || this.#qd === undefined || this.#released) return;
    try {
      if (this.#noDelay !== undefined)
        this.#libos!.setsockopt(this.#qd, IPPROTO_TCP, TCP_NODELAY, this.#noDelay);
      if (this.#keepAlive !== undefined)
        this.#libos!.setsockopt(this.#qd, SOL_SOCKET, SO_KEEPALIVE, this.#keepAlive);
    } catch {
      // Options are hints; node:net ignores failures to set them as well.
    }
  }

  /** demi's waits keep the process alive only while they are outstanding; there is no handle to unref. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  // ---- what node:net exposes ---------------------------------------------

  address(): AddressInfo | Record<string, never> {
    const local = this.#sockname();
    return local === undefined ? {} : { address: local.address, family: 'IPv4', port: local.port };
  }

  #sockname(): SocketAddress | undefined {
    if (this.#local !== undefined) return this.#local;
    if (this.#qd === undefined || this.#released || this.connecting) return undefined;
    try {
      this.#local = this.#libos!.getsockname(this.#qd);
    } catch {
      return undefined;
    }
    return this.#local;
  }

  get remoteAddress(): string | undefined {
    return this.#remote?.address;
  }

  get remotePort(): number | undefined {
    return this.#remote?.port;
  }

  get remoteFamily(): string | undefined {
    return this.#remote === undefined ? undefined : 'IPv4';
  }

  get localAddress(): string | undefined {
    return this.#sockname()?.address;
  }

  get localPort(): number | undefined {
    return this.#sockname()?.port;
  }

  get localFamily(): string | undefined {
    return this.#sockname() === undefined ? undefined : 'IPv4';
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  get bytesWritten(): number | undefined {
    // Read on the prototype itself (as node:net allows), there is no socket to count.
    if (!(#dispatched in this)) return undefined;
    return this.#dispatched + this.writableLength;
  }

  /** node:net's deprecated name for writableLength. */
  get bufferSize(): number {
    return this.writableLength;
  }

  get pending(): boolean {
    return this.#qd === undefined || this.connecting || this.destroyed;
  }

  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The LibOS this socket lives on, once it has one. */
  get libos(): LibOS | undefined {
    return this.#libos;
  }
}

/** One buffer holding the segments' bytes: memory the caller cannot change. */
function copyOf(segments: readonly Buffer[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const s of segments) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}
