import { AF_INET, Opcode, SOCK_STREAM } from '../constants.js';
import { DemiError, errnoCode } from '../errors.js';
import type { LibOS, QDesc, QResult, Sga } from '../types.js';
import type { ConformanceEnv } from './target.js';

/** Scenario timeouts are generous: CI machines are shared and slow. */
export const OP_TIMEOUT_MS = 15_000;

export function bytes(sga: Sga | undefined): Uint8Array {
  if (sga === undefined) return new Uint8Array(0);
  if (sga.segments.length === 1) return sga.segments[0]!;
  const total = sga.segments.reduce((n, s) => n + s.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const s of sga.segments) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}

export function sgaOf(data: Uint8Array | string): Sga {
  return { segments: [typeof data === 'string' ? new TextEncoder().encode(data) : data] };
}

/** Waits and insists the operation succeeded with the expected opcode. */
export async function ok(libos: LibOS, qt: number, opcode: number): Promise<QResult> {
  const result = await libos.wait(qt, OP_TIMEOUT_MS);
  if (result.opcode !== opcode || result.ret !== 0) {
    throw new Error(
      `expected opcode ${opcode} with ret 0, got opcode ${result.opcode} ret ${result.ret} (${errnoCode(result.ret)})`,
    );
  }
  return result;
}

export function expectDemiError(fn: () => unknown, code: string): DemiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DemiError && err.code === code) return err;
    throw new Error(`expected DemiError ${code}, got ${String(err)}`);
  }
  throw new Error(`expected DemiError ${code}, but the call succeeded`);
}

export async function expectRejects(promise: Promise<unknown>, code: string): Promise<DemiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DemiError && err.code === code) return err;
    throw new Error(`expected DemiError ${code}, got ${String(err)}`);
  }
  throw new Error(`expected DemiError ${code}, but it resolved`);
}

export interface Connection {
  listener: QDesc;
  serverQd: QDesc;
  clientQd: QDesc;
}

/** A listening socket and one accepted connection to it. */
export async function connectPair(env: ConformanceEnv, backlog = 16): Promise<Connection> {
  const { server, client } = env;
  const port = env.nextPort();
  const listener = server.socket(AF_INET, SOCK_STREAM);
  server.bind(listener, { address: env.serverAddress, port });
  server.listen(listener, backlog);
  const acceptQt = server.accept(listener);
  const clientQd = client.socket(AF_INET, SOCK_STREAM);
  const connectQt = client.connect(clientQd, { address: env.serverAddress, port });
  const [accepted] = await Promise.all([
    ok(server, acceptQt, Opcode.ACCEPT),
    ok(client, connectQt, Opcode.CONNECT),
  ]);
  return { listener, serverQd: accepted.accepted!.qd, clientQd };
}

/** Pops until `length` bytes arrived (or EOF), returning them. */
export async function popExactly(libos: LibOS, qd: QDesc, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const result = await ok(libos, libos.pop(qd), Opcode.POP);
    const data = bytes(result.sga);
    if (data.byteLength === 0) throw new Error(`EOF after ${got} of ${length} bytes`);
    if (got + data.byteLength > length)
      throw new Error(`received ${got + data.byteLength} bytes, more than the ${length} sent`);
    out.set(data, got);
    got += data.byteLength;
  }
  return out;
}

/** Deterministic pseudo-random bytes, so a mismatch is reproducible. */
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

/** Pushes `data` in chunks, keeping a few pushes in flight. */
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

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
