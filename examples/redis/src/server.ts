// Starts the engine on a transport: demi (on the LibOS that init() picks) or node:net.
import type { Server, Socket } from 'node:net';
import { init, type LibOS } from '@demi/core';
import { serveDemi } from './demi-transport.ts';
import { Engine } from './engine.ts';
import { serveNet } from './net-transport.ts';
import { DEFAULT_LIMITS } from './resp-parser.ts';
import type { SessionLimits } from './session.ts';

export interface ServerOptions {
  address?: string;
  port?: number;
  transport?: 'demi' | 'node';
  /**
   * For transport 'demi': a LibOS to use instead of init()'s. The server takes
   * every completion through waitNextN, so it must be the LibOS's only user of it.
   */
  libos?: LibOS;
  /** For transport 'demi' without `libos`: the LibOS to init() (else DEMI_LIBOS decides). */
  libosName?: string;
  limits?: Partial<SessionLimits>;
}

export interface RunningServer {
  readonly address: string;
  readonly port: number;
  /** 'node:net' or the LibOS name. */
  readonly transport: string;
  readonly engine: Engine;
  connectionCount(): number;
  stop(): Promise<void>;
}

/** Default reply backlog per connection before it is disconnected: 64 MiB. */
export const DEFAULT_OUTPUT_MAX = 64 * 1024 * 1024;

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const limits: SessionLimits = {
    ...DEFAULT_LIMITS,
    outputMax: DEFAULT_OUTPUT_MAX,
    ...options.limits,
  };
  const bindTo = { address: options.address ?? '127.0.0.1', port: options.port ?? 6380 };
  const connections = new Set<unknown>();
  const info = {
    startedAt: Date.now(),
    port: bindTo.port,
    transport: 'node:net',
    connectedClients: () => connections.size,
  };
  const engine = new Engine(info);
  if (options.transport === 'node') {
    const server: Server = serveNet(engine, limits, connections);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bindTo.port, bindTo.address, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : bindTo.port;
    info.port = port;
    return {
      address: bindTo.address,
      port,
      transport: 'node:net',
      engine,
      connectionCount: () => connections.size,
      stop: () =>
        new Promise<void>((resolve) => {
          engine.stop();
          server.close(() => resolve());
          for (const socket of connections) (socket as Socket).destroy();
        }),
    };
  }
  const owned = options.libos === undefined;
  const libos =
    options.libos ?? (await init(options.libosName ? { libos: options.libosName } : {}));
  const demi = serveDemi(libos, engine, limits, bindTo, connections);
  info.port = demi.port;
  info.transport = libos.name;
  return {
    address: demi.address,
    port: demi.port,
    transport: libos.name,
    engine,
    connectionCount: () => connections.size,
    async stop() {
      engine.stop();
      demi.stop();
      await demi.done;
      if (owned) await libos.shutdown();
    },
  };
}
