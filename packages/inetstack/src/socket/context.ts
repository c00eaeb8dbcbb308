import type { PopPool, QDesc, TokenTable } from '@demi/core';
import type { InetStack } from '../stack/inet-stack.js';
import { formatIPv4 } from '../util/addr.js';
import type { Socket, SocketOptions } from './socket.js';

/** What the socket-layer modules share with the LibOS that owns them. */
export interface SocketContext {
  readonly tokens: TokenTable;
  /** Memory for TCP pops, and what sgafree gives back for later ones. */
  readonly pops: PopPool;
  readonly stack: InetStack;
  readonly sockets: Map<QDesc, Socket>;
  readonly name: string;
  newQd(): QDesc;
  defaultOptions(): SocketOptions;
}

export function address(ip: number, port: number): { address: string; port: number } {
  return { address: formatIPv4(ip), port };
}
