import {
  DemiError,
  Opcode,
  type QDesc,
  type QToken,
  type Sga,
  type SocketAddress,
} from '@demi/core';
import { TX_PENDING } from '../arp/arp-layer.js';
import { parseIPv4 } from '../util/addr.js';
import { address, type SocketContext } from './context.js';
import type { UdpSocket } from './socket.js';

/** UDP sockets: bind (explicit or on first send), connect as a default peer, datagrams with addresses. */
export class UdpOps {
  constructor(readonly ctx: SocketContext) {}

  create(qd: QDesc): UdpSocket {
    return {
      kind: 'udp',
      qd,
      ep: undefined,
      boundAny: true,
      pops: [],
      peer: undefined,
      options: this.ctx.defaultOptions(),
    };
  }

  bind(s: UdpSocket, addr: SocketAddress, syscall = 'bind'): void {
    const { stack } = this.ctx;
    if (s.ep !== undefined)
      throw new DemiError('EINVAL', `socket ${s.qd} is already bound`, { syscall });
    const ip = parseIPv4(addr.address)!;
    if (ip !== 0 && ip !== stack.config.ipv4)
      throw new DemiError('EADDRNOTAVAIL', `${addr.address} is not this stack's address`, {
        syscall,
      });
    const ep = stack.udp.bind(addr.port);
    if (typeof ep === 'number')
      throw DemiError.fromErrno(ep, `UDP port ${addr.port} is already in use`, syscall);
    s.ep = ep;
    s.boundAny = ip === 0;
    ep.onReadable = () => this.#servicePops(s);
  }

  #ensureBound(s: UdpSocket, syscall: string): void {
    if (s.ep === undefined) this.bind(s, { address: '0.0.0.0', port: 0 }, syscall);
  }

  connect(s: UdpSocket, addr: SocketAddress): QToken {
    this.#ensureBound(s, 'connect');
    s.peer = {
      address:
        addr.address === '0.0.0.0' ? address(this.ctx.stack.config.ipv4, 0).address : addr.address,
      port: addr.port,
    };
    const qt = this.ctx.tokens.issue(s.qd, Opcode.CONNECT);
    this.ctx.tokens.complete(qt, { opcode: Opcode.CONNECT, ret: 0 });
    return qt;
  }

  push(s: UdpSocket, sga: Sga): QToken {
    if (s.peer === undefined)
      throw new DemiError(
        'EDESTADDRREQ',
        `UDP socket ${s.qd} has no peer: use pushto, or connect first`,
        { syscall: 'push' },
      );
    return this.pushto(s, sga, s.peer);
  }

  pushto(s: UdpSocket, sga: Sga, addr: SocketAddress): QToken {
    const { stack, tokens } = this.ctx;
    this.#ensureBound(s, 'pushto');
    let ip = parseIPv4(addr.address)!;
    if (ip === 0) ip = stack.config.ipv4;
    const qt = tokens.issue(s.qd, Opcode.PUSH);
    stack.touch();
    const r = stack.udp.send(s.ep!, ip, addr.port, sga.segments, (errno) => {
      tokens.complete(
        qt,
        errno === 0 ? { opcode: Opcode.PUSH, ret: 0 } : { opcode: Opcode.FAILED, ret: errno },
      );
    });
    if (r === 0) tokens.complete(qt, { opcode: Opcode.PUSH, ret: 0 });
    else if (r !== TX_PENDING) tokens.complete(qt, { opcode: Opcode.FAILED, ret: r });
    stack.flush();
    return qt;
  }

  pop(s: UdpSocket, size: number): QToken {
    this.#ensureBound(s, 'pop');
    const qt = this.ctx.tokens.issue(s.qd, Opcode.POP);
    s.pops.push({ qt, size });
    this.#servicePops(s);
    return qt;
  }

  #servicePops(s: UdpSocket): void {
    const ep = s.ep;
    if (ep === undefined) return;
    while (s.pops.length > 0 && ep.queue.size > 0) {
      const p = s.pops.shift()!;
      const d = ep.queue.shift()!;
      // A datagram larger than the pop is truncated, as recv() without MSG_PEEK does.
      const data = d.data.byteLength > p.size ? d.data.subarray(0, p.size) : d.data;
      const from = address(d.srcIp, d.srcPort);
      this.ctx.tokens.complete(p.qt, {
        opcode: Opcode.POP,
        ret: 0,
        sga: { segments: [data], addr: from },
        addr: from,
      });
    }
  }

  close(s: UdpSocket): void {
    if (s.ep !== undefined) this.ctx.stack.udp.unbind(s.ep);
    s.ep = undefined;
    s.pops.length = 0;
  }

  sockname(s: UdpSocket): SocketAddress {
    if (s.ep === undefined) return { address: '0.0.0.0', port: 0 };
    return s.boundAny
      ? { address: '0.0.0.0', port: s.ep.port }
      : address(this.ctx.stack.config.ipv4, s.ep.port);
  }

  peername(s: UdpSocket): SocketAddress {
    if (s.peer === undefined)
      throw new DemiError('ENOTCONN', `UDP socket ${s.qd} is not connected`, {
        syscall: 'getpeername',
      });
    return { ...s.peer };
  }
}
