import { AF_INET, SOCK_STREAM } from '../constants.js';
import type { Capability, LibOS, QDesc } from '../types.js';
import { connectPair } from './helpers.js';
import type { ConformanceEnv } from './target.js';

/** Two connected ends, over TCP where the LibOS has it, else over a pipe. */
export interface Channel {
  a: LibOS;
  aQd: QDesc;
  b: LibOS;
  bQd: QDesc;
  close(): void;
}

export async function openChannel(
  env: ConformanceEnv,
  caps: ReadonlySet<Capability>,
): Promise<Channel> {
  const { server, client } = env;
  if (caps.has('tcp')) {
    const c = await connectPair(env);
    return {
      a: client,
      aQd: c.clientQd,
      b: server,
      bQd: c.serverQd,
      close() {
        tryClose(client, c.clientQd);
        tryClose(server, c.serverQd);
        tryClose(server, c.listener);
      },
    };
  }
  const name = `demi-conf-${process.pid}-${env.nextPort()}`;
  const bQd = server.createPipe(name);
  const aQd = client.openPipe(name);
  return {
    a: client,
    aQd,
    b: server,
    bQd,
    close() {
      tryClose(client, aQd);
      tryClose(server, bQd);
    },
  };
}

/** Closes, ignoring EBADF (a scenario may have closed it, or shut the LibOS down). */
export function tryClose(libos: LibOS, qd: QDesc): void {
  try {
    libos.close(qd);
  } catch {}
}

/** A stream socket whose connect is still pending, with its token. */
export async function connectingSocket(
  env: ConformanceEnv,
): Promise<{ qd: QDesc; qt: number; listener: QDesc }> {
  const { server, client } = env;
  const port = env.nextPort();
  const listener = server.socket(AF_INET, SOCK_STREAM);
  server.bind(listener, { address: env.serverAddress, port });
  server.listen(listener, 4);
  const qd = client.socket(AF_INET, SOCK_STREAM);
  const qt = client.connect(qd, { address: env.serverAddress, port });
  return { qd, qt, listener };
}
