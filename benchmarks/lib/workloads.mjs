// The bulk and connection-scaling workloads: how a row module runs them.
// (Ping-pong round trips are lib/children.mjs's pingPong.)
import { lastJson, runChild, startServer } from './children.mjs';
import { withOpenFiles } from './fd-limit.mjs';
import { cpuNs, memory } from './proc.mjs';

/** One-way bulk transfer in 64 KiB writes/pushes over loopback TCP. */
export const BULK = { group: 'bulk-64k', chunk: 65536 };

/**
 * Concurrent echo clients, 64-byte messages, closed loop. `quickClients` is
 * the count under --quick, where opening 10,000 connections would not be quick.
 */
export const SCALING = [
  { group: 'conn-1', clients: 1 },
  { group: 'conn-64', clients: 64 },
  { group: 'conn-1024', clients: 1024 },
  { group: 'conn-10k', clients: 10_000, quickClients: 1000 },
];

/** Idle connections whose memory the `conn-idle` rows break down (`quickClients` under --quick). */
export const IDLE = { group: 'conn-idle', clients: 1024, quickClients: 256 };

/** How long an idle client holds its connections while the server is asked for its memory. */
export function idleHoldMs(ctx) {
  return ctx.quick ? 2000 : 6000;
}

/** Connections a scaling or idle row opens in this run. */
export function clientCount(ctx, workload) {
  return ctx.quick && workload.quickClients ? workload.quickClients : workload.clients;
}

/** Open files a process needs for `clients` connections, beside what Node itself opens. */
const filesFor = (clients) => clients + 256;

/** A client that says nothing (no progress, no mark) for this long has stalled. */
const STALL_MS = 45_000;

/**
 * Runs a scaling or idle client with limits of its own, so a LibOS that stalls
 * (a client stuck in a native call cannot even run its own timers) ends the row
 * with an error that says how far the client got, well before the runner's
 * limit for the whole row: killed after STALL_MS without a progress or mark
 * line, or after a deadline that grows with the connection count.
 */
async function runClientBounded(ctx, client, args, clients, options) {
  const limitMs = ctx.quick
    ? 45_000
    : Math.min(200_000, 60_000 + clients * 10 + (options.busyMs ?? 0));
  const killer = new AbortController();
  let why = '';
  const kill = (reason) => {
    why ||= reason;
    killer.abort();
  };
  const deadline = setTimeout(() => kill(`did not finish within ${limitMs / 1000} s`), limitMs);
  let stall;
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => kill(`said nothing for ${STALL_MS / 1000} s`), STALL_MS);
  };
  alive();
  const onAbort = () => killer.abort();
  ctx.signal?.addEventListener('abort', onAbort);
  let opened = 0;
  try {
    return await runChild(
      client.command,
      args,
      { ...ctx, signal: killer.signal },
      {
        ...client,
        ...options,
        // The first half of the client's progress is opening its connections.
        onProgress: (fraction) => {
          alive();
          opened = Math.max(opened, Math.min(1, fraction * 2));
        },
        onMark: (name, child) => {
          alive();
          options.onMark?.(name, child);
        },
      },
    );
  } catch (err) {
    if (!why || ctx.signal?.aborted) throw err;
    throw new Error(
      `the client ${why} and was killed, having reported ${Math.round(opened * clients)} of ${clients} connections open`,
    );
  } finally {
    clearTimeout(deadline);
    clearTimeout(stall);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** Bytes and runs per bulk row: quick is one short transfer. */
export function bulkCounts(ctx) {
  return ctx.quick ? { bytes: 8 << 20, runs: 1 } : { bytes: 256 << 20, runs: 5 };
}

/**
 * A bulk client's arguments after its script: bulkCounts' transfers (one more,
 * the warm-up, when there are several) to `port` (at `address`, if given) in
 * `chunk`-byte writes.
 */
export function bulkClientArgs(ctx, { port, address, chunk = BULK.chunk }) {
  const { bytes, runs } = bulkCounts(ctx);
  return [
    ...(address === undefined ? [] : ['--address', address]),
    '--port',
    String(port),
    '--bytes',
    String(bytes),
    '--runs',
    String(runs + (runs > 1 ? 1 : 0)),
    '--chunk',
    String(chunk),
  ];
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
 * `client.args(port)` against it (see bulkRuns) and resolves what that does.
 */
export async function bulkTransfer(ctx, server, client) {
  const srv = startServer(server.command, server.args, server);
  try {
    const port = await srv.ready;
    return await bulkRuns(ctx, { ...client, args: client.args(port) });
  } finally {
    await stopGracefully(srv);
  }
}

/**
 * Runs a bulk client once (`{command, args, env}`, prints {"runsMbps": [...]})
 * and resolves {mbps, runsMbps} with the median run. All runs happen in that
 * one process; its first run, when it has more than one, is its warm-up (the
 * JIT, the pools, the caches) and is dropped.
 */
export async function bulkRuns(ctx, client) {
  const { runsMbps } = lastJson(await runChild(client.command, client.args, ctx, client));
  if (!Array.isArray(runsMbps) || runsMbps.length === 0) throw new Error('no bulk runs');
  const measured = runsMbps.length > 1 ? runsMbps.slice(1) : runsMbps;
  const sorted = [...measured].sort((a, b) => a - b);
  return { mbps: sorted[sorted.length >> 1], runsMbps: measured };
}

/**
 * `server` and `client` ({command, args}) made to run with room for `clients`
 * connections, or {skip} when the open-file limit cannot allow that many.
 */
function roomFor(clients, server, client) {
  const s = withOpenFiles(filesFor(clients), server.command, server.args);
  if (s.skip) return s;
  const probe = withOpenFiles(filesFor(clients), client.command, []);
  if (probe.skip) return probe;
  return {
    server: { ...server, ...s },
    client: {
      ...client,
      command: probe.command,
      args: (port) => [...probe.args, ...client.args(port)],
    },
  };
}

/**
 * A scaling row's run: starts `server`, runs the load client against it and
 * samples the server's CPU time and memory at the client's `mark start` and
 * `mark end`, and its memory before the first connection. Resolves
 * {msgsPerSec, clients, serverRssBytes, serverPeakRssBytes, serverCpuNsPerMsg,
 * bytesPerConnection} (RSS growth over the idle server, per connection), or
 * {skip} when this machine cannot open that many connections.
 */
export async function scaling(ctx, server, client, clients) {
  const room = roomFor(clients, server, client);
  if (room.skip) return room;
  const srv = startServer(room.server.command, room.server.args, room.server);
  try {
    const port = await srv.ready;
    const before = memory(srv.child.pid);
    const at = {};
    const sample = (name) => {
      at[name] = { cpu: cpuNs(srv.child.pid), mem: memory(srv.child.pid) };
    };
    const result = lastJson(
      await runClientBounded(ctx, room.client, room.client.args(port), clients, {
        onMark: sample,
        busyMs: ctx.quick ? 300 : 6000,
      }),
    );
    if (!(result.messages > 0)) throw new Error(`no echo completed: ${JSON.stringify(result)}`);
    const cpu =
      at.start?.cpu !== undefined && at.end?.cpu !== undefined
        ? (at.end.cpu - at.start.cpu) / result.messages
        : undefined;
    const rss = at.end?.mem?.rssBytes;
    return {
      msgsPerSec: result.messages / result.seconds,
      clients: result.clients,
      serverRssBytes: rss,
      serverPeakRssBytes: at.end?.mem?.peakRssBytes,
      serverCpuNsPerMsg: cpu,
      bytesPerConnection:
        rss !== undefined && before?.rssBytes !== undefined
          ? (rss - before.rssBytes) / result.clients
          : undefined,
    };
  } finally {
    await stopGracefully(srv);
  }
}

/** Asks a server started by startServer for its `memory {...}` line (lib/server-memory.mjs). */
function askMemory(srv, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += String(chunk);
      const m = /^memory (\{.*\})$/m.exec(out);
      if (m) {
        done();
        resolve(JSON.parse(m[1]));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the server did not report its memory within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      srv.child.stdout.off('data', onData);
    };
    srv.child.stdout.on('data', onData);
    srv.child.kill('SIGUSR2');
  });
}

