import type { QDesc, QToken, SocketAddress } from '@demi/core';
import type { TcpConnection } from '../tcp/connection.js';
import type { TcpListener } from '../tcp/listener.js';
import type { UdpEndpoint } from '../udp/udp-layer.js';

export interface PendingPop {
  qt: QToken;
  size: number;
}

export interface PendingPush {
  qt: QToken;
  segments: Uint8Array[];
  /** Next segment to copy, and how far into it. */
  index: number;
  offset: number;
}

export type TcpPhase = 'unbound' | 'bound' | 'listening' | 'connecting' | 'connected' | 'closed';

export interface SocketOptions {
  keepalive: boolean;
  nodelay: boolean;
  linger: { onoff: boolean; linger: number };
  reuseaddr: boolean;
}

export interface TcpSocket {
  kind: 'tcp';
  qd: QDesc;
  phase: TcpPhase;
  /** Bound port (0 when unbound) and whether the bind named our address or any. */
  port: number;
  boundAny: boolean;
  listener: TcpListener | undefined;
  conn: TcpConnection | undefined;
  connectQt: QToken | undefined;
  accepts: QToken[];
  pops: PendingPop[];
  pushes: PendingPush[];
  options: SocketOptions;
  peer: SocketAddress | undefined;
}

export interface UdpSocket {
  kind: 'udp';
  qd: QDesc;
  ep: UdpEndpoint | undefined;
  boundAny: boolean;
  pops: PendingPop[];
  peer: SocketAddress | undefined;
  options: SocketOptions;
}

export type Socket = TcpSocket | UdpSocket;
