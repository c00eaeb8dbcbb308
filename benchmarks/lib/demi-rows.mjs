// Bulk and connection-scaling rows for any demi LibOS with TCP over loopback:
// both ends run on that LibOS, the same scripts for every LibOS.
import { join } from 'node:path';
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
} from './workloads.mjs';

const lib = new URL('.', import.meta.url).pathname;

/**
 * Rows `<prefix>-<mode>-bulk` for each wait mode, `<prefix>-conn-<n>` for
 * each client count (async waits, completions through waitNextN), and
 * `<prefix>-conn-idle` (the memory of one idle connection).
 * `available()` may return a reason to skip.
 */
export function demiRows({ libos, prefix, name, modes = ['async', 'sync'], clients, available }) {
  const label = { async: `${name} async wait`, sync: `${name} waitSync` };
  const bulk = modes.map((mode) => ({
    id: `${prefix}-${mode}-bulk`,
    group: BULK.group,
    label: label[mode],
    run: (ctx) => {
      const why = available?.();
      if (why) return { skip: why };
      const script = join(lib, 'demi-bulk.mjs');
      return bulkTransfer(
        ctx,
        { command: process.execPath, args: [script, 'server', '--libos', libos, '--mode', mode] },
        {
          command: process.execPath,
          args: (port) => [
            script,
            'client',
            '--libos',
            libos,
            '--mode',
            mode,
            ...bulkClientArgs(ctx, { port }),
          ],
        },
      );
    },
  }));
  const conn = SCALING.filter((s) => clients === undefined || clients.includes(s.clients)).map(
    (workload) => ({
      id: `${prefix}-conn-${workload.clients}`,
      group: workload.group,
      label: `${name} async, waitNextN`,
      run: (ctx) => {
        const why = available?.();
        if (why) return { skip: why };
        const { warmupMs, measureMs } = scalingCounts(ctx);
        const n = clientCount(ctx, workload);
        return scaling(
          ctx,
          {
            command: process.execPath,
            args: [join(lib, 'demi-echo-many.mjs'), '--libos', libos],
          },
          {
            command: process.execPath,
            args: (port) => [
              join(lib, 'scale-client.mjs'),
              '--libos',
              libos,
              '--port',
              port,
              '--clients',
              String(n),
              '--warmup-ms',
              String(warmupMs),
              '--measure-ms',
              String(measureMs),
            ],
          },
          n,
        );
      },
    }),
  );
  const idle = {
    id: `${prefix}-conn-idle`,
    group: IDLE.group,
    label: `${name}, one pop pending each`,
    run: (ctx) => {
      const why = available?.();
      if (why) return { skip: why };
      const n = clientCount(ctx, IDLE);
      return idleConnections(
        ctx,
        {
          command: process.execPath,
          args: ['--expose-gc', join(lib, 'demi-echo-many.mjs'), '--libos', libos],
        },
        {
          command: process.execPath,
          args: (port) => [
            join(lib, 'scale-client.mjs'),
            '--libos',
            libos,
            '--port',
            port,
            '--clients',
            String(n),
            '--idle',
            '--measure-ms',
            String(idleHoldMs(ctx)),
          ],
        },
        n,
      );
    },
  };
  return [...bulk, ...conn, idle];
}
