import { DEFAULT_POP_SIZE } from './constants.js';
import { DemiError } from './errors.js';
import type { Sga, SocketAddress } from './types.js';

/**
 * Argument checks shared by every LibOS, run before anything reaches a backend,
 * so native code only ever sees well-typed, in-range values.
 */

const MAX_IO_SIZE = 1 << 30;
/**
 * The largest buffer sgaalloc makes and the largest pop size: 1 MiB on every
 * LibOS. A larger pop could not be filled in one go by any of them (catmem's
 * largest record at the default ring is 512 KiB), so it is an error, not a
 * silent clamp.
 */
export const MAX_SGA_SIZE = 1 << 20;

export function assertInteger(
  value: unknown,
  what: string,
  syscall: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DemiError(
      'EINVAL',
      `${what} must be an integer in [${min}, ${max}], got ${describe(value)}`,
      { syscall },
    );
  }
  return value;
}

export function assertQd(qd: unknown, syscall: string): number {
  if (typeof qd !== 'number' || !Number.isInteger(qd) || qd < 0 || qd > 0x7fffffff) {
    throw new DemiError('EBADF', `not a queue descriptor: ${describe(qd)}`, { syscall });
  }
  return qd;
}

export function assertTimeout(timeoutMs: unknown, syscall: string): number | undefined {
  if (timeoutMs === undefined || timeoutMs === null) return undefined;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new DemiError(
      'EINVAL',
      `timeoutMs must be a non-negative number, got ${describe(timeoutMs)}`,
      { syscall },
    );
  }
  return timeoutMs === Number.POSITIVE_INFINITY ? undefined : timeoutMs;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(address: unknown): address is string {
  return typeof address === 'string' && IPV4.test(address);
}

export function assertAddress(addr: unknown, syscall: string, allowPortZero = true): SocketAddress {
  if (typeof addr !== 'object' || addr === null) {
    throw new DemiError('EINVAL', `address must be {address, port}, got ${describe(addr)}`, {
      syscall,
    });
  }
  const { address, port } = addr as Record<string, unknown>;
  if (!isIPv4(address)) {
    throw new DemiError(
      'EINVAL',
      `address must be a dotted IPv4 string, got ${describe(address)}`,
      { syscall },
    );
  }
  assertInteger(port, 'port', syscall, allowPortZero ? 0 : 1, 65535);
  return { address, port: port as number };
}

/** An sga as push, pushto and sgafree take it; `nonEmpty`: zero bytes is EINVAL (push, pushto). */
export function assertSga(sga: unknown, syscall: string, nonEmpty = false): Sga {
  if (typeof sga !== 'object' || sga === null || !Array.isArray((sga as Sga).segments)) {
    throw new DemiError('EINVAL', `sga must be {segments: Uint8Array[]}, got ${describe(sga)}`, {
      syscall,
    });
  }
  const segments = (sga as Sga).segments;
  let total = 0;
  for (const seg of segments) {
    if (!(seg instanceof Uint8Array)) {
      throw new DemiError(
        'EINVAL',
        `every sga segment must be a Uint8Array, got ${describe(seg)}`,
        { syscall },
      );
    }
    total += seg.byteLength;
  }
  if (nonEmpty && total === 0) {
    throw new DemiError('EINVAL', 'the sga holds no bytes: there is nothing to send', {
      syscall,
    });
  }
  if (total > MAX_IO_SIZE) {
    throw new DemiError(
      'EINVAL',
      `sga holds ${total} bytes; at most ${MAX_IO_SIZE} per operation`,
      { syscall },
    );
  }
  return sga as Sga;
}

export function sgaLength(sga: Sga): number {
  let total = 0;
  for (const seg of sga.segments) total += seg.byteLength;
  return total;
}

/** The sga's bytes as one contiguous array (no copy when it has one segment). */
export function sgaBytes(sga: Sga): Uint8Array {
  if (sga.segments.length === 1) return sga.segments[0]!;
  const out = new Uint8Array(sgaLength(sga));
  let offset = 0;
  for (const seg of sga.segments) {
    out.set(seg, offset);
    offset += seg.byteLength;
  }
  return out;
}

export function assertPopSize(size: unknown, syscall: string): number {
  if (size === undefined) return DEFAULT_POP_SIZE;
  return assertInteger(size, 'size', syscall, 1, MAX_SGA_SIZE);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? `a ${ctor.name}` : 'an object';
}
