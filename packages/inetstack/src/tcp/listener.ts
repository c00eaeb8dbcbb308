import { FrameQueue } from '../util/frame-queue.js';
import type { TcpConnection } from './connection.js';

/**
 * A passive open: connections in SYN-RECEIVED (`pending`) and established
 * ones waiting for accept (`ready`). Both count against the backlog; SYNs beyond
 * it are refused with a reset.
 */
export class TcpListener {
  readonly pending = new Set<TcpConnection>();
  readonly ready: FrameQueue<TcpConnection>;
  /** Called when a connection becomes ready to accept. */
  onAcceptable: (() => void) | undefined;
  closed = false;

  constructor(
    readonly port: number,
    readonly backlog: number,
  ) {
    this.ready = new FrameQueue(backlog, 8);
  }

  get full(): boolean {
    return this.pending.size + this.ready.size >= this.backlog;
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
