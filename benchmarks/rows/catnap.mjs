// catnap (kernel sockets through the addon) with async wait and with waitSync:
// ping-pong, bulk transfer and connection scaling. Both ends are demi processes
// on catnap.
import { join } from 'node:path';
import { pingPong } from '../lib/children.mjs';
import { demiRows } from '../lib/demi-rows.mjs';
import { countArgs, SIZES } from '../lib/sizes.mjs';

const lib = new URL('../lib/', import.meta.url).pathname;

/** Packages the runner builds (through nx, cached) before these rows run. */
export const needs = ['@demi/core', '@demi/catnap'];

const MODES = [
  { mode: 'async', label: 'catnap async wait' },
  { mode: 'sync', label: 'catnap waitSync' },
  // Async waits that never busy-poll after a wake-up (catnap.wake_spin_us: 0).
  {
    mode: 'async',
    id: 'nospin',
    label: 'catnap async, no wake spin',
    env: { ...process.env, CATNAP_WAKE_SPIN_US: '0' },
  },
];

export function rows() {
  return [...rtt(), ...demiRows({ libos: 'catnap', prefix: 'catnap', name: 'catnap' })];
}

function rtt() {
  return SIZES.flatMap((size) =>
    MODES.map(({ mode, id, label, env }) => ({
      id: `catnap-${id ?? mode}-${size.bytes}`,
      group: size.group,
      label,
      run: (ctx) =>
        pingPong(
          ctx,
          {
            command: process.execPath,
            args: [join(lib, 'demi-server.mjs'), '--libos', 'catnap', '--mode', mode],
            env,
          },
          {
            command: process.execPath,
            args: (port) => [
              join(lib, 'demi-client.mjs'),
              '--libos',
              'catnap',
              '--mode',
              mode,
              '--port',
              port,
              ...countArgs(ctx, size),
            ],
            env,
          },
        ),
    })),
  );
}