/**
 * An idle-connection row's run: starts `server` (which must report its memory
 * on SIGUSR2, after a full GC), asks it once before any connection, runs the
 * client, which opens `clients` connections, sends nothing, prints `mark
 * start` and holds them, and asks again once the server has accepted them all.
 * Resolves {idleBytesPerConnection, clients, breakdown}: the growth per
 * connection of RSS and of its parts.
 */
export async function idleConnections(ctx, server, client, clients) {
  const room = roomFor(clients, server, client);
  if (room.skip) return room;
  const srv = startServer(room.server.command, room.server.args, room.server);
  try {
    const port = await srv.ready;
    const before = await askMemory(srv);
    let after;
    let failure;
    const measured = new Promise((resolve) => {
      const onStart = async () => {
        try {
          // The client has every connection open; the server may still be accepting.
          for (let i = 0; i < 50; i++) {
            after = await askMemory(srv);
            if (after.connections >= clients) break;
            await new Promise((r) => setTimeout(r, 100));
          }
        } catch (err) {
          failure = err;
        }
        resolve();
      };
      room.client.onMark = (name) => name === 'start' && onStart();
    });
    await runClientBounded(ctx, room.client, room.client.args(port), clients, {
      onMark: room.client.onMark,
      busyMs: 6000,
    });
    await measured;
    if (failure) throw failure;
    if (!(after?.connections >= clients))
      throw new Error(`the server held ${after?.connections} of ${clients} connections`);
    const per = (key) => (after[key] - before[key]) / after.connections;
    const heapUsed = per('heapUsedBytes');
    const heapReserve = per('heapTotalBytes') - heapUsed;
    const buffers = per('arrayBuffersBytes');
    const anon = per('rssAnonBytes');
    return {
      idleBytesPerConnection: per('rssBytes'),
      clients: after.connections,
      breakdown: {
        jsHeapBytes: heapUsed,
        heapReserveBytes: heapReserve,
        buffersBytes: buffers,
        // Anonymous memory outside V8's heap and JS buffers: malloc (native
        // per-socket state, libuv), thread stacks.
        nativeBytes: anon - heapUsed - heapReserve - buffers,
        fileBytes: per('rssFileBytes'),
      },
    };
  } finally {
    await stopGracefully(srv);
  }
}
