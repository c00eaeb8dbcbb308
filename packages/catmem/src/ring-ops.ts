import { ERRNO, Opcode, type PopPool, type QToken, type Sga, type TokenTable } from '@demi/core';

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
      tokens.completeBare(p.qt, Opcode.FAILED, -r);
      progressed = true;
      continue;
    }
    p.offset += r;
    if (p.offset < p.data.byteLength) break;
    pushes.shift();
    tokens.completeBare(p.qt, Opcode.PUSH, 0);
    progressed = true;
  }
  return progressed;
}

/**
 * What the addon's pop returns: the bytes at the start of a buffer of their
 * own (long pops; the pool's spare or a new one), a count of bytes in the
 * staging buffer (short pops, copied into the pool's slab), 0 at end of file,
 * or a negative errno.
 */
export type PopResult = number | Uint8Array;

/**
 * Completes a pop with what the addon's pop returned; the pool records the
 * sga it completes with (see PopPool). False for -EAGAIN (nothing yet): the
 * pop stays pending.
 */
export function completePop(
  tokens: TokenTable,
  qt: QToken,
  r: PopResult,
  staging: Uint8Array,
  eof: Sga,
  pool: PopPool,
): boolean {
  if (typeof r !== 'number') {
    // A plain Uint8Array over the buffer, as every other pop returns (the addon's may be a Buffer).
    const data =
      r.constructor === Uint8Array ? r : new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
    tokens.complete(qt, { opcode: Opcode.POP, ret: 0, sga: pool.lend(data) });
  } else if (r > 0) {
    pool.completeShort(tokens, qt, staging, r);
  } else if (r === 0) {
    // A fresh sga each time: each may be freed once.
    tokens.complete(qt, {
      opcode: Opcode.POP,
      ret: 0,
      sga: pool.issue([...eof.segments]),
    });
  } else if (r === EAGAIN) {
    return false;
  } else {
    tokens.completeBare(qt, Opcode.FAILED, -r);
  }
  return true;
}
