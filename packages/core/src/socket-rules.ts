import { Opcode, SOCK_STREAM } from './constants.js';
import { DemiError, ERRNO } from './errors.js';
import type { QDesc, QResult, SocketAddress } from './types.js';

/**
 * The state of every queue descriptor a LibOS handed out, and the rules that
 * follow from it: which call is allowed in which state, and which errno it
 * fails with otherwise. Kept once here, checked before any backend sees the
 * call, so every LibOS answers a call in the wrong state the same way.
 * The choices are Demikernel's socket state machine, with the departures
 * listed in core's README.
 */
export type Phase = 'unbound' | 'bound' | 'listening' | 'connecting' | 'connected' | 'failed';

interface Tracked {
  kind: 'tcp' | 'udp' | 'pipe';
  phase: Phase;
  /** The address bound explicitly (port ≠ 0), held in the in-use table. */
  held: string | undefined;
}

const ANY = '0.0.0.0';

export class SocketRules {
  readonly #qds = new Map<QDesc, Tracked>();
  /** Explicitly bound `kind:port` → the addresses bound there. */
  readonly #inUse = new Map<string, Set<string>>();

  opened(qd: QDesc, type: number): void {
    this.#qds.set(qd, {
      kind: type === SOCK_STREAM ? 'tcp' : 'udp',
      phase: 'unbound',
      held: undefined,
    });
  }

  openedPipe(qd: QDesc): void {
    this.#qds.set(qd, { kind: 'pipe', phase: 'connected', held: undefined });
  }

  closed(qd: QDesc): void {
    const t = this.#qds.get(qd);
    if (t === undefined) return;
    this.#release(t);
    this.#qds.delete(qd);
  }

  clear(): void {
    this.#qds.clear();
    this.#inUse.clear();
  }

  /** A socket call other than close on a socket whose connect failed is EBADF. */
  check(qd: QDesc, syscall: string): Tracked | undefined {
    const t = this.#qds.get(qd);
    if (t?.phase === 'failed')
      throw new DemiError(
        'EBADF',
        `socket ${qd} is closed: its connect failed; close it and open a new socket`,
        { syscall },
      );
    return t;
  }

  beforeBind(qd: QDesc, addr: SocketAddress): void {
    const t = this.check(qd, 'bind');
    if (t === undefined || t.kind === 'pipe') return;
    if (t.phase !== 'unbound')
      throw new DemiError('EINVAL', `socket ${qd} already has an address (it is ${t.phase})`, {
        syscall: 'bind',
      });
    if (addr.port === 0) return;
    const taken = this.#inUse.get(`${t.kind}:${addr.port}`);
    if (
      taken !== undefined &&
      (taken.has(addr.address) || taken.has(ANY) || (addr.address === ANY && taken.size > 0))
    )
      throw new DemiError(
        'EADDRINUSE',
        `${addr.address}:${addr.port} is already bound by another socket`,
        { syscall: 'bind' },
      );
  }

  bound(qd: QDesc, addr: SocketAddress): void {
    const t = this.#qds.get(qd);
    if (t === undefined || t.kind === 'pipe') return;
    t.phase = 'bound';
    if (addr.port === 0) return;
    const key = `${t.kind}:${addr.port}`;
    let set = this.#inUse.get(key);
    if (set === undefined) this.#inUse.set(key, (set = new Set()));
    set.add(addr.address);
    t.held = `${key}|${addr.address}`;
  }

  beforeListen(qd: QDesc): void {
    const t = this.check(qd, 'listen');
    if (t === undefined) return;
    if (t.kind !== 'tcp') throw notStream(qd, 'listen');
    switch (t.phase) {
      case 'unbound':
        throw new DemiError('EDESTADDRREQ', `socket ${qd} must be bound before it listens`, {
          syscall: 'listen',
        });
      case 'listening':
        throw new DemiError('EADDRINUSE', `socket ${qd} is already listening`, {
          syscall: 'listen',
        });
      case 'connecting':
        throw new DemiError('EADDRINUSE', `socket ${qd} is connecting`, { syscall: 'listen' });
      case 'connected':
        throw new DemiError('EISCONN', `socket ${qd} is connected`, { syscall: 'listen' });
    }
  }

  listening(qd: QDesc): void {
    const t = this.#qds.get(qd);
    if (t !== undefined) t.phase = 'listening';
  }

  beforeAccept(qd: QDesc): void {
    const t = this.check(qd, 'accept');
    if (t === undefined) return;
    if (t.kind !== 'tcp') throw notStream(qd, 'accept');
    if (t.phase === 'connected')
      throw new DemiError('EISCONN', `socket ${qd} is connected`, { syscall: 'accept' });
    if (t.phase !== 'listening')
      throw new DemiError('EINVAL', `socket ${qd} is not listening (it is ${t.phase})`, {
        syscall: 'accept',
      });
  }

  /** Checks a connect; returns the phase to restore if the backend throws. */
  beforeConnect(qd: QDesc): Phase | undefined {
    const t = this.check(qd, 'connect');
    if (t === undefined || t.kind !== 'tcp') return undefined;
    switch (t.phase) {
      case 'listening':
        // Linux's EOPNOTSUPP and ENOTSUP are one errno (95); demi names it ENOTSUP.
        throw new DemiError('ENOTSUP', `socket ${qd} is listening; it cannot connect`, {
          syscall: 'connect',
        });
      case 'connecting':
        throw new DemiError('EINPROGRESS', `socket ${qd} is already connecting`, {
          syscall: 'connect',
        });
      case 'connected':
        throw new DemiError('EISCONN', `socket ${qd} is already connected`, {
          syscall: 'connect',
        });
    }
    const before = t.phase;
    t.phase = 'connecting';
    return before;
  }

  /** Undoes beforeConnect when the backend refused the call itself. */
  connectThrew(qd: QDesc, before: Phase | undefined): void {
    const t = this.#qds.get(qd);
    if (t !== undefined && before !== undefined) t.phase = before;
  }

  /** A datagram socket that connected or sent has an address from then on. */
  autobound(qd: QDesc): void {
    const t = this.#qds.get(qd);
    if (t?.kind === 'udp' && t.phase === 'unbound') t.phase = 'bound';
  }

  beforeTransfer(qd: QDesc, syscall: 'push' | 'pop' | 'pushto'): Tracked | undefined {
    const t = this.check(qd, syscall);
    if (t === undefined) return undefined;
    if (t.kind !== 'udp' && syscall === 'pushto')
      throw new DemiError(
        'ENOTSUP',
        `pushto is for datagram sockets; use push on ${t.kind === 'tcp' ? 'a connected stream' : 'a pipe'}`,
        { syscall },
      );
    if (t.kind === 'tcp' && t.phase !== 'connected')
      throw new DemiError('ENOTCONN', `socket ${qd} is not connected (it is ${t.phase})`, {
        syscall,
      });
    if (t.kind === 'udp' && syscall === 'pop' && t.phase === 'unbound')
      throw new DemiError(
        'EDESTADDRREQ',
        `datagram socket ${qd} has no address to receive on: bind it (or send from it) first`,
        { syscall },
      );
    return t;
  }

  /** Follows connects and accepts as they complete (called by the token table). */
  settled(qd: QDesc, issued: number, result: Omit<QResult, 'qt'>): void {
    if (issued === Opcode.CONNECT) {
      const t = this.#qds.get(qd);
      if (t === undefined) return;
      if (t.kind === 'udp') {
        if (result.opcode === Opcode.CONNECT) this.autobound(qd);
        return;
      }
      if (t.phase !== 'connecting') return;
      if (result.opcode === Opcode.CONNECT) t.phase = 'connected';
      else if (result.ret !== ERRNO.ECANCELED) t.phase = 'failed';
    } else if (issued === Opcode.ACCEPT && result.accepted !== undefined) {
      this.#qds.set(result.accepted.qd, { kind: 'tcp', phase: 'connected', held: undefined });
    }
  }

  #release(t: Tracked): void {
    if (t.held === undefined) return;
    const [key, address] = t.held.split('|') as [string, string];
    const set = this.#inUse.get(key);
    set?.delete(address);
    if (set?.size === 0) this.#inUse.delete(key);
    t.held = undefined;
  }
}

function notStream(qd: QDesc, syscall: string): DemiError {
  return new DemiError('ENOTSUP', `${syscall} needs a stream socket; ${qd} is not one`, {
    syscall,
  });
}
