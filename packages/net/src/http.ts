import { Agent, type AgentOptions, type Server as HttpServer } from 'node:http';
import type { LibOS } from '@demi/core';
import { connect } from './index.js';
import type { Server } from './server.js';
import type { Socket } from './socket.js';

/**
 * Serves an unmodified node:http server from a demi server: every accepted
 * connection is handed to http as a kernel one would be.
 */
export function serveHttp<T extends Server>(httpServer: HttpServer, demiServer: T): T {
  demiServer.on('connection', (socket: Socket) => httpServer.emit('connection', socket));
  demiServer.on('close', () => httpServer.emit('close'));
  return demiServer;
}

export interface DemiAgentOptions extends AgentOptions {
  /** The LibOS connections are made on; the process's default when absent. */
  libos?: LibOS;
}

/** An http.Agent whose connections are @demi/net sockets (keep-alive pools work as usual). */
export class DemiAgent extends Agent {
  readonly #libos: LibOS | undefined;

  constructor(options: DemiAgentOptions = {}) {
    const { libos, ...agentOptions } = options;
    super(agentOptions);
    this.#libos = libos;
  }

  // http.Agent's hook; its options carry host, port, localAddress, timeout...
  override createConnection(options: Record<string, unknown>): Socket {
    return connect({ ...options, host: options.host ?? 'localhost', libos: this.#libos });
  }
}

/** What undici's `connect` option receives (a subset). */
export interface UndiciConnectOptions {
  hostname: string;
  host?: string;
  protocol: string;
  port: string | number;
  localAddress?: string | null;
  timeout?: number;
}

type UndiciCallback = (err: Error | null, socket: Socket | null) => void;

/**
 * A connector for undici: `new undici.Agent({ connect: demiConnector() })` makes
 * fetch and undici's request run over @demi/net. Plain http only (no TLS).
 */
export function demiConnector(options: { libos?: LibOS; timeout?: number } = {}) {
  return (opts: UndiciConnectOptions, callback: UndiciCallback): Socket | undefined => {
    if (opts.protocol !== 'http:') {
      const err = new Error(`@demi/net carries plain http only, not ${opts.protocol}`);
      queueMicrotask(() => callback(err, null));
      return undefined;
    }
    const port = Number(opts.port) || 80;
    const socket = connect({
      host: opts.hostname,
      port,
      localAddress: opts.localAddress ?? undefined,
      libos: options.libos,
    });
    const timeout = opts.timeout ?? options.timeout;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      socket.removeListener('error', onError);
      callback(err, err === null ? socket : null);
    };
    const onError = (err: Error): void => finish(err);
    const timer =
      timeout === undefined || timeout === 0
        ? undefined
        : setTimeout(() => {
            const err = Object.assign(new Error('Connect Timeout Error'), {
              code: 'UND_ERR_CONNECT_TIMEOUT',
            });
            socket.destroy();
            finish(err);
          }, timeout).unref();
    socket.once('connect', () => finish(null));
    socket.once('error', onError);
    return socket;
  };
}
