// Stream helpers shared by the tests and the child-process driver (no vitest here).
import { errnoCode, type LibOS, Opcode, type QDesc, type QResult, type Sga } from '@demi/core';

export const OP_TIMEOUT_MS = 20_000;

export function sgaOf(data: Uint8Array | string): Sga {
  return { segments: [typeof data === 'string' ? new TextEncoder().encode(data) : data] };
}

export function bytesOf(sga: Sga | undefined): Uint8Array {
  if (sga === undefined || sga.segments.length === 0) return new Uint8Array(0);
  if (sga.segments.length === 1) return sga.segments[0]!;
  return Buffer.concat(sga.segments);
}

/** Waits and insists the operation succeeded with the expected opcode. */
export async function ok(libos: LibOS, qt: number, opcode: number): Promise<QResult> {
  const r = await libos.wait(qt, OP_TIMEOUT_MS);
  if (r.opcode !== opcode || r.ret !== 0)
    throw new Error(
      `expected opcode ${opcode}, got opcode ${r.opcode} ret ${r.ret} (${errnoCode(r.ret)})`,
    );
  return r;
}

/** Pops until `length` bytes arrived; EOF before that is an error. */
export async function popExactly(libos: LibOS, qd: QDesc, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const data = bytesOf((await ok(libos, libos.pop(qd), Opcode.POP)).sga);
    if (data.byteLength === 0) throw new Error(`EOF after ${got} of ${length} bytes`);
    if (got + data.byteLength > length)
      throw new Error(`received ${got + data.byteLength} bytes, more than the ${length} expected`);
    out.set(data, got);
    got += data.byteLength;
  }
  return out;
}

/** Pushes `data` in chunks, a few pushes in flight. */
export async function pushAll(
  libos: LibOS,
  qd: QDesc,
  data: Uint8Array,
  chunk = 64 * 1024,
): Promise<void> {
  const inflight: Promise<QResult>[] = [];
  for (let at = 0; at < data.byteLength; at += chunk) {
    inflight.push(ok(libos, libos.push(qd, sgaOf(data.subarray(at, at + chunk))), Opcode.PUSH));
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
}

/** Pops until end of file; returns how many bytes came. */
export async function drain(libos: LibOS, qd: QDesc): Promise<number> {
  let total = 0;
  for (;;) {
    const n = bytesOf((await ok(libos, libos.pop(qd), Opcode.POP)).sga).byteLength;
    if (n === 0) return total;
    total += n;
  }
}

/** Deterministic pseudo-random bytes (xorshift32), so a mismatch is reproducible. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
