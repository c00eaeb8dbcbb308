import {
  BaseLibOS,
  type Capability,
  DemiError,
  ERRNO,
  Opcode,
  type QDesc,
  type QToken,
  type Sga,
  SOCK_STREAM,
  type SocketAddress,
  sgaBytes,
} from '../../src/index.js';

/**
 * A small in-memory LibOS for core's own tests: stream and datagram sockets and
 * pipes between instances sharing one MemoryNetwork. Everything completes
 * synchronously, so it exercises the token table and wait engine without a
 * device. It is not shipped as a LibOS.
 */
export class MemoryNetwork {
  readonly listeners = new Map<string, Sock>();
  readonly datagrams = new Map<string, Sock>();
  readonly pipes = new Map<string, { ends: Sock[] }>();
  nextPort = 40000;
}

interface Sock {
  owner: MemoryLibOS;
  qd: QDesc;
  type: number;
  local?: SocketAddress;
  remote?: SocketAddress;
  listening: boolean;
  backlog: number;
  acceptQueue: Sock[];
  acceptWaiters: QToken[];
  peer?: Sock;
  rx: Array<{ data: Uint8Array; from?: SocketAddress }>;
  rxEof: boolean;
  popWaiters: Array<{ qt: QToken; size: number }>;
}

const key = (a: SocketAddress): string => `${a.address}:${a.port}`;

export class MemoryLibOS extends BaseLibOS {
  readonly name = 'memory';
  readonly capabilities: ReadonlySet<Capability>;
  readonly #socks = new Map<QDesc, Sock>();
  #nextQd = 1;

  constructor(
    readonly network: MemoryNetwork,
    capabilities: Capability[] = ['tcp', 'udp', 'pipe'],
  ) {
    super();
    this.capabilities = new Set(capabilities);
  }

  protected poll(): void {}
  protected override setWakeups(): void {}

