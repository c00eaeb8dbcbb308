import { EventEmitter } from 'node:events';
import {
  BaseLibOS,
  type Capability,
  type DemiConfig,
  DemiError,
  IPPROTO_TCP,
  Opcode,
  PopPool,
  type QDesc,
  type QToken,
  type Sga,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  type SocketAddress,
  type SockoptValue,
  TCP_NODELAY,
} from '@demi/core';
import type { Clock, FrameDevice } from '../device/device.js';
import { ConfigError } from '../stack/config.js';
import { InetStack } from '../stack/inet-stack.js';
import type { StackStats } from '../stack/stats.js';
import type { RandomSource } from '../util/random.js';
import type { SocketContext } from './context.js';
import { stackConfigFromDemi } from './demi-config.js';
import type { Socket, SocketOptions, TcpSocket } from './socket.js';
import { TcpOps } from './tcp-ops.js';
import { UdpOps } from './udp-ops.js';

export interface InetStackLibOSOptions {
  /** The LibOS name callers see: 'catpowder' or 'catnip' when those backends build it. */
  name: string;
  device: FrameDevice;
  config: DemiConfig;
  /** Time source (default wall clock). */
  clock?: Clock;
  /** Randomness for ISNs and ports (default crypto-random). */
  random?: RandomSource;
}

const CAPABILITIES: ReadonlySet<Capability> = new Set(['tcp', 'udp', 'sockopt']);
/** How often an instance checks whether it went quiet and drops its freed pops' memory. */
const POP_TRIM_MS = 1000;

/**
 * demi's queue API over the user-level stack and any FrameDevice: the LibOS
 * that kernel-bypass backends (catpowder, catnip) are made of. `poll` receives
 * from the device, runs due timers and flushes; waits sleep on the device's
 * wake-up source when it has one and poll in slices when it does not.
 */
export class InetStackLibOS extends BaseLibOS {
  readonly name: string;
  readonly capabilities = CAPABILITIES;
  readonly stack: InetStack;
  readonly #sockets = new Map<QDesc, Socket>();
  readonly #tcp: TcpOps;
  readonly #udp: UdpOps;
  readonly #defaults: SocketOptions;
  readonly #events = new EventEmitter<{ internalError: [unknown] }>();
  /** Memory of freed pops, for the next ones (sgafree). */
  readonly #pops = new PopPool();
  readonly #trimTimer: ReturnType<typeof setInterval>;
  #nextQd = 1;

