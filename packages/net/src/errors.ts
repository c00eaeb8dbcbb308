import { constants } from 'node:os';
import { inspect } from 'node:util';

/**
 * Errors shaped exactly as node:net makes them, so code that checks `err.code`,
 * `err.errno` or the message cannot tell the difference.
 */

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

function nodeError(Kind: ErrorClass, code: string, message: string): Error & { code: string } {
  const err = new Kind(message) as Error & { code: string };
  err.code = code;
  // Node's errors print as `TypeError [ERR_X]: message` in their stack.
  Object.defineProperty(err, 'toString', {
    value() {
      return `${Kind.name} [${code}]: ${message}`;
    },
    enumerable: false,
  });
  return err;
}

/** How Node describes a value it did not expect: "Received type number (5)". */
export function received(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`;
  if (typeof value === 'function') return `Received function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    if (name) return `Received an instance of ${name}`;
    return `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

function typeList(types: readonly string[]): string {
  const kinds = [...types];
  if (kinds.length === 1) return `of type ${kinds[0]}`;
  return `one of type ${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`;
}

export function invalidArgType(name: string, types: string | readonly string[], value: unknown) {
  const what = name.includes('.') ? 'property' : 'argument';
  const list = typeof types === 'string' ? [types] : types;
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${what} must be ${typeList(list)}. ${received(value)}`,
  );
}

export function invalidArgValue(name: string, value: unknown, reason = 'is invalid') {
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `The ${what} '${name}' ${reason}. Received ${inspect(value)}`,
  );
}

export function outOfRange(name: string, range: string, value: unknown) {
  return nodeError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`,
  );
}

export function badPort(name: string, port: unknown) {
  return nodeError(
    RangeError,
    'ERR_SOCKET_BAD_PORT',
    `${name} should be >= 0 and < 65536. ${received(port)}.`,
  );
}

export function missingArgs(...names: string[]) {
  const list = names.map((n) => `"${n}"`).join(' or ');
  return nodeError(TypeError, 'ERR_MISSING_ARGS', `The ${list} argument must be specified`);
}

export function invalidIpAddress(address: string) {
  return nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${address}`);
}

export function serverAlreadyListening() {
  return nodeError(
    Error,
    'ERR_SERVER_ALREADY_LISTEN',
    'Listen method has been called more than once without closing.',
  );
}

export function serverNotRunning() {
  return nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.');
}

export function socketClosed() {
  return nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
}

export function socketClosedBeforeConnection() {
  return nodeError(
    Error,
    'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
    'Socket closed before the connection was established',
  );
}

export function streamWriteAfterEnd() {
  return nodeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
}

/** The messages libuv gives the codes node:net puts into `listen` errors. */
const UV_MESSAGES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
  ENOTSUP: 'operation not supported on socket',
  EAFNOSUPPORT: 'address family not supported',
};

export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/**
 * node:net's system error: `connect ECONNREFUSED 127.0.0.1:7000`, with `errno`
 * negative as libuv reports it. `uv` adds libuv's wording, as `listen` errors have:
 * `listen EADDRINUSE: address already in use 0.0.0.0:7000`.
 */
export function systemError(
  code: string,
  syscall: string,
  address?: string,
  port?: number,
  uv = false,
): SystemError {
  let message = `${syscall} ${code}`;
  if (uv) message += `: ${UV_MESSAGES[code] ?? code.toLowerCase()}`;
  if (address !== undefined) message += port !== undefined ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(message) as SystemError;
  const errno = (constants.errno as Record<string, number>)[code];
  err.errno = errno === undefined ? -22 : -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/** The errno name of a Linux errno number, as Node's `util.getSystemErrorName` gives it. */
export function codeOfErrno(errno: number): string {
  for (const [code, value] of Object.entries(constants.errno)) if (value === errno) return code;
  return `E${errno}`;
}

/** The code of anything a LibOS threw: DemiErrors carry one. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EINVAL';
}
