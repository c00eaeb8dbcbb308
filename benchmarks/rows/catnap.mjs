// catnap (kernel sockets through the addon) with async wait and with waitSync.
// Both ends are demi processes on catnap, in the same mode.
import { join } from 'node:path';
import { pingPong } from '../lib/children.mjs';
import { countArgs, SIZES } from '../lib/sizes.mjs';

const lib = new URL('../lib/', import.meta.url).pathname;

/** Packages the runner builds (through nx, cached) before these rows run. */
export const needs = ['@demi/core', '@demi/catnap'];

const MODES = [
  { mode: 'async', label: 'catnap async wait' },
  { mode: 'sync', label: 'catnap waitSync' },
];

export function rows() {
  return SIZES.flatMap((size) =>
    MODES.map(({ mode, label }) => ({
      id: `catnap-${mode}-${size.bytes}`,
      group: size.group,
      label,
      run: (ctx) =>
        pingPong(
          ctx,
          {
            command: process.execPath,
            args: [join(lib, 'demi-server.mjs'), '--libos', 'catnap', '--mode', mode],
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
          },
        ),
    })),
  );
}
