import { FrameQueue } from '../util/frame-queue.js';
import type { TcpConnection } from './connection.js';

/**
 * A passive open: connections in SYN-RECEIVED (`pending`, the SYN queue, at
 * most `synBacklog`) and established ones waiting for accept (`ready`, at most
 * `backlog`). A SYN while the accept queue is full is refused with a reset;
 * while the SYN queue is full it is answered with a SYN cookie.
 */
export class TcpListener {
  readonly pending = new Set<TcpConnection>();
  readonly ready: FrameQueue<TcpConnection>;
  /** Called when a connection becomes ready to accept. */
  onAcceptable: (() => void) | undefined;
  closed = false;
  /** When the SYN queue last overflowed: ACKs carrying cookies are looked at only for a while after. */
  overflowAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly port: number,
    readonly backlog: number,
    readonly synBacklog: number,
  ) {
    this.ready = new FrameQueue(backlog, 8);
  }

  /** The accept queue is full. */
  get full(): boolean {
    return this.ready.size >= this.backlog;
  }

  get synQueueFull(): boolean {
    return this.pending.size >= this.synBacklog;
  }

  /** The oldest established connection, now the application's. */
  accept(): TcpConnection | undefined {
    for (let c = this.ready.shift(); c !== undefined; c = this.ready.shift()) {
      if (c.released) continue;
      c.listener = undefined;
      return c;
    }
    return undefined;
  }
}
