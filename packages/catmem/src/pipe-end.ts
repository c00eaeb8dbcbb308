import type { QDesc, QToken } from '@demi/core';
import type { PendingPop, PendingPush } from './ring-ops.js';

/** JS-side state of one open pipe end: what waits on it, in order. */
export class PipeEnd {
  readonly pops: PendingPop[] = [];
  readonly pushes: PendingPush[] = [];
  /** Set by asyncClose: the end closes once its pushes have left. */
  closeQt: QToken | undefined;

  constructor(
    readonly qd: QDesc,
    readonly handle: number,
    readonly name: string,
    /** 0: this end created the pipe; 1: it opened it. */
    readonly side: number,
    readonly ringSize: number,
    /** Largest push that arrives as one pop; longer pushes are cut into pieces of this size. */
    readonly maxMessage: number,
  ) {}

  get idle(): boolean {
    return this.pops.length === 0 && this.pushes.length === 0 && this.closeQt === undefined;
  }
}
