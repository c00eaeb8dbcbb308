// The baseline: node:net over TCP (both ends in their own process), and over a
// Unix socket for comparison.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingPong } from '../lib/children.mjs';
import { countArgs, SIZES } from '../lib/sizes.mjs';

const lib = new URL('../lib/', import.meta.url).pathname;

export function rows() {
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
