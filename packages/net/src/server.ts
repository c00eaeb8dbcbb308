import { lookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP, isIPv4 } from 'node:net';
import {
  AF_INET,
  ERRNO,
  type LibOS,
  Opcode,
  type QDesc,
  type QResult,
  SOCK_STREAM,
} from '@demi/core';
import { type ConnectArgs, normalizeArgs, validateFunction, validatePort } from './args.js';
import { whenDone } from './completions.js';
import {
  codeOf,
  codeOfErrno,
  invalidArgType,
  invalidArgValue,
  serverAlreadyListening,
  serverNotRunning,
  systemError,
} from './errors.js';
import { withLibOS } from './libos.js';
import { type AddressInfo, Socket } from './socket.js';

/** node:net's default accept queue length. */
const DEFAULT_BACKLOG = 511;

export interface ServerOptions {
  /** The LibOS connections are accepted on; the process's default when absent. */
  libos?: LibOS;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

export interface ListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  path?: string;
  exclusive?: boolean;
  signal?: AbortSignal;
}

type ConnectionListener = (socket: Socket) => void;

/** node:net's Server: accepts on a demi listening socket, one accept outstanding at a time. */
export class Server extends EventEmitter {
  maxConnections: number | undefined = undefined;
  readonly allowHalfOpen: boolean;
  readonly pauseOnConnect: boolean;

  readonly #options: ServerOptions;
  #libos: LibOS | undefined;
  #qd: QDesc | undefined;
  /** Set from listen() until the listening socket is open or has failed. */
  #starting = false;
  #address: AddressInfo | undefined;
  #connections = 0;

  constructor(options?: ServerOptions | ConnectionListener, listener?: ConnectionListener) {
    super();
    if (typeof options === 'function') {
      listener = options;
      options = {};
    } else if (options === undefined || options === null) {
      options = {};
    } else if (typeof options !== 'object') {
      throw invalidArgType('options', 'object', options);
    }
    this.#options = options;
    this.#libos = options.libos;
    this.allowHalfOpen = Boolean(options.allowHalfOpen);
    this.pauseOnConnect = Boolean(options.pauseOnConnect);
    if (listener !== undefined) this.on('connection', listener);
  }

  /** `listen([port[, host[, backlog]]][, cb])` or `listen(options[, cb])`, as in node:net. */
  listen(...args: unknown[]): this {
    const [normalized, cb] = normalizeArgs(args);
    const options = normalized as ConnectArgs & ListenOptions;
    if (this.#qd !== undefined || this.#starting) throw serverAlreadyListening();
    const fromArgs =
      typeof args[0] === 'object'
        ? undefined
        : typeof args[1] === 'number'
          ? args[1]
          : typeof args[2] === 'number'
            ? args[2]
            : undefined;
    const backlog = Number(options.backlog || fromArgs || DEFAULT_BACKLOG);
    let port: number;
    if (args.length === 0 || typeof args[0] === 'function') port = 0;
    else if (typeof options.port === 'number' || typeof options.port === 'string') {
      port = validatePort(options.port, 'options.port');
    } else if (options.path !== undefined) {
      throw invalidArgValue('options', options, 'has a path: demi has no Unix-domain sockets');
    } else if (options.port === undefined && typeof args[0] !== 'object') {
      port = 0; // listen(undefined | null): a free port, as node:net does
    } else {
      throw invalidArgValue('options', options, 'must have the property "port" or "path"');
    }
    if (options.host !== undefined && options.host !== null && typeof options.host !== 'string')
      throw invalidArgType('hostname', 'string', options.host);
    if (cb !== null) this.once('listening', cb as () => void);
    if (options.signal?.aborted) {
      process.nextTick(() => this.close());
      return this;
    }
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    this.#starting = true;
    const host = options.host || '0.0.0.0';
    const start = (address: string): void =>
      withLibOS(
        this.#libos,
        (libos) => this.#open(libos, address, port, backlog),
        (err) => this.#fail(err as Error),
      );
    if (host === '::' || host === '0.0.0.0') start('0.0.0.0');
    else if (isIPv4(host)) start(host);
    else if (isIP(host)) this.#fail(systemError('EAFNOSUPPORT', 'listen', host, port, true));
    else {
      lookup(host, { family: 4 }, (err, address) => {
        if (err) this.#fail(err);
        else start(address);
      });
    }
    return this;
  }

  #fail(err: Error): void {
    this.#starting = false;
    process.nextTick(() => this.emit('error', err));
  }

