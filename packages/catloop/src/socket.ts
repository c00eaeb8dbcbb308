import type { PendingPop, PendingPush } from '@demi/catmem';
import type { QDesc, QToken, SocketAddress } from '@demi/core';

/**
 * fresh: just made; bound: holds its address (a control pipe, not yet taking
 * requests); listening: takes connection requests; connecting: its request is
 * queued at a listener; connected: has its own pipe.
 */
export type SocketState = 'fresh' | 'bound' | 'listening' | 'connecting' | 'connected';

const NONE: never[] = [];

/**
 * JS-side state of one socket: its native handle and what waits on it, in
 * order. A connection has one pop pending nearly all the time, so the first
 * pending pop lives in fields of its own and nothing is allocated per pop;
 * the queues of further pops, of pushes and of accepts are made the first
 * time one is needed.
 */
export class Socket {
  state: SocketState = 'fresh';
  /** Native handle (0: none). */
  handle = 0;
  local: SocketAddress | undefined = undefined;
  remote: SocketAddress | undefined = undefined;
  /** Largest record of the connection's rings (ring size / 2 − 8): no pop returns more. */
  maxRecord = 0;
  /** Position in the instance's list of sockets with pending operations (-1: none pending). */
  busyAt = -1;
  connectQt: QToken | undefined = undefined;
  /** The oldest pending pop (undefined: none) and its size. */
  popQt: QToken | undefined = undefined;
  popSize = 0;
  /** Pops queued behind the oldest one. */
  morePops: PendingPop[] = NONE;
  pushes: PendingPush[] = NONE;
  accepts: QToken[] = NONE;
  /** Set by asyncClose: the socket closes once its pushes have left. */
  closeQt: QToken | undefined = undefined;

  constructor(readonly qd: QDesc) {}

  get idle(): boolean {
    return (
      this.popQt === undefined &&
      this.pushes.length === 0 &&
      this.accepts.length === 0 &&
      this.connectQt === undefined &&
      this.closeQt === undefined
    );
  }

  /** Queues a pop behind the pending ones. */
  queuePop(qt: QToken, size: number): void {
    if (this.popQt === undefined) {
      this.popQt = qt;
      this.popSize = size;
    } else {
      if (this.morePops === NONE) this.morePops = [];
      this.morePops.push({ qt, size });
    }
  }

  /** Drops the oldest pending pop (it completed); the next one takes its place. */
  shiftPop(): void {
    const next = this.morePops.length > 0 ? this.morePops.shift() : undefined;
    this.popQt = next?.qt;
    this.popSize = next?.size ?? 0;
  }

  queuePush(push: PendingPush): void {
    if (this.pushes === NONE) this.pushes = [];
    this.pushes.push(push);
  }

  queueAccept(qt: QToken): void {
    if (this.accepts === NONE) this.accepts = [];
    this.accepts.push(qt);
  }
}
