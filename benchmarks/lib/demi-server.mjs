#!/usr/bin/env node
// Echo server for demi ping-pong rows, on any LibOS with TCP:
// `demi-server.mjs --libos catnap --mode async|sync [--address A]`. Binds port 0,
// prints `ready <port>`, echoes one connection until EOF.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    libos: { type: 'string', default: 'catnap' },
    mode: { type: 'string', default: 'async' },
    address: { type: 'string', default: '127.0.0.1' },
  },
});
const libos = await init({ libos: args.libos });
const sync = args.mode === 'sync';
const wait = sync ? (qt) => libos.waitSync(qt) : (qt) => libos.wait(qt);
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: args.address, port: 0 });
libos.listen(listener, 4);
console.log(`ready ${libos.getsockname(listener).port}`);
const accepted = await libos.wait(libos.accept(listener));
const qd = accepted.accepted.qd;
for (;;) {
  const popped = await wait(libos.pop(qd));
  if (popped.opcode !== Opcode.POP || popped.sga.segments[0].byteLength === 0) break;
  await wait(libos.push(qd, popped.sga));
}
await libos.shutdown();
