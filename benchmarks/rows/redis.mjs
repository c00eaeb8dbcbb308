// The Redis-compatible example server (examples/redis) under the real
// redis-benchmark, beside redis-server itself, in one run:
//   redis-P1, redis-P16            loopback: redis-server, the engine over node:net
//                                  (the baseline), the engine on catnap
//   redis-veth-P1, redis-veth-P16  a veth pair: the engine over node:net in the dev
//                                  namespace (the baseline), on catpowder (AF_PACKET)
//                                  and on catnip (DPDK net_af_packet), redis-benchmark
//                                  in the kernel namespace
// Each row runs `redis-benchmark -c 50 -t <TESTS> -P <1|16> --csv` once; its rate is
// all requests over all the time the tests took, and its server RSS is read when
// the benchmark ends. The per-command table (requests/s, p50, p99, ratios to the
// node:net row and to redis-server) is printed after the last row of a group.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../lib/children.mjs';
import { memory } from '../lib/proc.mjs';

const root = new URL('../../', import.meta.url).pathname;
const SERVER = join(root, 'examples/redis/server.mjs');
const TESTS = 'ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset';

export const needs = [
  '@demi/core',
  '@demi/catnap',
  '@demi/inetstack',
  '@demi/catpowder',
  '@demi/catnip',
];

async function dpdkMissing() {
  try {
    const { dpdkInfo } = await import('@demi/catnip');
    const info = dpdkInfo();
    return info.dpdk ? undefined : `@demi/catnip was ${info.reason}`;
  } catch (err) {
    return `@demi/catnip does not load: ${err.message.split('\n')[0]}`;
  }
}

/** The environment that puts the server on `transport` on the pair's dev side. */
function vethEnv(transport, pair, dir) {
  if (transport === 'node') return process.env;
  if (transport === 'catpowder')
    return {
      ...process.env,
      DEMI_LIBOS: 'catpowder',
      DEMI_CONFIG: '',
      DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp,
      DEMIKERNEL_PREFIX_LENGTH: '24',
      RAW_SOCKET_INTERFACE_NAME: pair.devIf,
      RAW_SOCKET_MODE: 'af_packet',
    };
  const eal = ['demi-redis', '--no-huge', '--no-pci', '-m', '128', '--no-shconf', '--no-telemetry'];
  eal.push('-l', '0', '--file-prefix', `demi-redis-bench-${process.pid}`);
  eal.push('--vdev', `net_af_packet0,iface=${pair.devIf}`);
  const config = join(dir, 'catnip.yaml');
  const yaml = ['demikernel:', `  local_ipv4_addr: ${pair.devIp}`, '  prefix_length: 24'];
  yaml.push('dpdk:', '  eal_init:', ...eal.map((a) => `    - ${JSON.stringify(a)}`), '');
  writeFileSync(config, yaml.join('\n'));
  return { ...process.env, DEMI_LIBOS: 'catnip', DEMI_CONFIG: config };
}

/**
 * Requests per test. -P 16 runs the full 200,000; -P 1 runs 50,000, because
 * 14 tests of 200,000 unpipelined requests outlast the runner's 5-minute row
 * limit on a loaded 2-core machine. --quick: 1,000 (completion only).
 */
function requests(ctx, pipeline) {
  if (ctx.quick) return 1000;
  return pipeline === 1 ? 50_000 : 200_000;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function hasCommand(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd, ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/** Runs redis-benchmark (optionally inside a namespace) and parses its CSV. */
function benchmark(ctx, { host, port, pipeline, netns }) {
  const args = ['-h', host, '-p', String(port), '-c', '50', '-n', String(requests(ctx, pipeline))];
  args.push('-t', TESTS, '-P', String(pipeline), '--csv');
  const [cmd, argv] = netns
    ? ['ip', ['netns', 'exec', netns, 'redis-benchmark', ...args]]
    : ['redis-benchmark', args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      ctx.progress(Math.min(1, (out.split('\n').length - 2) / 16), 'redis-benchmark');
    });
    child.stderr.on('data', (d) => (err += d));
    const onAbort = () => child.kill('SIGKILL');
    ctx.signal?.addEventListener('abort', onAbort);
    child.on('error', reject);
    child.on('exit', (code) => {
      ctx.signal?.removeEventListener('abort', onAbort);
      const lines = out.trim().split('\n').slice(1);
      if (code !== 0 || lines.length === 0 || /error/i.test(err))
        return reject(new Error(`redis-benchmark failed (${code}): ${err.trim().split('\n')[0]}`));
      const tests = lines.map((l) => {
        const [name, rps, , , p50, , p99] = JSON.parse(`[${l}]`);
        return { name, rps: Number(rps), p50Ms: Number(p50), p99Ms: Number(p99) };
      });
      resolve(tests);
    });
  });
}

/** Results of every finished row, by group, for the per-command table. */
const perCommand = new Map();

function record(group, label, role, tests) {
  if (!perCommand.has(group)) perCommand.set(group, []);
  perCommand.get(group).push({ label, role, tests });
}

