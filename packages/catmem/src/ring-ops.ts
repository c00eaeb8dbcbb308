import {
  assertTimeout,
  DemiError,
  describe,
  ERRNO,
  Opcode,
  type QToken,
  type Sga,
  type TokenTable,
  type WaitAnyResult,
} from '@demi/core';

// The queueing and completion of pushes and pops on one end of a catmem ring,
// shared with catloop, whose connections are catmem rings too.

export interface PendingPop {
  qt: QToken;
  size: number;
}

export interface PendingPush {
  qt: QToken;
  data: Uint8Array;
  /** Bytes of data already in the ring. */
  offset: number;
}

/** The addon call pushes go through: bytes written (whole records), or a negative errno. */
export interface RingPush {
  push(handle: number, data: Uint8Array): number;
}

const PUSHED = { opcode: Opcode.PUSH, ret: 0 } as const;
const EAGAIN = -ERRNO.EAGAIN;

/** Writes queued pushes, in order, until the ring is full; true if any completed. */
export function drainPushes(
  tokens: TokenTable,
  ring: RingPush,
  handle: number,
  pushes: PendingPush[],
): boolean {
  let progressed = false;
  while (pushes.length > 0) {
    const p = pushes[0]!;
    const r = ring.push(handle, p.offset === 0 ? p.data : p.data.subarray(p.offset));
    if (r < 0) {
      pushes.shift();
      tokens.complete(p.qt, { opcode: Opcode.FAILED, ret: -r });
      progressed = true;
      continue;
    }
    p.offset += r;
    if (p.offset < p.data.byteLength) break;
    pushes.shift();
    tokens.complete(p.qt, PUSHED);
    progressed = true;
  }
  return progressed;
}

/**
 * Completes a pop with what the addon's pop returned: r bytes in staging, 0
 * (end of file, reported as `eof`) or a negative errno. False for -EAGAIN
 * (nothing yet): the pop stays pending.
 */
export function completePop(
  tokens: TokenTable,
  qt: QToken,
  r: number,
  staging: Uint8Array,
  eof: Sga,
): boolean {
  if (r > 0) {
    tokens.complete(qt, { opcode: Opcode.POP, ret: 0, sga: { segments: [staging.slice(0, r)] } });
  } else if (r === 0) {
    tokens.complete(qt, { opcode: Opcode.POP, ret: 0, sga: eof });
  } else if (r === EAGAIN) {
    return false;
  } else {
    tokens.complete(qt, { opcode: Opcode.FAILED, ret: -r });
  }
  return true;
}

/**
 * waitAnySync for ring backends: like BaseLibOS's, but without its 0.2 ms of
 * poll(0). Every poll here is poll(t > 0), whose native part spins on the
 * rings for 2 µs (not at all when the peer last ran on this CPU), yields a few
 * times, then sleeps on the futex until the peer's next push. On a 2-core
 * machine the peer often shares this core, and spinning longer would only
 * delay it.
 */
export function waitAnySync(
  tokens: TokenTable,
  poll: (timeoutMs: number) => void,
  qts: readonly QToken[],
  timeoutMs: number | undefined,
): WaitAnyResult {
  const timeout = assertTimeout(timeoutMs, 'waitSync');
  if (!Array.isArray(qts) || qts.length === 0) {
    throw new DemiError(
      'EINVAL',
      `expected a non-empty array of queue tokens, got ${describe(qts)}`,
      { syscall: 'waitSync' },
    );
  }
  for (const qt of qts) {
    if (tokens.entry(qt, 'waitSync').waiter !== undefined) {
      throw new DemiError('EINVAL', `queue token ${qt} is already being waited on`, {
        syscall: 'waitSync',
      });
    }
  }
  let deadline: number | undefined;
  let polled = false;
  for (;;) {
    for (let index = 0; index < qts.length; index++) {
      const result = tokens.take(qts[index]!);
      if (result !== undefined) return { index, result };
    }
    const now = performance.now();
    deadline ??= timeout === undefined ? Number.POSITIVE_INFINITY : now + timeout;
    if (now >= deadline && polled) {
      throw new DemiError(
        'ETIMEDOUT',
        `no completion within ${timeout} ms; the token remains valid`,
        { syscall: 'waitSync' },
      );
    }
    poll(Math.min(1, deadline - now));
    polled = true;
  }
}
