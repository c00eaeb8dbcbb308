// node:http served over node:net and over @demi/net, the same server code, in one
// run: keep-alive requests from 64 connections for 10 s (1 s with --quick).
//   http-64:        wrk against node:net and against @demi/net on catnap (loopback)
//   http-catloop-64: a Node load client (wrk cannot speak catloop's shared memory)
//                    against node:net and against @demi/net on catloop, the client
//                    on the same transport as its server
//   http-veth-64:   wrk in the peer namespace against node:net (kernel address on
//                   the dev side) and against @demi/net on catpowder and on catnip
//                   (DPDK's net_af_packet) (root only)
// Rows report requests/s, the server's RSS and CPU per request; run this file on its
// own (`node benchmarks/rows/http.mjs [--quick]`) for a table with p99 latency too.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from '../lib/children.mjs';
import { cpuNs, memory } from '../lib/proc.mjs';

const SELF = fileURLToPath(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const CONNECTIONS = 64;
const BODY = 'hello from node:http\n';

/** Packages the runner builds before these rows run. */
export const needs = [
  '@demi/core',
  '@demi/net',
  '@demi/catnap',
  '@demi/catloop',
  '@demi/inetstack',
  '@demi/catpowder',
  '@demi/catnip',
];

const seconds = (ctx) => (ctx.quick ? 1 : 10);
const connections = (ctx) => (ctx.quick ? 16 : CONNECTIONS);

export function rows() {
  return [
    row('http-node-net', 'http-64', 'node:http over node:net (wrk)', 'baseline', (ctx) =>
      loopbackWrk(ctx, 'node', {}),
    ),
    row(
      'http-demi-catnap',
      'http-64',
      'node:http over @demi/net on catnap (wrk)',
      undefined,
      (ctx) => loopbackWrk(ctx, 'demi', { DEMI_LIBOS: 'catnap' }),
    ),
    row(
      'http-node-net-node-client',
      'http-catloop-64',
      'node:http over node:net (Node client)',
      'baseline',
      (ctx) => loopbackNodeClient(ctx, 'node', {}),
    ),
    row(
      'http-demi-catloop',
      'http-catloop-64',
      'node:http over @demi/net on catloop (Node client on catloop)',
      undefined,
      (ctx) => loopbackNodeClient(ctx, 'demi', { DEMI_LIBOS: 'catloop' }),
    ),
    row(
      'http-veth-node-net',
      'http-veth-64',
      'node:http over node:net, veth (wrk)',
      'baseline',
      (ctx) => vethWrk(ctx, 'node'),
    ),
    row(
      'http-veth-demi-catpowder',
      'http-veth-64',
      'node:http over @demi/net on catpowder, veth (wrk)',
      undefined,
      (ctx) => vethWrk(ctx, 'catpowder'),
    ),
    row(
      'http-veth-demi-catnip',
      'http-veth-64',
      'node:http over @demi/net on catnip, veth (wrk)',
      undefined,
      (ctx) => vethWrk(ctx, 'catnip'),
    ),
  ];
}

function row(id, group, label, role, measure) {
  return {
    id,
    group,
    label,
    role,
    async run(ctx) {
      const r = await measure(ctx);
      if (r.skip) return r;
      return {
        msgsPerSec: r.requestsPerSec,
        clients: r.connections,
        serverRssBytes: r.serverRssBytes,
        serverPeakRssBytes: r.serverPeakRssBytes,
        serverCpuNsPerMsg: r.serverCpuNsPerRequest,
        p99Ms: r.p99Ms,
      };
    },
  };
}

function serverArgs(impl, address) {
  return [SELF, '--serve', impl, '--address', address];
}

/** Measures one load run against a server child: CPU and memory from /proc around it. */
async function measured(server, load) {
  const port = Number(await server.ready);
  const pid = server.child.pid;
  try {
    const cpu0 = cpuNs(pid);
    const r = await load(port);
    const cpu1 = cpuNs(pid);
    const mem = memory(pid);
    return {
      ...r,
      serverRssBytes: mem?.rssBytes,
      serverPeakRssBytes: mem?.peakRssBytes,
      serverCpuNsPerRequest:
        cpu0 !== undefined && cpu1 !== undefined && r.requests > 0
          ? (cpu1 - cpu0) / r.requests
          : undefined,
    };
  } finally {
    server.stop();
  }
}

function loopbackWrk(ctx, impl, env) {
  const server = startServer(process.execPath, serverArgs(impl, '127.0.0.1'), {
    env: { ...process.env, ...env },
  });
  return measured(server, (port) => wrk(ctx, [], `http://127.0.0.1:${port}/`));
}

function loopbackNodeClient(ctx, impl, env) {
  const server = startServer(process.execPath, serverArgs(impl, '127.0.0.1'), {
    env: { ...process.env, ...env },
  });
  return measured(server, async (port) => {
    const out = await output(
      process.execPath,
      [
        SELF,
        '--load',
        impl,
        '--port',
        String(port),
        '--connections',
        String(connections(ctx)),
        '--seconds',
        String(seconds(ctx)),
      ],
      { ...process.env, ...env },
      ctx,
    );
    return JSON.parse(out.trim().split('\n').pop());
  });
}

/** Why catnip cannot run here, or undefined. */
async function dpdkMissing() {
  try {
    const info = (await import('@demi/catnip')).dpdkInfo();
    return info.dpdk ? undefined : `catnip was ${info.reason}`;
  } catch (err) {
    return `@demi/catnip does not load: ${err.message}`;
  }
}

/** The environment that puts a user-level stack on the dev side of the pair. */
function stackEnv(libos, pair) {
  const base = { ...process.env, DEMI_LIBOS: libos, DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp };
  if (libos === 'catpowder') {
    return {
      ...base,
      DEMI_CONFIG: '',
      DEMIKERNEL_PREFIX_LENGTH: '24',
      RAW_SOCKET_INTERFACE_NAME: pair.devIf,
      RAW_SOCKET_MODE: 'af_packet',
    };
  }
  const config = join(mkdtempSync(join(tmpdir(), 'demi-http-bench-')), 'catnip.yaml');
  writeFileSync(
    config,
    `demikernel:\n  local_ipv4_addr: ${pair.devIp}\n  prefix_length: 24\n` +
      `dpdk:\n  vdevs: ["net_af_packet0,iface=${pair.devIf}"]\n`,
  );
  return { ...base, DEMI_CONFIG: config };
}

/** `impl`: 'node' (node:net with a kernel address on the dev side), or the LibOS under @demi/net. */
async function vethWrk(ctx, impl) {
  const netns = await import(join(root, 'tools/netns/index.mjs'));
  const why = netns.missingNetnsSupport() ?? (impl === 'catnip' ? await dpdkMissing() : undefined);
  if (why !== undefined) return { skip: why };
  // node:net needs a kernel address on the dev side; a user-level stack owns the interface instead.
  const pair = netns.createPair({ devAddress: impl === 'node' });
  const env = impl === 'node' ? process.env : stackEnv(impl, pair);
  try {
    const server = startServer(
      'ip',
      [
        'netns',
        'exec',
        pair.devNs,
        process.execPath,
        ...serverArgs(impl === 'node' ? 'node' : 'demi', '0.0.0.0'),
      ],
      { env },
    );
    return await measured(server, (port) =>
      wrk(ctx, ['ip', 'netns', 'exec', pair.peerNs], `http://${pair.devIp}:${port}/`),
    );
  } finally {
    pair.down();
    if (env.DEMI_CONFIG) rmSync(dirname(env.DEMI_CONFIG), { recursive: true, force: true });
  }
}

/** Runs wrk (keep-alive, one thread) and reads requests/s, p99 and the request count. */
async function wrk(ctx, wrap, url) {
  const args = [
    ...wrap,
    'wrk',
    '-t1',
    `-c${connections(ctx)}`,
    `-d${seconds(ctx)}s`,
    '--latency',
    url,
  ];
  const text = await output(args[0], args.slice(1), process.env, ctx);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const errors = /Socket errors: (.*)/.exec(text)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  if (!(rps > 0)) throw new Error(`wrk reported no requests: ${text}`);
  if (non2xx) throw new Error(`wrk saw ${non2xx} failed responses`);
  const scale = { us: 1e-3, ms: 1, s: 1e3 };
  return {
    requestsPerSec: rps,
    requests,
    connections: connections(ctx),
    p99Ms: p99 ? Number(p99[1]) * scale[p99[2]] : undefined,
    socketErrors: errors,
  };
}

function output(command, args, env, ctx) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const abort = () => child.kill('SIGKILL');
    ctx.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      ctx.signal?.removeEventListener('abort', abort);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

// ---- the child roles: the server, and the Node load client ------------------

async function serve(impl, address) {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(BODY);
  });
  let listener = server;
  if (impl === 'demi') {
    const net = (await import('@demi/net')).default;
    const { serveHttp } = await import('@demi/net/http');
    listener = serveHttp(server, net.createServer());
  }
  listener.listen(0, address, () => console.log(`ready ${listener.address().port}`));
  // Exit cleanly on SIGINT (so `node --cpu-prof` can write its profile) and on
  // SIGTERM (so a catloop listener's segment is removed at exit).
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
}

