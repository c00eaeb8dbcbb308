#!/usr/bin/env node
// UDP echo server on any LibOS with UDP: node examples/udp-echo/server.mjs --port 7001
// Sends every datagram back to its sender; with --datagrams N it exits after N.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_DGRAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7001' },
    datagrams: { type: 'string', default: '0' }, // 0: serve forever
  },
});

const libos = await init();
const qd = libos.socket(AF_INET, SOCK_DGRAM);
libos.bind(qd, { address: args.address, port: Number(args.port) });
const { address, port } = libos.getsockname(qd);
console.log(`listening on ${address}:${port} (libos ${libos.name})`);

const limit = Number(args.datagrams);
for (let served = 0; limit === 0 || served < limit; served++) {
  const popped = await libos.wait(libos.pop(qd));
  if (popped.opcode !== Opcode.POP) {
    console.error(`pop failed: errno ${popped.ret}`);
    continue;
  }
  // popped.addr is the sender: the reply goes straight back to it.
  await libos.wait(libos.pushto(qd, popped.sga, popped.addr));
}
console.log(`echoed ${limit} datagrams`);
libos.close(qd);
await libos.shutdown();