/** Prints the group's per-command table once its last row has run. */
function printGroup(group) {
  const rows = perCommand.get(group) ?? [];
  const base = rows.find((r) => r.role === 'baseline');
  const redis = rows.find((r) => r.role === 'redis');
  const lines = [
    `\n${group}: requests/s per command (p50 ms), ratio to node:net / to redis-server`,
  ];
  const names = rows[0]?.tests.map((t) => t.name) ?? [];
  for (const r of rows) {
    lines.push(`  ${r.label}`);
    for (const name of names) {
      const t = r.tests.find((x) => x.name === name);
      if (!t) continue;
      const b = base?.tests.find((x) => x.name === name);
      const s = redis?.tests.find((x) => x.name === name);
      const ratio = (o) => (o ? `${(t.rps / o.rps).toFixed(2)}×` : '-');
      lines.push(
        `    ${name.padEnd(36)} ${String(Math.round(t.rps)).padStart(8)}  p50 ${t.p50Ms.toFixed(3)}  p99 ${t.p99Ms.toFixed(3)}  ${ratio(b)} / ${ratio(s)}`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** All requests over all the time: what one number says of a run of tests. */
function overall(tests) {
  const seconds = tests.reduce((sum, t) => sum + 1 / t.rps, 0);
  return tests.length / seconds;
}

async function measure(ctx, group, label, role, target, pid) {
  const tests = await benchmark(ctx, target);
  const mem = pid === undefined ? undefined : memory(pid);
  record(group, label, role, tests);
  return {
    msgsPerSec: overall(tests),
    clients: 50,
    serverRssBytes: mem?.rssBytes,
    serverPeakRssBytes: mem?.peakRssBytes,
  };
}

async function missingTools() {
  if (!(await hasCommand('redis-benchmark')))
    return 'redis-benchmark is not installed (apt-get install -y redis-tools)';
  return undefined;
}

function redisServerRow(pipeline, last) {
  const group = `redis-P${pipeline}`;
  return {
    id: `redis-server-P${pipeline}`,
    group,
    label: 'redis-server (Debian, no persistence)',
    run: async (ctx) => {
      const why =
        (await missingTools()) ??
        ((await hasCommand('redis-server')) ? undefined : 'redis-server is not installed');
      if (why) return { skip: why };
      const port = await freePort();
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      try {
        await waitForRedis(port);
        return await measure(
          ctx,
          group,
          'redis-server',
          'redis',
          { host: '127.0.0.1', port, pipeline },
          child.pid,
        );
      } finally {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
        if (last) printGroup(group);
      }
    },
  };
}

async function waitForRedis(port) {
  const end = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = spawn('redis-cli', ['-p', String(port), 'ping'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('error', () => resolve(false));
      c.on('exit', () => resolve(out.includes('PONG')));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function engineRow(pipeline, transport, last) {
  const group = `redis-P${pipeline}`;
  const label = transport === 'node' ? 'engine over node:net' : 'engine on catnap';
  return {
    id: `redis-${transport === 'node' ? 'net' : 'catnap'}-P${pipeline}`,
    group,
    label,
    ...(transport === 'node' ? { role: 'baseline' } : {}),
    run: async (ctx) => {
      const why = await missingTools();
      if (why) return { skip: why };
      const port = await freePort();
      const server = startServer(
        process.execPath,
        [SERVER, '--port', String(port), '--transport', transport === 'node' ? 'node' : 'demi'],
        { env: { ...process.env, DEMI_LIBOS: 'catnap' } },
      );
      try {
        await server.ready;
        return await measure(
          ctx,
          group,
          label,
          transport === 'node' ? 'baseline' : undefined,
          { host: '127.0.0.1', port, pipeline },
          server.child.pid,
        );
      } finally {
        server.stop();
        if (last) printGroup(group);
      }
    },
  };
}

function vethRow(pipeline, transport, last) {
  const group = `redis-veth-P${pipeline}`;
  const label = {
    node: 'engine over node:net ↔ kernel, veth',
    catpowder: 'engine on catpowder AF_PACKET ↔ kernel, veth',
    catnip: 'engine on catnip net_af_packet ↔ kernel, veth',
  }[transport];
  return {
    id: `redis-veth-${transport === 'node' ? 'net' : transport}-P${pipeline}`,
    group,
    label,
    ...(transport === 'node' ? { role: 'baseline' } : {}),
    run: async (ctx) => {
      const why = await missingTools();
      if (why) return { skip: why };
      const netns = await import(join(root, 'tools/netns/index.mjs'));
      const missing = netns.missingNetnsSupport();
      if (missing) return { skip: missing };
      if (transport === 'catnip') {
        const why = await dpdkMissing();
        if (why) return { skip: why };
      }
      const pair = netns.createPair({ devAddress: transport === 'node' });
      const port = 6379;
      const dir = mkdtempSync(join(tmpdir(), 'demi-redis-bench-'));
      const env = vethEnv(transport, pair, dir);
      const server = startServer(
        'ip',
        [
          'netns',
          'exec',
          pair.devNs,
          process.execPath,
          SERVER,
          '--address',
          pair.devIp,
          '--port',
          String(port),
          '--transport',
          transport === 'node' ? 'node' : 'demi',
        ],
        { env },
      );
      try {
        await server.ready;
        return await measure(
          ctx,
          group,
          label,
          transport === 'node' ? 'baseline' : undefined,
          { host: pair.devIp, port, pipeline, netns: pair.peerNs },
          server.child.pid,
        );
      } finally {
        server.stop();
        pair.down();
        rmSync(dir, { recursive: true, force: true });
        if (last) printGroup(group);
      }
    },
  };
}

export function rows() {
  return [1, 16].flatMap((p) => [
    redisServerRow(p, false),
    engineRow(p, 'node', false),
    engineRow(p, 'catnap', true),
    vethRow(p, 'node', false),
    vethRow(p, 'catpowder', false),
    vethRow(p, 'catnip', true),
  ]);
}
