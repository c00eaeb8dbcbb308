import { isIP } from 'node:net';
import {
  badPort,
  invalidArgType,
  invalidArgValue,
  invalidIpAddress,
  missingArgs,
  outOfRange,
} from './errors.js';

/** Options node:net's connect overloads reduce to. */
export interface ConnectArgs {
  port?: number | string;
  host?: string;
  path?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
  [key: string]: unknown;
}

type Callback = (...args: never[]) => void;

/** A string that is not a number names a pipe, as in node:net. */
function isPipeName(value: unknown): value is string {
  return typeof value === 'string' && !/^\s*\d+\s*$/.test(value) && Number.isNaN(Number(value));
}

/** node:net's normalizeArgs: `(port[, host][, cb])`, `(path[, cb])` or `(options[, cb])`. */
export function normalizeArgs(args: unknown[]): [ConnectArgs, Callback | null] {
  if (args.length === 0) return [{}, null];
  const first = args[0];
  let options: ConnectArgs = {};
  if (typeof first === 'object' && first !== null) options = first as ConnectArgs;
  else if (isPipeName(first)) options.path = first;
  else {
    options.port = first as number;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const last = args[args.length - 1];
  return [options, typeof last === 'function' ? (last as Callback) : null];
}

/** node's validatePort: a number or numeric string in 0..65535 (0 only when allowed). */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (+port === 0 && !allowZero)
  ) {
    throw badPort(name, port);
  }
  return +port | 0;
}

export function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'number', value);
}

export function validateFunction(value: unknown, name: string): asserts value is Callback {
  if (typeof value !== 'function') throw invalidArgType(name, 'function', value);
}

/** `setTimeout`'s msecs: a finite number >= 0. */
export function validateTimeout(value: unknown, name = 'msecs'): number {
  validateNumber(value, name);
  if (!Number.isFinite(value) || value < 0)
    throw outOfRange(name, 'a non-negative finite number', value);
  return value;
}

/** Checks connect options as node:net does, before anything is opened. */
export function validateConnectOptions(options: ConnectArgs): void {
  if (options.port === undefined && options.path == null)
    throw missingArgs('options', 'port', 'path');
  const { host, localAddress, localPort, family, port, timeout } = options;
  if (host !== undefined && host !== null && typeof host !== 'string')
    throw invalidArgType('options.host', 'string', host);
  if (localAddress !== undefined && localAddress !== null && !isIP(String(localAddress)))
    throw invalidIpAddress(String(localAddress));
  if (localPort) validateNumber(localPort, 'options.localPort');
  if (family !== undefined && family !== null && ![0, 4, 6].includes(family as number))
    throw invalidArgValue('options.family', family, 'must be one of: 0, 4, 6');
  if (port !== undefined) {
    if (typeof port !== 'number' && typeof port !== 'string')
      throw invalidArgType('options.port', ['number', 'string'], port);
    validatePort(port);
  }
  if (timeout !== undefined) validateTimeout(timeout);
}