  #open(libos: LibOS, address: string, port: number, backlog: number): void {
    if (!this.#starting) return; // closed before the LibOS was ready
    this.#libos = libos;
    let qd: QDesc | undefined;
    try {
      qd = libos.socket(AF_INET, SOCK_STREAM);
      libos.bind(qd, { address, port });
      libos.listen(qd, Math.min(Math.max(backlog, 0), 65535));
      const local = libos.getsockname(qd);
      this.#address = { address: local.address, family: 'IPv4', port: local.port };
    } catch (err) {
      if (qd !== undefined) libos.close(qd);
      this.#fail(systemError(codeOf(err), 'listen', address, port, true));
      return;
    }
    this.#qd = qd;
    this.#starting = false;
    process.nextTick(() => {
      if (this.#qd === qd) this.emit('listening');
    });
    this.#accept(libos, qd);
  }

  #accept(libos: LibOS, qd: QDesc): void {
    let qt: number;
    try {
      qt = libos.accept(qd);
    } catch (err) {
      // EBADF: the LibOS was shut down under a listening server; it stops listening.
      if (this.#qd === qd && codeOf(err) !== 'EBADF')
        this.emit('error', systemError(codeOf(err), 'accept'));
      return;
    }
    whenDone(libos, qt, (r) => this.#onAccept(libos, qd, r));
  }

  #onAccept(libos: LibOS, qd: QDesc, r: QResult): void {
    if (r.opcode !== Opcode.ACCEPT || r.accepted === undefined) {
      // Closing the listener (or its LibOS) cancels the pending accept; anything
      // else is reported and accepting goes on.
      if (this.#qd === qd && r.ret !== ERRNO.ECANCELED) {
        this.emit('error', systemError(codeOfErrno(r.ret), 'accept'));
        this.#accept(libos, qd);
      }
      return;
    }
    const { qd: connQd, addr } = r.accepted;
    if (this.#qd !== qd) {
      libos.close(connQd);
      return;
    }
    this.#accept(libos, qd);
    if (this.maxConnections !== undefined && this.#connections >= this.maxConnections) {
      libos.close(connQd);
      this.emit('drop', {
        localAddress: this.#address?.address,
        localPort: this.#address?.port,
        localFamily: 'IPv4',
        remoteAddress: addr.address,
        remotePort: addr.port,
        remoteFamily: 'IPv4',
      });
      return;
    }
    const { noDelay, keepAlive, highWaterMark } = this.#options;
    const socket = new Socket(
      {
        allowHalfOpen: this.allowHalfOpen,
        noDelay,
        keepAlive,
        highWaterMark,
        pauseOnConnect: this.pauseOnConnect,
      },
      {
        libos,
        qd: connQd,
        remote: addr,
        onClose: () => {
          this.#connections--;
          this.#emitCloseIfDrained();
        },
      },
    );
    socket.server = this;
    socket._server = this;
    this.#connections++;
    this.emit('connection', socket);
  }

  /** Stops accepting; 'close' follows once every connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (this.#qd === undefined && !this.#starting)
        this.once('close', () => cb(serverNotRunning()));
      else this.once('close', cb);
    }
    this.#starting = false;
    if (this.#qd !== undefined) {
      const qd = this.#qd;
      this.#qd = undefined;
      try {
        this.#libos!.close(qd);
      } catch {
        // Its LibOS was shut down: nothing left to close.
      }
    }
    this.#emitCloseIfDrained();
    return this;
  }

  #emitCloseIfDrained(): void {
    if (this.#qd !== undefined || this.#starting || this.#connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  address(): AddressInfo | null {
    return this.#qd === undefined ? null : { ...this.#address! };
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    validateFunction(cb, 'callback');
    process.nextTick(cb, null, this.#connections);
    return this;
  }

  get listening(): boolean {
    return this.#qd !== undefined;
  }

  /** As on sockets: demi's waits have no handle to unref. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#qd === undefined) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}
