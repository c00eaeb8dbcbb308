import { BlockList, isIP, isIPv4, isIPv6, SocketAddress } from 'node:net';
import { normalizeArgs } from './args.js';
import { defaultLibOS, setDefaultLibOS } from './libos.js';
import { Server, type ServerOptions } from './server.js';
import { Socket, type SocketOptions } from './socket.js';

export type { ListenOptions, ServerOptions } from './server.js';
export type { AddressInfo, SocketOptions } from './socket.js';
export {
  BlockList,
  defaultLibOS,
  isIP,
  isIPv4,
  isIPv6,
  Server,
  Socket,
  Socket as Stream,
  SocketAddress,
  setDefaultLibOS,
};

/** `createServer([options][, connectionListener])`, as node:net's. */
export function createServer(
  options?: ServerOptions | ((socket: Socket) => void),
  connectionListener?: (socket: Socket) => void,
): Server {
  return new Server(options, connectionListener);
}

/** `connect(port[, host][, cb])` or `connect(options[, cb])`, as node:net's. */
export function connect(...args: unknown[]): Socket {
  const [options] = normalizeArgs(args);
  const socketOptions: SocketOptions = {};
  for (const key of [
    'libos',
    'allowHalfOpen',
    'readableHighWaterMark',
    'writableHighWaterMark',
    'highWaterMark',
    'signal',
  ] as const) {
    if ((options as Record<string, unknown>)[key] !== undefined)
      (socketOptions as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key];
  }
  const socket = new Socket(socketOptions);
  return socket.connect(...args);
}

export const createConnection = connect;

const net = {
  BlockList,
  Server,
  Socket,
  SocketAddress,
  Stream: Socket,
  connect,
  createConnection,
  createServer,
  defaultLibOS,
  isIP,
  isIPv4,
  isIPv6,
  setDefaultLibOS,
};

export default net;
