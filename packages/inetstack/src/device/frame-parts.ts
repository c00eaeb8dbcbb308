import { DemiError, describe } from '@demi/core';

/** Throws EINVAL unless the parts of a frame are Uint8Arrays (`rest` may be left out). */
export function checkParts(head: unknown, body: unknown, rest: unknown): void {
  if (
    !(head instanceof Uint8Array) ||
    !(body instanceof Uint8Array) ||
    (rest !== undefined && !(rest instanceof Uint8Array))
  )
    throw new DemiError(
      'EINVAL',
      `sendParts takes Uint8Array parts, got ${describe(head)}, ${describe(body)}, ${describe(rest)}`,
      { syscall: 'send' },
    );
}

/** The length of a frame given in parts (see FrameDevice.sendParts). */
export function partsLength(
  head: Uint8Array,
  body: Uint8Array,
  rest: Uint8Array | undefined,
): number {
  return head.byteLength + body.byteLength + (rest?.byteLength ?? 0);
}

/** Copies a frame given in parts into dst[at...]; returns its length. */
export function copyParts(
  dst: Uint8Array,
  at: number,
  head: Uint8Array,
  body: Uint8Array,
  rest: Uint8Array | undefined,
): number {
  dst.set(head, at);
  dst.set(body, at + head.byteLength);
  if (rest !== undefined) dst.set(rest, at + head.byteLength + body.byteLength);
  return partsLength(head, body, rest);
}

/**
 * Assembles frames given in parts into one buffer it keeps, for devices and
 * wrappers that handle only whole frames (EINVAL for parts that are not
 * Uint8Arrays). The result is valid until the next call.
 */
export class FrameAssembler {
  #buf = new Uint8Array(0);

  assemble(head: Uint8Array, body: Uint8Array, rest: Uint8Array | undefined): Uint8Array {
    checkParts(head, body, rest);
    const n = partsLength(head, body, rest);
    if (this.#buf.byteLength < n) this.#buf = new Uint8Array(Math.max(n, 2 * this.#buf.byteLength));
    copyParts(this.#buf, 0, head, body, rest);
    return this.#buf.subarray(0, n);
  }
}
