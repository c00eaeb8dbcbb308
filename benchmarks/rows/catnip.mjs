// catnip (DPDK under @demi/inetstack) on DPDK's virtual devices, beside node:net
// on the same path: 64 B ping-pong round trips and bulk throughput.
//
//   memif  two catnip processes joined by net_memif (shared memory, no kernel
//          on the data path), group rtt-64 / bulk beside node:net over loopback
//   veth   catnip on net_af_packet in one network namespace against a node:net
//          server in another (tools/netns), beside node:net on the same veth
//
// catnip processes are the shared demi clients/servers (lib/demi-*.mjs) with
// DEMI_LIBOS=catnip and a YAML config whose dpdk.eal_init names the device and
// pins each process to its own lcore. Needs root; otherwise the rows skip.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingPong, runClientMeasured, startServer } from '../lib/children.mjs';
import { BULK, bulkClientArgs, bulkRuns, bulkTransfer } from '../lib/workloads.mjs';

const root = new URL('../../', import.meta.url).pathname;
const lib = join(root, 'benchmarks/lib');
const bench = join(root, 'packages/catnip/bench');
const netClient = join(lib, 'net-client.mjs');

/** Packages the runner builds before these rows run. */
export const needs = ['@demi/core', '@demi/inetstack', '@demi/catnip'];

const MEMIF_SERVER = '10.79.0.1';
const MEMIF_CLIENT = '10.79.0.2';

async function dpdkMissing() {
  if (process.getuid?.() !== 0) return 'needs root (DPDK virtual devices, network namespaces)';
  try {
    const { dpdkInfo } = await import('@demi/catnip');
    const info = dpdkInfo();
    return info.dpdk ? undefined : `@demi/catnip was ${info.reason}`;
  } catch (err) {
    return `@demi/catnip does not load: ${err.message.split('\n')[0]}`;
  }
}

/**
 * The bulk memif link: MTU 9000 (both ends; DPDK's memif carries it in one
 * 9216-byte buffer per frame) and no checksums (both ends declare the shared
 * memory trusted: Demikernel's checksum-offload keys, see the catnip README).
 */
const MEMIF_BULK = {
  devargs: ',bsize=9216',
  stack: [
    'inetstack_config:',
    '  mtu: 9000',
    '  enable_jumbo_frames: true',
    '  tcp_checksum_offload: true',
    '  udp_checksum_offload: true',
  ],
};

/**
 * DEMI_BENCH_CATNIP_BEFORE=1 runs the bulk rows as they were before jumbo
 * frames, trusted memif links and the unpinned af_packet bulk process, for A/B runs.
 */
const BEFORE = process.env.DEMI_BENCH_CATNIP_BEFORE === '1';

/**
 * A YAML config for one catnip process: its address, its device, its lcore
 * (pinned: DPDK's EAL arguments verbatim), or with `lcore` undefined catnip's
 * default EAL arguments (dpdk.vdevs), which give the process its CPUs back so
 * the scheduler may move it off a core another busy process also wants.
 */
function writeConfig(dir, name, { ip, vdev, lcore, stack = [] }) {
  if (lcore === undefined) {
    const yaml = [
      'demikernel:',
      `  local_ipv4_addr: ${ip}`,
      '  prefix_length: 24',
      'dpdk:',
      `  vdevs: [${JSON.stringify(vdev)}]`,
      ...stack,
      '',
    ].join('\n');
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, yaml);
    return path;
  }
  const eal = [
    'demi-catnip',
    '--no-huge',
    '--no-pci',
    '-m',
    '128',
    '--no-shconf',
    '--no-telemetry',
  ];
  eal.push(
    '-l',
    String(lcore),
    '--file-prefix',
    `demi-bench-${process.pid}-${name}`,
    '--vdev',
    vdev,
  );
  const yaml = [
    'demikernel:',
    `  local_ipv4_addr: ${ip}`,
    '  prefix_length: 24',
    'dpdk:',
    '  eal_init:',
    ...eal.map((a) => `    - ${JSON.stringify(a)}`),
    ...stack,
    '',
  ].join('\n');
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const catnipEnv = (config) => ({ ...process.env, DEMI_LIBOS: 'catnip', DEMI_CONFIG: config });
const counts = (ctx) => [
  '--size',
  '64',
  '--warmup',
  String(ctx.warmup),
  '--iterations',
  String(ctx.iterations),
];

