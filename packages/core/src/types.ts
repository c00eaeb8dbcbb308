import type { Opcode } from './constants.js';

/** A queue descriptor: names a socket or pipe inside one LibOS. */
export type QDesc = number;

/**
 * A queue token: names one asynchronous operation until a wait consumes it.
 * A plain safe integer, so issuing one allocates nothing.
 */
export type QToken = number;

/** An IPv4 endpoint. */
export interface SocketAddress {
  /** Dotted-quad IPv4 address, e.g. '127.0.0.1'. */
  address: string;
  port: number;
}

/** A scatter-gather array: the unit of data every push and pop moves. */
export interface Sga {
  segments: Uint8Array[];
  /** The sender's address, on pops from datagram sockets. */
  addr?: SocketAddress;
}

/** The outcome of an operation, handed out once by a wait. */
export interface QResult {
  opcode: Opcode;
  qd: QDesc;
  qt: QToken;
  /** 0 on success, else a Linux errno (ECANCELED, ECONNRESET, ...). */
  ret: number;
  /** Data popped; a zero-length sga is end of file. */
  sga?: Sga;
  /** Source address of a datagram pop. */
  addr?: SocketAddress;
  /** The new connection of an ACCEPT. */
  accepted?: { qd: QDesc; addr: SocketAddress };
}

/** What waitAny resolves with: which token completed, and how. */
export interface WaitAnyResult {
  index: number;
  result: QResult;
}

/** What a LibOS can do, so callers and tests can ask instead of guessing. */
export type Capability =
  | 'tcp'
  | 'udp'
  | 'pipe'
  | 'sockopt'
  /** Data crosses to other processes (not only within one process). */
  | 'multiprocess';

export type SockoptValue = boolean | number | { onoff: boolean; linger: number };

/** The uniform, queue-based I/O contract every LibOS implements. */
export interface LibOS {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;

  socket(domain: number, type: number, protocol?: number): QDesc;
  bind(qd: QDesc, addr: SocketAddress): void;
  listen(qd: QDesc, backlog: number): void;
  accept(qd: QDesc): QToken;
  connect(qd: QDesc, addr: SocketAddress): QToken;
  /** Closes now; operations still pending complete FAILED with ECANCELED. */
  close(qd: QDesc): void;
  /** Closes once pushed data has left; the token completes with CLOSE. */
  asyncClose(qd: QDesc): QToken;
  push(qd: QDesc, sga: Sga): QToken;
  pushto(qd: QDesc, sga: Sga, addr: SocketAddress): QToken;
  pop(qd: QDesc, size?: number): QToken;

  /** Completes one token; never blocks the event loop. No timeout waits forever. */
  wait(qt: QToken, timeoutMs?: number): Promise<QResult>;
  /** Completes the first of several tokens. */
  waitAny(qts: readonly QToken[], timeoutMs?: number): Promise<WaitAnyResult>;
  /** Resolves with 1..n results of any outstanding tokens nobody else waits on. */
  waitNextN(n: number, timeoutMs?: number): Promise<QResult[]>;
  /** Busy-polls on the calling thread until the token completes: lowest latency. */
  waitSync(qt: QToken, timeoutMs?: number): QResult;
  waitAnySync(qts: readonly QToken[], timeoutMs?: number): WaitAnyResult;

  sgaalloc(size: number): Sga;
  sgafree(sga: Sga): void;

  createPipe(name: string): QDesc;
  openPipe(name: string): QDesc;

  setsockopt(qd: QDesc, level: number, name: number, value: SockoptValue): void;
  getsockopt(qd: QDesc, level: number, name: number): SockoptValue;
  getpeername(qd: QDesc): SocketAddress;
  getsockname(qd: QDesc): SocketAddress;

  /** Releases everything; pending operations complete FAILED with ECANCELED. */
  shutdown(): Promise<void>;
}
