// catpowder over a veth pair against the Linux kernel, next to node:net over
// the same kind of veth: 64 B ping-pong round trips and bulk throughput.
//
// Every row builds its own pair of network namespaces (tools/netns): the
// client runs in the dev namespace, a node:net server in the peer namespace.
// catpowder rows run the stack on the dev side's raw interface (no kernel
// address there); the node:net row gives the dev side a kernel address instead.
// Needs root; without it the rows say so and skip.
import { join } from 'node:path';
import { runClient, startServer } from '../lib/children.mjs';
import { bulkClientArgs, bulkRuns } from '../lib/workloads.mjs';

const root = new URL('../../', import.meta.url).pathname;
const demiClient = join(root, 'benchmarks/lib/demi-client.mjs');
const demiBulk = join(root, 'benchmarks/lib/demi-bulk.mjs');
const netClient = join(root, 'benchmarks/lib/net-client.mjs');
const netBulk = join(root, 'benchmarks/lib/net-bulk.mjs');

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
                inDev(pair, [netClient, '--address', pair.peerIp, '--port', port, ...counts(ctx)]),
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
      return withPeer('sink', mode === undefined, (pair, port) => {
        const to = { port, address: pair.peerIp };
        return bulkRuns(
          ctx,
          mode === undefined
            ? {
                command: 'ip',
                args: inDev(pair, [
                  netBulk,
                  'client',
                  ...bulkClientArgs(ctx, { ...to, chunk: 1 << 20 }),
                ]),
              }
            : {
                command: 'ip',
                args: inDev(pair, [
                  demiBulk,
                  'client',
                  '--libos',
                  'catpowder',
                  ...bulkClientArgs(ctx, { ...to, chunk: 256 << 10 }),
                ]),
                env: catpowderEnv(pair, mode),
              },
        );
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
