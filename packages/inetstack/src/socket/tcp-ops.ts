import {
  DemiError,
  ERRNO,
  Opcode,
  type QDesc,
  type QToken,
  type Sga,
  type SocketAddress,
} from '@demi/core';
import type { TcpConnection } from '../tcp/connection.js';
import { parseIPv4 } from '../util/addr.js';
import { address, type SocketContext } from './context.js';
import type { TcpSocket } from './socket.js';

/**
 * TCP sockets over the engine's connections: queue-descriptor state, pending
 * pops, pushes and accepts, and the events that complete them.
 */
export class TcpOps {
  constructor(readonly ctx: SocketContext) {}

  create(qd: QDesc): TcpSocket {
    return {
      kind: 'tcp',
      qd,
      phase: 'unbound',
      port: 0,
      boundAny: true,
      listener: undefined,
      conn: undefined,
      connectQt: undefined,
      accepts: [],
      pops: [],
      pushes: [],
      options: this.ctx.defaultOptions(),
      peer: undefined,
    };
  }

  bind(s: TcpSocket, addr: SocketAddress): void {
    const { stack } = this.ctx;
    const ip = parseIPv4(addr.address)!;
    if (ip !== 0 && ip !== stack.config.ipv4)
      throw new DemiError(
        'EADDRNOTAVAIL',
        `${addr.address} is not this stack's address (${address(stack.config.ipv4, 0).address})`,
        { syscall: 'bind' },
      );
    let port = addr.port;
    if (port === 0) {
      port = this.#freePort();
    } else if (this.#portTaken(port)) {
      throw new DemiError('EADDRINUSE', `TCP port ${port} is already in use`, { syscall: 'bind' });
    }
    stack.tcp.reservedPorts.add(port);
    s.port = port;
    s.boundAny = ip === 0;
    s.phase = 'bound';
  }