  constructor(options: InetStackLibOSOptions) {
    super();
    this.name = options.name;
    const input = stackConfigFromDemi(options.config);
    try {
      this.stack = new InetStack({
        device: options.device,
        config: input,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.random ? { random: options.random } : {}),
        onInternalError: (err) => this.#events.emit('internalError', err),
      });
    } catch (err) {
      if (err instanceof ConfigError)
        throw new DemiError('EINVAL', `invalid stack configuration: ${err.message}`, {
          syscall: 'init',
          cause: err,
        });
      throw err;
    }
    const tcp = this.stack.config.tcp;
    this.#defaults = {
      keepalive: tcp.keepalive.enabled,
      nodelay: tcp.nodelay,
      linger: { onoff: tcp.linger.enabled, linger: tcp.linger.seconds },
      reuseaddr: false,
    };
    const ctx: SocketContext = {
      tokens: this.tokens,
      pops: this.#pops,
      stack: this.stack,
      sockets: this.#sockets,
      name: this.name,
      newQd: () => this.#nextQd++,
      defaultOptions: () => ({ ...this.#defaults, linger: { ...this.#defaults.linger } }),
    };
    this.#tcp = new TcpOps(ctx);
    this.#udp = new UdpOps(ctx);
    // A quiet instance lets go of the pops' memory it kept.
    this.#trimTimer = setInterval(() => this.#pops.trimIdle(), POP_TRIM_MS);
    this.#trimTimer.unref();
  }

  /**
   * The stack's counters. `internalErrors` counts exceptions the stack caught
   * and swallowed while processing a frame or a timer: a bug, never normal.
   */
  get stats(): Readonly<StackStats> {
    return this.stack.stats;
  }

  /** 'internalError': each exception the stack caught and swallowed (see stats). */
  on(event: 'internalError', listener: (err: unknown) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off(event: 'internalError', listener: (err: unknown) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  // ---- progress ---------------------------------------------------------------

  protected poll(_timeoutMs: number, _sync: boolean): void {
    this.stack.poll();
  }

  protected override setWakeups(active: boolean): void {
    const device = this.stack.device;
    if (device.setWakeup === undefined) {
      super.setWakeups(active);
      return;
    }
    device.setWakeup(active ? () => this.progress() : undefined);
  }

  protected override nextTimerMs(): number | undefined {
    const at = this.stack.nextTimerAt();
    return at === undefined ? undefined : Math.max(0, at - this.stack.clock.now());
  }

  /** Retransmission, loss-probe and persist timers: data or a FIN is owed to a peer. */
  protected override timersHoldProcess(): boolean {
    return this.stack.timers.holding > 0;
  }

  // ---- sockets ------------------------------------------------------------------

  #socket(qd: QDesc, syscall: string): Socket {
    const s = this.#sockets.get(qd);
    if (s === undefined)
      throw new DemiError('EBADF', `no socket with queue descriptor ${qd}`, { syscall });
    return s;
  }

  protected override doSocket(_domain: number, type: number): QDesc {
    const qd = this.#nextQd++;
    this.#sockets.set(qd, type === SOCK_STREAM ? this.#tcp.create(qd) : this.#udp.create(qd));
    return qd;
  }

  protected override doBind(qd: QDesc, addr: SocketAddress): void {
    const s = this.#socket(qd, 'bind');
    if (s.kind === 'tcp') this.#tcp.bind(s, addr);
    else this.#udp.bind(s, addr);
  }

  protected override doListen(qd: QDesc, backlog: number): void {
    const s = this.#socket(qd, 'listen');
    if (s.kind === 'tcp') this.#tcp.listen(s, backlog);
  }

  protected override doAccept(qd: QDesc): QToken {
    // Core's socket rules let only listening stream sockets through.
    return this.#tcp.accept(this.#socket(qd, 'accept') as TcpSocket);
  }

  protected override doConnect(qd: QDesc, addr: SocketAddress): QToken {
    const s = this.#socket(qd, 'connect');
    return s.kind === 'tcp' ? this.#tcp.connect(s, addr) : this.#udp.connect(s, addr);
  }

  protected doPush(qd: QDesc, sga: Sga): QToken {
    const s = this.#socket(qd, 'push');
    return s.kind === 'tcp' ? this.#tcp.push(s, sga) : this.#udp.push(s, sga);
  }

  protected override doPushto(qd: QDesc, sga: Sga, addr: SocketAddress): QToken {
    const s = this.#socket(qd, 'pushto');
    if (s.kind === 'tcp')
      throw new DemiError(
        'ENOTSUP',
        'pushto is for datagram sockets; use push on a connected stream',
        { syscall: 'pushto' },
      );
    return this.#udp.pushto(s, sga, addr);
  }

  protected doPop(qd: QDesc, size: number): QToken {
    const s = this.#socket(qd, 'pop');
    return s.kind === 'tcp' ? this.#tcp.pop(s, size) : this.#udp.pop(s, size);
  }

  protected doClose(qd: QDesc): void {
    const s = this.#socket(qd, 'close');
    this.#sockets.delete(qd);
    this.tokens.failAll(qd);
    if (s.kind === 'tcp') this.#tcp.close(s);
    else this.#udp.close(s);
  }

  protected override doAsyncClose(qd: QDesc): QToken {
    const s = this.#socket(qd, 'asyncClose');
    this.#sockets.delete(qd);
    this.tokens.failAll(qd);
    const qt = this.tokens.issue(qd, Opcode.CLOSE);
    const done = () => this.tokens.complete(qt, { opcode: Opcode.CLOSE, ret: 0 });
    if (s.kind === 'tcp') this.#tcp.asyncClose(s, done);
    else {
      this.#udp.close(s);
      done();
    }
    return qt;
  }

  protected override doGetsockname(qd: QDesc): SocketAddress {
    const s = this.#socket(qd, 'getsockname');
    return s.kind === 'tcp' ? this.#tcp.sockname(s) : this.#udp.sockname(s);
  }

  protected override doGetpeername(qd: QDesc): SocketAddress {
    const s = this.#socket(qd, 'getpeername');
    return s.kind === 'tcp' ? this.#tcp.peername(s) : this.#udp.peername(s);
  }

  protected override doSetsockopt(
    qd: QDesc,
    level: number,
    name: number,
    value: SockoptValue,
  ): void {
    const s = this.#socket(qd, 'setsockopt');
    const o = s.options;
    const bool = (): boolean => {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      throw new DemiError('EINVAL', 'this option takes a boolean', { syscall: 'setsockopt' });
    };
    if (level === SOL_SOCKET && name === SO_KEEPALIVE) o.keepalive = bool();
    else if (level === SOL_SOCKET && name === SO_REUSEADDR) o.reuseaddr = bool();
    else if (level === SOL_SOCKET && name === SO_LINGER) {
      if (typeof value !== 'object')
        throw new DemiError('EINVAL', 'SO_LINGER takes {onoff, linger}', { syscall: 'setsockopt' });
      o.linger = { onoff: value.onoff, linger: value.linger };
    } else if (level === IPPROTO_TCP && name === TCP_NODELAY) {
      if (s.kind !== 'tcp')
        throw new DemiError('ENOPROTOOPT', 'TCP_NODELAY applies to stream sockets', {
          syscall: 'setsockopt',
        });
      o.nodelay = bool();
    } else
      throw new DemiError(
        'ENOPROTOOPT',
        `option ${name} at level ${level} is not supported (SO_KEEPALIVE, SO_LINGER, SO_REUSEADDR, TCP_NODELAY are)`,
        { syscall: 'setsockopt' },
      );
    if (s.kind === 'tcp') {
      this.stack.touch();
      this.#tcp.applyOptions(s);
      this.stack.flush();
    }
  }

  protected override doGetsockopt(qd: QDesc, level: number, name: number): SockoptValue {
    const s = this.#socket(qd, 'getsockopt');
    const o = s.options;
    if (level === SOL_SOCKET && name === SO_KEEPALIVE) return o.keepalive;
    if (level === SOL_SOCKET && name === SO_REUSEADDR) return o.reuseaddr;
    if (level === SOL_SOCKET && name === SO_LINGER) return { ...o.linger };
    if (level === IPPROTO_TCP && name === TCP_NODELAY && s.kind === 'tcp') return o.nodelay;
    throw new DemiError('ENOPROTOOPT', `option ${name} at level ${level} is not supported`, {
      syscall: 'getsockopt',
    });
  }

  protected override doSgaalloc(size: number): Sga {
    return this.#pops.issue(super.doSgaalloc(size).segments);
  }

  protected override doSgafree(sga: Sga): void {
    this.#pops.free(sga);
  }

  protected doShutdown(): void {
    clearInterval(this.#trimTimer);
    this.#pops.clear();
    for (const s of this.#sockets.values()) {
      if (s.kind === 'tcp') s.conn?.detach();
    }
    this.#sockets.clear();
    this.stack.close();
  }
}