/**
 * A temp dir with a memif socket path and server/client configs (`link`:
 * MEMIF_BULK or none), each process on its own lcore.
 */
function memifConfigs(link = { devargs: '', stack: [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'demi-bench-catnip-'));
  const socket = join(dir, 'memif.sock');
  const memif = (role) =>
    `net_memif0,role=${role},id=0,socket=${socket},socket-abstract=no${link.devargs}`;
  const { stack } = link;
  return {
    dir,
    server: writeConfig(dir, 'server', {
      ip: MEMIF_SERVER,
      vdev: memif('server'),
      lcore: 1,
      stack,
    }),
    client: writeConfig(dir, 'client', {
      ip: MEMIF_CLIENT,
      vdev: memif('client'),
      lcore: 0,
      stack,
    }),
  };
}

function memifPingPong(mode) {
  return async (ctx) => {
    const missing = await dpdkMissing();
    if (missing) return { skip: missing };
    const c = memifConfigs();
    try {
      return await pingPong(
        ctx,
        {
          command: process.execPath,
          args: [join(bench, 'echo-server.mjs'), '--mode', mode, '--address', MEMIF_SERVER],
          env: catnipEnv(c.server),
        },
        {
          command: process.execPath,
          args: (port) => [
            join(lib, 'demi-client.mjs'),
            '--libos',
            'catnip',
            '--mode',
            mode,
            '--address',
            MEMIF_SERVER,
            '--port',
            port,
            ...counts(ctx),
          ],
          env: catnipEnv(c.client),
        },
      );
    } finally {
      rmSync(c.dir, { recursive: true, force: true });
    }
  };
}

/** Runs a child to completion; resolves with the JSON line it printed. */
async function memifBulk(ctx) {
  const missing = await dpdkMissing();
  if (missing) return { skip: missing };
  // Pinned, each to its own lcore: two busy-polling peers left to the scheduler
  // can share one core and then take turns instead of running side by side.
  const c = BEFORE ? memifConfigs() : memifConfigs(MEMIF_BULK);
  try {
    return await bulkTransfer(
      ctx,
      {
        command: process.execPath,
        args: [
          join(lib, 'demi-bulk.mjs'),
          'server',
          '--libos',
          'catnip',
          '--mode',
          'async',
          '--address',
          MEMIF_SERVER,
        ],
        env: catnipEnv(c.server),
      },
      {
        command: process.execPath,
        args: (port) => [
          join(lib, 'demi-bulk.mjs'),
          'client',
          '--libos',
          'catnip',
          ...bulkClientArgs(ctx, { port, address: MEMIF_SERVER }),
        ],
        env: catnipEnv(c.client),
      },
    );
  } finally {
    rmSync(c.dir, { recursive: true, force: true });
  }
}

/**
 * The bulk veth: MTU 9000 on both ends (for both rows of the group), and
 * net_af_packet ring frames of 9216 bytes that hold one such frame (9000 + 14 +
 * the 32-byte TPACKET_V2 header), four to a 36 KiB block (a block must hold
 * whole frames: the driver finds them at multiples of framesz).
 */
const VETH_BULK = {
  mtu: 9000,
  devargs: ',framesz=9216,blocksz=36864,framecnt=1024',
  stack: ['inetstack_config:', '  mtu: 9000', '  enable_jumbo_frames: true'],
};

/**
 * Runs fn(pair, port, dir, serverPid) with a namespace pair (its veth at `mtu`,
 * if given) and net-peer.mjs (`echo` or `sink`) in its peer namespace.
 */
async function withVethPeer(kind, devAddress, fn, mtu) {
  const missing = await dpdkMissing();
  if (missing) return { skip: missing };
  const netns = await import(join(root, 'tools/netns/index.mjs'));
  const why = netns.missingNetnsSupport();
  if (why) return { skip: why };
  const pair = netns.createPair({ devAddress });
  if (mtu !== undefined) {
    for (const [ns, ifname] of [
      [pair.devNs, pair.devIf],
      [pair.peerNs, pair.peerIf],
    ])
      execFileSync('ip', ['-n', ns, 'link', 'set', ifname, 'mtu', String(mtu)]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'demi-bench-catnip-'));
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
    return await fn(pair, await server.ready, dir, server.child.pid);
  } finally {
    server.stop();
    pair.down();
    rmSync(dir, { recursive: true, force: true });
  }
}