/** Keep-alive requests from `connections` loops for `seconds`; prints {requestsPerSec, requests, p99Ms}. */
async function load(impl, port, conns, secs) {
  let agent;
  if (impl === 'demi') {
    const { DemiAgent } = await import('@demi/net/http');
    agent = new DemiAgent({ keepAlive: true, maxSockets: conns });
  } else {
    agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  }
  const latencies = [];
  let requests = 0;
  const warmupEnd = performance.now() + 300;
  const end = warmupEnd + secs * 1000;
  const once = () =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            const now = performance.now();
            if (start >= warmupEnd && now <= end) {
              latencies.push(now - start);
              requests++;
            }
            resolve();
          });
        })
        .on('error', reject);
    });
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < end) await once();
    }),
  );
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      requestsPerSec: requests / secs,
      requests,
      connections: conns,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)],
    }),
  );
  agent.destroy();
  process.exit(0);
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      load: { type: 'string' },
      address: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: String(CONNECTIONS) },
      seconds: { type: 'string', default: '10' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  if (values.serve) await serve(values.serve, values.address);
  else if (values.load)
    await load(
      values.load,
      Number(values.port),
      Number(values.connections),
      Number(values.seconds),
    );
  else {
    // Standalone: every row, one table with p99 and ratios to node:net in the same group.
    const ctx = { quick: values.quick, signal: undefined, progress() {} };
    const results = [];
    for (const r of rows()) {
      if (values.only && !r.id.includes(values.only)) continue;
      process.stderr.write(`${r.id} ...\n`);
      try {
        results.push({ ...r, result: await r.run(ctx) });
      } catch (err) {
        results.push({ ...r, result: { error: err.message } });
      }
    }
    console.log(
      '| row | requests/s | p99 ms | server RSS MiB | server CPU µs/request | req/s vs node:net | RSS vs node:net |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const x = r.result;
      if (x.skip || x.error) {
        console.log(
          `| ${r.label} | ${x.skip ? `skipped: ${x.skip}` : `error: ${x.error}`} | | | | | |`,
        );
        continue;
      }
      const base = results.find((b) => b.group === r.group && b.role === 'baseline')?.result;
      const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '');
      console.log(
        `| ${r.label} | ${Math.round(x.msgsPerSec)} | ${x.p99Ms?.toFixed(2) ?? ''} | ${(x.serverRssBytes / 2 ** 20).toFixed(0)} | ${(x.serverCpuNsPerMsg / 1000).toFixed(1)} | ${ratio(x.msgsPerSec, base?.msgsPerSec)} | ${ratio(x.serverRssBytes, base?.serverRssBytes)} |`,
      );
    }
  }
}
