#!/usr/bin/env node
// TCP echo server on any LibOS: DEMI_LIBOS=catnap node examples/tcp-echo/server.mjs --port 7000
// Serves connections concurrently; with --connections N it exits after N of them.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7000' },
    connections: { type: 'string', default: '0' }, // 0: serve forever
  },
});

const libos = await init();
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: args.address, port: Number(args.port) });
libos.listen(listener, 128);
const { address, port } = libos.getsockname(listener);
console.log(`listening on ${address}:${port} (libos ${libos.name})`);

async function serve(qd, peer) {
  let bytes = 0;
  for (;;) {
    const popped = await libos.wait(libos.pop(qd));
    if (popped.opcode !== Opcode.POP || popped.sga.segments[0].byteLength === 0) break; // error or EOF
    bytes += popped.sga.segments[0].byteLength;
    const pushed = await libos.wait(libos.push(qd, popped.sga));
    if (pushed.opcode !== Opcode.PUSH) break;
  }
  libos.close(qd);
  console.log(`${peer.address}:${peer.port} done, echoed ${bytes} bytes`);
}

const limit = Number(args.connections);
const sessions = [];
for (let served = 0; limit === 0 || served < limit; served++) {
  const accepted = await libos.wait(libos.accept(listener));
  if (accepted.opcode !== Opcode.ACCEPT) {
    console.error(`accept failed: errno ${accepted.ret}`);
    continue;
  }
  sessions.push(serve(accepted.accepted.qd, accepted.accepted.addr));
}
await Promise.all(sessions);
libos.close(listener);
await libos.shutdown();