const inDev = (pair, args) => ['netns', 'exec', pair.devNs, process.execPath, ...args];
/** The catnip process on the veth: pinned for round trips; for bulk (`link`: VETH_BULK) not. */
const afPacketConfig = (pair, dir, link) =>
  writeConfig(dir, 'afpacket', {
    ip: pair.devIp,
    vdev: `net_af_packet0,iface=${pair.devIf}${link?.devargs ?? ''}`,
    lcore: link === undefined ? 0 : undefined,
    stack: link?.stack,
  });

function vethPingPong(mode) {
  return (ctx) =>
    withVethPeer('echo', mode === undefined, async (pair, port, dir, serverPid) => {
      const args =
        mode === undefined
          ? inDev(pair, [netClient, '--address', pair.peerIp, '--port', port, ...counts(ctx)])
          : inDev(pair, [
              join(lib, 'demi-client.mjs'),
              '--libos',
              'catnip',
              '--mode',
              mode,
              '--address',
              pair.peerIp,
              '--port',
              port,
              ...counts(ctx),
            ]);
      const env = mode === undefined ? process.env : catnipEnv(afPacketConfig(pair, dir));
      return runClientMeasured('ip', args, ctx, { env, serverPid });
    });
}

function vethBulk(kernel) {
  const link = BEFORE ? undefined : VETH_BULK;
  return (ctx) =>
    withVethPeer(
      'sink',
      kernel,
      (pair, port, dir) =>
        bulkRuns(
          ctx,
          kernel
            ? {
                command: 'ip',
                args: inDev(pair, [
                  join(lib, 'net-bulk.mjs'),
                  'client',
                  ...bulkClientArgs(ctx, { port, address: pair.peerIp, chunk: 256 << 10 }),
                ]),
              }
            : {
                command: 'ip',
                args: inDev(pair, [
                  join(lib, 'demi-bulk.mjs'),
                  'client',
                  '--libos',
                  'catnip',
                  ...bulkClientArgs(ctx, { port, address: pair.peerIp }),
                ]),
                env: catnipEnv(afPacketConfig(pair, dir, link)),
              },
        ),
      link?.mtu,
    );
}

export function rows() {
  return [
    {
      id: 'catnip-memif-sync-64',
      group: 'rtt-64',
      label: 'catnip memif waitSync, 2 processes',
      run: memifPingPong('sync'),
    },
    {
      id: 'catnip-memif-async-64',
      group: 'rtt-64',
      label: 'catnip memif async wait, 2 processes',
      run: memifPingPong('async'),
    },
    {
      id: 'catnip-veth-net-64',
      group: 'catnip-veth-rtt-64',
      label: 'node:net ↔ kernel over veth',
      role: 'baseline',
      run: vethPingPong(undefined),
    },
    {
      id: 'catnip-afpacket-sync-64',
      group: 'catnip-veth-rtt-64',
      label: 'catnip net_af_packet waitSync ↔ kernel',
      run: vethPingPong('sync'),
    },
    {
      id: 'catnip-afpacket-async-64',
      group: 'catnip-veth-rtt-64',
      label: 'catnip net_af_packet async wait ↔ kernel',
      run: vethPingPong('async'),
    },
    {
      id: 'catnip-memif-bulk',
      group: BULK.group,
      label: BEFORE
        ? 'catnip memif, 2 processes'
        : 'catnip memif, 2 processes, MTU 9000, no checksums',
      run: memifBulk,
    },
    {
      id: 'catnip-veth-net-bulk',
      group: 'catnip-veth-bulk',
      label: BEFORE ? 'node:net → kernel over veth' : 'node:net → kernel over veth, MTU 9000',
      role: 'baseline',
      run: vethBulk(true),
    },
    {
      id: 'catnip-afpacket-bulk',
      group: 'catnip-veth-bulk',
      label: BEFORE ? 'catnip net_af_packet → kernel' : 'catnip net_af_packet → kernel, MTU 9000',
      run: vethBulk(false),
    },
  ];
}
