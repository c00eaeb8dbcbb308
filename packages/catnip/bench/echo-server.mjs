#!/usr/bin/env node
// Echo server for catnip's memif ping-pong rows (the protocol of
// benchmarks/lib/demi-server.mjs): `echo-server.mjs --mode async|sync --address A`
// binds port 0, prints `ready <port>`, echoes one connection until EOF. Unlike
// a kernel socket, a user-level stack stops answering when its process exits,
// so it closes the connection properly (FIN both ways) before it shuts down:
// over memif a frame still in the ring when the peer goes away is lost.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'async' },
    address: { type: 'string' },
  },
});
const libos = await init({ libos: 'catnip' });
const wait = args.mode === 'sync' ? (qt) => libos.waitSync(qt) : (qt) => libos.wait(qt);
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: args.address, port: 0 });
libos.listen(listener, 4);
console.log(`ready ${libos.getsockname(listener).port}`);
const accepted = await libos.wait(libos.accept(listener));
const qd = accepted.accepted.qd;
for (;;) {
  const popped = await wait(libos.pop(qd));
  if (popped.opcode !== Opcode.POP || popped.sga.segments.every((s) => s.byteLength === 0)) break;
  await wait(libos.push(qd, popped.sga));
}
await libos.wait(libos.asyncClose(qd), 5000).catch(() => {});
await libos.shutdown();
