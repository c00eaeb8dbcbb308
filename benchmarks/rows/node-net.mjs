// The baseline: node:net over TCP (both ends in their own process), and over a
// Unix socket for comparison; node:net bulk transfer and connection scaling.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingPong } from '../lib/children.mjs';
import { countArgs, SIZES } from '../lib/sizes.mjs';
import {
  BULK,
  bulkClientArgs,
  bulkTransfer,
  clientCount,
  IDLE,
  idleConnections,
  idleHoldMs,
  SCALING,
  scaling,
  scalingCounts,
} from '../lib/workloads.mjs';

const lib = new URL('../lib/', import.meta.url).pathname;

export function rows() {
  return [...rtt(), bulk(), ...connections(), idle()];
}

/** One-way bulk transfer over loopback TCP in 64 KiB writes: the bulk baseline. */
function bulk() {
  return {
    id: 'node-net-tcp-bulk',
    group: BULK.group,
    label: 'node:net TCP',
    role: 'baseline',
    run: (ctx) => {
      return bulkTransfer(
        ctx,
        { command: process.execPath, args: [join(lib, 'net-bulk.mjs'), 'server'] },
        {
          command: process.execPath,
          args: (port) => [join(lib, 'net-bulk.mjs'), 'client', ...bulkClientArgs(ctx, { port })],
        },
      );
    },
  };
}

/** Concurrent echo clients against a node:net echo server: the scaling baseline. */
function connections() {
  return SCALING.map((workload) => ({
    id: `node-net-tcp-conn-${workload.clients}`,
    group: workload.group,
    label: 'node:net TCP',
    role: 'baseline',
    run: (ctx) => {
      const { warmupMs, measureMs } = scalingCounts(ctx);
      const clients = clientCount(ctx, workload);
      return scaling(
        ctx,
        { command: process.execPath, args: [join(lib, 'net-server.mjs'), 'tcp'] },
        {
          command: process.execPath,
          args: (port) => [
            join(lib, 'scale-client.mjs'),
            '--libos',
            'net',
            '--port',
            port,
            '--clients',
            String(clients),
            '--warmup-ms',
            String(warmupMs),
            '--measure-ms',
            String(measureMs),
          ],
        },
        clients,
      );
    },
  }));
}

/** The memory of idle node:net connections (a read pending on each): the baseline. */
function idle() {
  return {
    id: 'node-net-tcp-conn-idle',
    group: IDLE.group,
    label: 'node:net TCP',
    role: 'baseline',
    run: (ctx) => {
      const clients = clientCount(ctx, IDLE);
      return idleConnections(
        ctx,
        { command: process.execPath, args: ['--expose-gc', join(lib, 'net-server.mjs'), 'tcp'] },
        {
          command: process.execPath,
          args: (port) => [
            join(lib, 'scale-client.mjs'),
            '--libos',
            'net',
            '--port',
            port,
            '--clients',
            String(clients),
            '--idle',
            '--measure-ms',
            String(idleHoldMs(ctx)),
          ],
        },
        clients,
      );
    },
  };
}

function rtt() {
  return SIZES.flatMap((size) => [
    {
      id: `node-net-tcp-${size.bytes}`,
      group: size.group,
      label: 'node:net TCP',
      role: 'baseline',
      run: (ctx) =>
        pingPong(
          ctx,
          { command: process.execPath, args: [join(lib, 'net-server.mjs'), 'tcp'] },
          {
            command: process.execPath,
            args: (port) => [join(lib, 'net-client.mjs'), '--port', port, ...countArgs(ctx, size)],
          },
        ),
    },
    {
      id: `node-net-unix-${size.bytes}`,
      group: size.group,
      label: 'node:net Unix socket',
      run: (ctx) => {
        const path = join(mkdtempSync(join(tmpdir(), 'demi-bench-')), 'sock');
        return pingPong(
          ctx,
          { command: process.execPath, args: [join(lib, 'net-server.mjs'), 'unix', path] },
          {
            command: process.execPath,
            args: (p) => [join(lib, 'net-client.mjs'), '--path', p, ...countArgs(ctx, size)],
          },
        );
      },
    },
  ]);
}
