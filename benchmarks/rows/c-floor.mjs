// The floor: blocking TCP sockets from C (c/tcp-pingpong.c, built on the fly).

import { buildC } from '../lib/cc.mjs';
import { pingPong } from '../lib/children.mjs';
import { countArgs, SIZES } from '../lib/sizes.mjs';

export function rows() {
  return SIZES.map((size) => ({
    id: `c-tcp-${size.bytes}`,
    group: size.group,
    label: 'C blocking TCP (floor)',
    role: 'floor',
    run: (ctx) => {
      const built = buildC('tcp-pingpong');
      if (built.skip) return { skip: built.skip };
      return pingPong(
        ctx,
        { command: built.binary, args: ['server'] },
        {
          command: built.binary,
          args: (port) => ['client', '--port', port, ...countArgs(ctx, size)],
        },
      );
    },
  }));
}
