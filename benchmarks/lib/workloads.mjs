// The bulk and connection-scaling workloads: how a row module runs them.
// (Ping-pong round trips are lib/children.mjs's pingPong.)
import { lastJson, runChild, startServer } from './children.mjs';
import { cpuNs, memory } from './proc.mjs';

/** One-way bulk transfer in 64 KiB writes/pushes over loopback TCP. */
export const BULK = { group: 'bulk-64k', chunk: 65536 };

/** Concurrent echo clients, 64-byte messages, closed loop. */
export const SCALING = [
  { group: 'conn-1', clients: 1 },
  { group: 'conn-64', clients: 64 },
  { group: 'conn-1024', clients: 1024 },
];

/** Bytes and runs per bulk row: quick is one short transfer. */
export function bulkCounts(ctx) {
  return ctx.quick ? { bytes: 8 << 20, runs: 1 } : { bytes: 256 << 20, runs: 5 };
}

/** Milliseconds of warm-up and measurement per scaling row. */
export function scalingCounts(ctx) {
  return ctx.quick ? { warmupMs: 100, measureMs: 200 } : { warmupMs: 1000, measureMs: 5000 };
}

/** Stops a server: SIGTERM (so it can clean up), SIGKILL after graceMs. */
export async function stopGracefully(srv, graceMs = 5000) {
  const child = srv.child;
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
  srv.stop();
}

/**
 * A bulk row's run: starts `server` (prints `ready <port>`), runs
 * `client.args(port)` (prints {"runsMbps": [...]}), resolves {mbps, runsMbps}
 * with the median run. The client's first run, when it has more than one, is
 * its warm-up and is dropped.
 */
export async function bulkTransfer(ctx, server, client) {
  const srv = startServer(server.command, server.args, server);
  try {
    const port = await srv.ready;
    const { runsMbps } = lastJson(await runChild(client.command, client.args(port), ctx, client));
    if (!Array.isArray(runsMbps) || runsMbps.length === 0) throw new Error('no bulk runs');
    const measured = runsMbps.length > 1 ? runsMbps.slice(1) : runsMbps;
    const sorted = [...measured].sort((a, b) => a - b);
    return { mbps: sorted[sorted.length >> 1], runsMbps: measured };
  } finally {
    await stopGracefully(srv);
  }
}

/**
 * A scaling row's run: starts `server`, runs the load client against it and
 * samples the server's CPU time and memory at the client's `mark start` and
 * `mark end`. Resolves {msgsPerSec, clients, serverRssBytes, serverPeakRssBytes,
 * serverCpuNsPerMsg}.
 */
export async function scaling(ctx, server, client) {
  const srv = startServer(server.command, server.args, server);
  try {
    const port = await srv.ready;
    const at = {};
    const sample = (name) => {
      at[name] = { cpu: cpuNs(srv.child.pid), mem: memory(srv.child.pid) };
    };
    const result = lastJson(
      await runChild(client.command, client.args(port), ctx, { ...client, onMark: sample }),
    );
    if (!(result.messages > 0)) throw new Error(`no echo completed: ${JSON.stringify(result)}`);
    const cpu =
      at.start?.cpu !== undefined && at.end?.cpu !== undefined
        ? (at.end.cpu - at.start.cpu) / result.messages
        : undefined;
    return {
      msgsPerSec: result.messages / result.seconds,
      clients: result.clients,
      serverRssBytes: at.end?.mem?.rssBytes,
      serverPeakRssBytes: at.end?.mem?.peakRssBytes,
      serverCpuNsPerMsg: cpu,
    };
  } finally {
    await stopGracefully(srv);
  }
}
