// catpowder over a veth pair against the Linux kernel, next to node:net over
// the same kind of veth: 64 B ping-pong round trips and bulk throughput.
//
// Every row builds its own pair of network namespaces (tools/netns): the
// client runs in the dev namespace, a node:net server in the peer namespace.
// catpowder rows run the stack on the dev side's raw interface (no kernel
// address there); the node:net row gives the dev side a kernel address instead.
// Needs root; without it the rows say so and skip.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runClient, startServer } from '../lib/children.mjs';

const root = new URL('../../', import.meta.url).pathname;
const bench = join(root, 'packages/catpowder/bench');
const demiClient = join(root, 'benchmarks/lib/demi-client.mjs');

/** Packages the runner builds before these rows run. */
export const needs = ['@demi/core', '@demi/inetstack', '@demi/catpowder'];

async function harness() {
  const netns = await import(join(root, 'tools/netns/index.mjs'));
  const why = netns.missingNetnsSupport();
  return why === undefined ? { netns } : { skip: why };
}

async function xdpMissing() {
  try {
    const { features } = await import('@demi/catpowder');
    return features().afXdpUnavailable;
  } catch (err) {
    return `@demi/catpowder does not load: ${err.message}`;
  }
}

/** Environment that configures catpowder through core's config overrides. */
function catpowderEnv(pair, mode) {
  return {
    ...process.env,
    DEMI_LIBOS: 'catpowder',
    DEMI_CONFIG: '',
    DEMIKERNEL_LOCAL_IPV4_ADDR: pair.devIp,
    DEMIKERNEL_PREFIX_LENGTH: '24',
    RAW_SOCKET_INTERFACE_NAME: pair.devIf,
    RAW_SOCKET_MODE: mode.mode,
    ...(mode.xdpMode ? { RAW_SOCKET_XDP_MODE: mode.xdpMode } : {}),
  };
}

/** Runs fn(pair, serverPort) with a pair and a node:net server (`echo` or `sink`) in its peer namespace. */
async function withPeer(kind, devAddress, fn) {
  const h = await harness();
  if (h.skip) return { skip: h.skip };
  const pair = h.netns.createPair({ devAddress });
  const server = startServer('ip', [
    'netns',
    'exec',
    pair.peerNs,
    process.execPath,
    join(root, 'benchmarks/lib/net-peer.mjs'),
    kind,
    pair.peerIp,
  ]);
  try {
    const port = await server.ready;
    return await fn(pair, port);
  } finally {
    server.stop();
    pair.down();
  }
}

function inDev(pair, args) {
  return ['netns', 'exec', pair.devNs, process.execPath, ...args];
}

function counts(ctx) {
  return ['--size', '64', '--warmup', String(ctx.warmup), '--iterations', String(ctx.iterations)];
}

function pingPongRow(id, label, mode, extra = {}) {
  return {
    id,
    group: 'veth-rtt-64',
    label,
    ...extra,
    run: async (ctx) => {
      if (mode?.mode === 'af_xdp') {
        const why = await xdpMissing();
        if (why) return { skip: why };
      }
      return withPeer('echo', mode === undefined, async (pair, port) => {
        const samplesNs =
          mode === undefined
            ? await runClient(
                'ip',
                inDev(pair, [
                  join(bench, 'net-client.mjs'),
                  '--address',
                  pair.peerIp,
                  '--port',
                  port,
                  ...counts(ctx),
                ]),
                ctx,
              )
            : await runClient(
                'ip',
                inDev(pair, [
                  demiClient,
                  '--libos',
                  'catpowder',
                  '--mode',
                  mode.wait,
                  '--address',
                  pair.peerIp,
                  '--port',
                  port,
                  ...counts(ctx),
                ]),
                ctx,
                { env: catpowderEnv(pair, mode) },
              );
        return { samplesNs };
      });
    },
  };
}

/** Runs a bulk sender to completion and returns what it printed. */
function runBulk(args, env, signal) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort);
    child.on('error', reject);
    child.on('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined)
        reject(new Error(`bulk sender failed (${code}): ${err.trim().split('\n').pop()}`));
      else resolve(JSON.parse(line));
    });
  });
}

function bulkRow(id, label, mode, extra = {}) {
  return {
    id,
    group: 'veth-bulk',
    label,
    ...extra,
    run: async (ctx) => {
      if (mode?.mode === 'af_xdp') {
        const why = await xdpMissing();
        if (why) return { skip: why };
      }
      const bytes = (ctx.quick ? 16 : 256) * 1024 * 1024;
      const runs = ctx.quick ? 1 : 3;
      return withPeer('sink', mode === undefined, async (pair, port) => {
        const rates = [];
        for (let i = 0; i < runs; i++) {
          const args =
            mode === undefined
              ? inDev(pair, [
                  join(bench, 'net-client.mjs'),
                  '--address',
                  pair.peerIp,
                  '--port',
                  port,
                  '--bulk',
                  String(bytes),
                ])
              : inDev(pair, [
                  join(bench, 'demi-bulk.mjs'),
                  '--address',
                  pair.peerIp,
                  '--port',
                  port,
                  '--bulk',
                  String(bytes),
                ]);
          const r = await runBulk(
            args,
            mode === undefined ? process.env : catpowderEnv(pair, mode),
            ctx.signal,
          );
          rates.push(r.mbps);
          ctx.progress((i + 1) / runs, `${r.mbps.toFixed(0)} Mbit/s`);
        }
        rates.sort((a, b) => a - b);
        const mbps = rates[rates.length >> 1];
        return { mbps, runsMbps: rates };
      });
    },
  };
}

const AF_PACKET = { mode: 'af_packet' };
const AF_XDP = { mode: 'af_xdp', xdpMode: 'native' };

export function rows() {
  return [
    pingPongRow('catpowder-veth-net-64', 'node:net ↔ kernel over veth', undefined, {
      role: 'baseline',
    }),
    pingPongRow('catpowder-afpacket-sync-64', 'catpowder AF_PACKET waitSync ↔ kernel', {
      ...AF_PACKET,
      wait: 'sync',
    }),
    pingPongRow('catpowder-afpacket-async-64', 'catpowder AF_PACKET async wait ↔ kernel', {
      ...AF_PACKET,
      wait: 'async',
    }),
    pingPongRow('catpowder-afxdp-sync-64', 'catpowder AF_XDP waitSync ↔ kernel', {
      ...AF_XDP,
      wait: 'sync',
    }),
    bulkRow('catpowder-veth-net-bulk', 'node:net → kernel over veth', undefined, {
      role: 'baseline',
    }),
    bulkRow('catpowder-afpacket-bulk', 'catpowder AF_PACKET → kernel', AF_PACKET),
    bulkRow('catpowder-afxdp-bulk', 'catpowder AF_XDP → kernel', AF_XDP),
  ];
}
