import type { PendingPop, PendingPush } from '@demi/catmem';
import type { QDesc, QToken, SocketAddress } from '@demi/core';

/**
 * fresh: just made; bound: holds its address (a control pipe, not yet taking
 * requests); listening: takes connection requests; connecting: its request is
 * queued at a listener; connected: has its own pipe.
 */
export type SocketState = 'fresh' | 'bound' | 'listening' | 'connecting' | 'connected';

/** JS-side state of one socket: its native handle and what waits on it, in order. */
export class Socket {
  state: SocketState = 'fresh';
  /** Native handle (0: none). */
  handle = 0;
  local: SocketAddress | undefined;
  remote: SocketAddress | undefined;
  /** Largest record of the connection's rings (ring size / 2 − 8): no pop returns more. */
  maxRecord = 0;
  readonly accepts: QToken[] = [];
  connectQt: QToken | undefined;
  readonly pops: PendingPop[] = [];
  readonly pushes: PendingPush[] = [];
  /** Set by asyncClose: the socket closes once its pushes have left. */
  closeQt: QToken | undefined;

  constructor(readonly qd: QDesc) {}

  get idle(): boolean {
    return (
      this.accepts.length === 0 &&
      this.connectQt === undefined &&
      this.pops.length === 0 &&
      this.pushes.length === 0 &&
      this.closeQt === undefined
    );
  }
}