  #portTaken(port: number): boolean {
    const tcp = this.ctx.stack.tcp;
    return tcp.reservedPorts.has(port) || tcp.isListening(port) || tcp.portInUse(port);
  }

  #freePort(): number {
    const start = 49152 + (this.ctx.stack.random.nextU32() % 16384);
    for (let i = 0; i < 16384; i++) {
      const p = 49152 + ((start - 49152 + i) % 16384);
      if (!this.#portTaken(p)) return p;
    }
    throw new DemiError('EADDRINUSE', 'no ephemeral TCP port is free', { syscall: 'bind' });
  }

  listen(s: TcpSocket, backlog: number): void {
    const { stack } = this.ctx;
    const l = stack.tcp.listen(s.port, backlog);
    if (typeof l === 'number')
      throw DemiError.fromErrno(l, `cannot listen on port ${s.port}`, 'listen');
    stack.tcp.reservedPorts.delete(s.port);
    s.listener = l;
    s.phase = 'listening';
    l.onAcceptable = () => this.#serviceAccepts(s);
  }

  accept(s: TcpSocket): QToken {
    const qt = this.ctx.tokens.issue(s.qd, Opcode.ACCEPT);
    s.accepts.push(qt);
    this.#serviceAccepts(s);
    return qt;
  }

  #serviceAccepts(s: TcpSocket): void {
    const l = s.listener;
    if (l === undefined) return;
    while (s.accepts.length > 0) {
      const c = l.accept();
      if (c === undefined) return;
      const qt = s.accepts.shift()!;
      const child = this.create(this.ctx.newQd());
      child.phase = 'connected';
      child.port = c.localPort;
      child.boundAny = s.boundAny;
      child.options = { ...s.options };
      child.peer = address(c.remoteIp, c.remotePort);
      this.#attach(child, c);
      this.ctx.sockets.set(child.qd, child);
      this.ctx.tokens.complete(qt, {
        opcode: Opcode.ACCEPT,
        ret: 0,
        accepted: { qd: child.qd, addr: child.peer },
      });
    }
  }

  connect(s: TcpSocket, addr: SocketAddress): QToken {
    // Calls in the wrong state never get here: core's socket rules answer them.
    const { stack, tokens } = this.ctx;
    let ip = parseIPv4(addr.address)!;
    if (ip === 0) ip = stack.config.ipv4;
    stack.touch();
    const c = stack.tcp.connect(ip, addr.port, s.phase === 'bound' ? s.port : 0);
    if (typeof c === 'number')
      throw DemiError.fromErrno(c, `cannot connect to ${addr.address}:${addr.port}`, 'connect');
    if (s.phase === 'bound') stack.tcp.reservedPorts.delete(s.port);
    s.port = c.localPort;
    s.phase = 'connecting';
    s.peer = { address: address(ip, 0).address, port: addr.port };
    const qt = tokens.issue(s.qd, Opcode.CONNECT);
    s.connectQt = qt;
    this.#attach(s, c);
    stack.flush();
    return qt;
  }

  #attach(s: TcpSocket, c: TcpConnection): void {
    s.conn = c;
    c.nodelay = s.options.nodelay;
    c.setKeepalive(s.options.keepalive);
    const { tokens } = this.ctx;
    c.events = {
      onEstablished: () => {
        s.phase = 'connected';
        const qt = s.connectQt;
        s.connectQt = undefined;
        if (qt !== undefined) tokens.complete(qt, { opcode: Opcode.CONNECT, ret: 0 });
        this.#servicePushes(s);
      },
      onReadable: () => this.#servicePops(s),
      onWritable: () => this.#servicePushes(s),
      onError: (errno) => {
        const qt = s.connectQt;
        s.connectQt = undefined;
        if (qt !== undefined) tokens.complete(qt, { opcode: Opcode.FAILED, ret: errno });
        this.#servicePops(s);
        this.#servicePushes(s);
      },
    };
  }

  push(s: TcpSocket, sga: Sga): QToken {
    const qt = this.ctx.tokens.issue(s.qd, Opcode.PUSH);
    s.pushes.push({ qt, segments: sga.segments, index: 0, offset: 0 });
    this.ctx.stack.touch();
    this.#servicePushes(s);
    this.ctx.stack.flush();
    return qt;
  }

  #servicePushes(s: TcpSocket): void {
    const c = s.conn;
    const { tokens } = this.ctx;
    while (s.pushes.length > 0 && c !== undefined) {
      const p = s.pushes[0]!;
      if (c.error !== 0 || (!c.canSend && s.phase === 'connected')) {
        s.pushes.shift();
        tokens.complete(p.qt, {
          opcode: Opcode.FAILED,
          ret: c.error !== 0 ? c.error : ERRNO.EPIPE,
        });
        continue;
      }
      while (p.index < p.segments.length) {
        const seg = p.segments[p.index]!;
        const n = c.write(seg, p.offset, seg.byteLength - p.offset);
        p.offset += n;
        if (p.offset < seg.byteLength) return;
        p.index++;
        p.offset = 0;
      }
      s.pushes.shift();
      tokens.complete(p.qt, { opcode: Opcode.PUSH, ret: 0 });
    }
  }

  pop(s: TcpSocket, size: number): QToken {
    const qt = this.ctx.tokens.issue(s.qd, Opcode.POP);
    s.pops.push({ qt, size });
    this.ctx.stack.touch();
    this.#servicePops(s);
    this.ctx.stack.flush();
    return qt;
  }

  #servicePops(s: TcpSocket): void {
    const c = s.conn;
    const { tokens, pops } = this.ctx;
    while (s.pops.length > 0 && c !== undefined) {
      const p = s.pops[0]!;
      if (c.readable > 0) {
        s.pops.shift();
        // Into memory an earlier pop's sgafree gave back, when there is some.
        const data = pops.claim(Math.min(p.size, c.readable));
        c.read(data);
        tokens.complete(p.qt, { opcode: Opcode.POP, ret: 0, sga: pops.issueFilled(data) });
      } else if (c.finReceived) {
        // End of file: every pop from now on gets zero bytes.
        s.pops.shift();
        tokens.complete(p.qt, {
          opcode: Opcode.POP,
          ret: 0,
          sga: pops.issue([new Uint8Array(0)]),
        });
      } else if (c.error !== 0) {
        s.pops.shift();
        tokens.complete(p.qt, { opcode: Opcode.FAILED, ret: c.error });
      } else {
        return;
      }
    }
  }

  /** Closes now: pending operations were cancelled by the caller; the connection closes on its own. */
  close(s: TcpSocket): void {
    this.#release(s);
    const c = s.conn;
    s.conn = undefined;
    if (c !== undefined) {
      c.detach();
      this.#closeConnection(s, c);
    }
  }

  /** Closes once our data and FIN are acknowledged; `done` runs then (or at once when nothing is pending). */
  asyncClose(s: TcpSocket, done: () => void): void {
    this.#release(s);
    const c = s.conn;
    s.conn = undefined;
    if (c === undefined || c.released) {
      done();
      return;
    }
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      c.detach();
      done();
    };
    c.events = { onFinAcked: finish, onReleased: finish, onError: finish };
    c.orphan = true;
    this.#closeConnection(s, c);
    if (c.released) finish();
  }

  #closeConnection(s: TcpSocket, c: TcpConnection): void {
    const { stack } = this.ctx;
    stack.touch();
    const l = s.options.linger;
    if (l.onoff && l.linger === 0) c.abort();
    else c.close(l.onoff ? l.linger * 1000 : undefined);
    stack.flush();
  }

  #release(s: TcpSocket): void {
    const { stack } = this.ctx;
    if (s.phase === 'bound') stack.tcp.reservedPorts.delete(s.port);
    if (s.listener !== undefined) {
      stack.tcp.unlisten(s.listener);
      s.listener = undefined;
      stack.flush();
    }
    s.phase = 'closed';
    s.accepts.length = 0;
    s.pops.length = 0;
    s.pushes.length = 0;
    s.connectQt = undefined;
  }

  sockname(s: TcpSocket): SocketAddress {
    const ours = this.ctx.stack.config.ipv4;
    if (s.phase === 'unbound') return { address: '0.0.0.0', port: 0 };
    if (s.conn !== undefined || !s.boundAny) return address(ours, s.port);
    return { address: '0.0.0.0', port: s.port };
  }

  peername(s: TcpSocket): SocketAddress {
    if ((s.phase !== 'connected' && s.phase !== 'connecting') || s.peer === undefined)
      throw new DemiError('ENOTCONN', `socket ${s.qd} is not connected`, {
        syscall: 'getpeername',
      });
    return { ...s.peer };
  }

  applyOptions(s: TcpSocket): void {
    const c = s.conn;
    if (c === undefined) return;
    c.nodelay = s.options.nodelay;
    c.setKeepalive(s.options.keepalive);
    if (c.nodelay) c.layer.markDirty(c);
  }
}