  #sock(qd: QDesc, syscall: string): Sock {
    const s = this.#socks.get(qd);
    if (s === undefined) throw new DemiError('EBADF', `no queue descriptor ${qd}`, { syscall });
    return s;
  }

  #new(type: number): Sock {
    const s: Sock = {
      owner: this,
      qd: this.#nextQd++,
      type,
      listening: false,
      backlog: 0,
      acceptQueue: [],
      acceptWaiters: [],
      rx: [],
      rxEof: false,
      popWaiters: [],
    };
    this.#socks.set(s.qd, s);
    return s;
  }

  protected override doSocket(_d: number, type: number): QDesc {
    return this.#new(type).qd;
  }

  protected override doBind(qd: QDesc, addr: SocketAddress): void {
    const s = this.#sock(qd, 'bind');
    if (s.local !== undefined) throw new DemiError('EINVAL', 'already bound', { syscall: 'bind' });
    const local = addr.port === 0 ? { ...addr, port: this.network.nextPort++ } : addr;
    if (s.type !== SOCK_STREAM) {
      if (this.network.datagrams.has(key(local)))
        throw new DemiError('EADDRINUSE', key(local), { syscall: 'bind' });
      this.network.datagrams.set(key(local), s);
    }
    s.local = local;
  }

  protected override doListen(qd: QDesc, backlog: number): void {
    const s = this.#sock(qd, 'listen');
    if (s.local === undefined)
      throw new DemiError('EDESTADDRREQ', 'bind first', { syscall: 'listen' });
    if (this.network.listeners.has(key(s.local)))
      throw new DemiError('EADDRINUSE', key(s.local), { syscall: 'listen' });
    s.listening = true;
    s.backlog = Math.max(1, backlog);
    this.network.listeners.set(key(s.local), s);
  }

  protected override doAccept(qd: QDesc): QToken {
    const s = this.#sock(qd, 'accept');
    if (!s.listening) throw new DemiError('EINVAL', 'not listening', { syscall: 'accept' });
    const qt = this.tokens.issue(qd, Opcode.ACCEPT);
    s.acceptWaiters.push(qt);
    this.#matchAccepts(s);
    return qt;
  }

  #matchAccepts(s: Sock): void {
    while (s.acceptWaiters.length > 0 && s.acceptQueue.length > 0) {
      const conn = s.acceptQueue.shift()!;
      const qt = s.acceptWaiters.shift()!;
      this.#socks.set(conn.qd, conn);
      this.tokens.complete(qt, {
        opcode: Opcode.ACCEPT,
        ret: 0,
        accepted: { qd: conn.qd, addr: conn.remote! },
      });
    }
  }

  protected override doConnect(qd: QDesc, addr: SocketAddress): QToken {
    const s = this.#sock(qd, 'connect');
    if (s.peer !== undefined)
      throw new DemiError('EISCONN', 'already connected', { syscall: 'connect' });
    const qt = this.tokens.issue(qd, Opcode.CONNECT);
    const listener = this.network.listeners.get(key(addr));
    if (listener === undefined || listener.acceptQueue.length >= listener.backlog) {
      this.tokens.complete(qt, { opcode: Opcode.FAILED, ret: ERRNO.ECONNREFUSED });
      return qt;
    }
    s.local ??= { address: '127.0.0.1', port: this.network.nextPort++ };
    s.remote = addr;
    const server = listener.owner;
    const conn: Sock = {
      owner: server,
      qd: server.#nextQd++,
      type: SOCK_STREAM,
      local: addr,
      remote: s.local,
      listening: false,
      backlog: 0,
      acceptQueue: [],
      acceptWaiters: [],
      rx: [],
      rxEof: false,
      popWaiters: [],
      peer: s,
    };
    s.peer = conn;
    listener.acceptQueue.push(conn);
    server.#matchAccepts(listener);
    this.tokens.complete(qt, { opcode: Opcode.CONNECT, ret: 0 });
    return qt;
  }

  protected override doClose(qd: QDesc): void {
    const s = this.#sock(qd, 'close');
    this.#socks.delete(qd);
    this.tokens.failAll(qd);
    if (s.listening && s.local) this.network.listeners.delete(key(s.local));
    if (s.type !== SOCK_STREAM && s.local) this.network.datagrams.delete(key(s.local));
    if (s.peer !== undefined) {
      s.peer.rxEof = true;
      s.peer.owner.#deliver(s.peer);
    }
  }

  protected override doPush(qd: QDesc, sga: Sga): QToken {
    const s = this.#sock(qd, 'push');
    if (s.peer === undefined) throw new DemiError('ENOTCONN', 'not connected', { syscall: 'push' });
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    s.peer.rx.push({ data: sgaBytes(sga).slice() });
    s.peer.owner.#deliver(s.peer);
    this.tokens.complete(qt, { opcode: Opcode.PUSH, ret: 0 });
    return qt;
  }

  protected override doPushto(qd: QDesc, sga: Sga, addr: SocketAddress): QToken {
    const s = this.#sock(qd, 'pushto');
    s.local ??= { address: '127.0.0.1', port: this.network.nextPort++ };
    if (!this.network.datagrams.has(key(s.local))) this.network.datagrams.set(key(s.local), s);
    const qt = this.tokens.issue(qd, Opcode.PUSH);
    const dest = this.network.datagrams.get(key(addr));
    if (dest !== undefined) {
      dest.rx.push({ data: sgaBytes(sga).slice(), from: s.local });
      dest.owner.#deliver(dest);
    }
    this.tokens.complete(qt, { opcode: Opcode.PUSH, ret: 0 });
    return qt;
  }

  protected override doPop(qd: QDesc, size: number): QToken {
    const s = this.#sock(qd, 'pop');
    const qt = this.tokens.issue(qd, Opcode.POP);
    s.popWaiters.push({ qt, size });
    this.#deliver(s);
    return qt;
  }

  #deliver(s: Sock): void {
    while (s.popWaiters.length > 0 && (s.rx.length > 0 || s.rxEof)) {
      const { qt, size } = s.popWaiters.shift()!;
      const head = s.rx[0];
      if (head === undefined) {
        this.tokens.complete(qt, {
          opcode: Opcode.POP,
          ret: 0,
          sga: { segments: [new Uint8Array(0)] },
        });
        continue;
      }
      let data = head.data;
      if (data.byteLength > size && s.type === SOCK_STREAM) {
        head.data = data.subarray(size);
        data = data.subarray(0, size);
      } else {
        s.rx.shift();
      }
      const sga: Sga = { segments: [data] };
      if (head.from) sga.addr = head.from;
      this.tokens.complete(
        qt,
        head.from
          ? { opcode: Opcode.POP, ret: 0, sga, addr: head.from }
          : { opcode: Opcode.POP, ret: 0, sga },
      );
    }
  }

  protected override doCreatePipe(name: string): QDesc {
    if (this.network.pipes.has(name))
      throw new DemiError('EEXIST', name, { syscall: 'createPipe' });
    const s = this.#new(0);
    this.network.pipes.set(name, { ends: [s] });
    return s.qd;
  }

  protected override doOpenPipe(name: string): QDesc {
    const pipe = this.network.pipes.get(name);
    if (pipe === undefined) throw new DemiError('ENOENT', name, { syscall: 'openPipe' });
    const s = this.#new(0);
    s.peer = pipe.ends[0];
    pipe.ends[0]!.peer = s;
    pipe.ends.push(s);
    return s.qd;
  }

  protected override doGetpeername(qd: QDesc): SocketAddress {
    const s = this.#sock(qd, 'getpeername');
    if (s.remote === undefined)
      throw new DemiError('ENOTCONN', 'not connected', { syscall: 'getpeername' });
    return s.remote;
  }

  protected override doGetsockname(qd: QDesc): SocketAddress {
    const s = this.#sock(qd, 'getsockname');
    return s.local ?? { address: '0.0.0.0', port: 0 };
  }

  protected doShutdown(): void {
    for (const qd of [...this.#socks.keys()]) this.doClose(qd);
  }
}
