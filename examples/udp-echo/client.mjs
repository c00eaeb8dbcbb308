#!/usr/bin/env node
// UDP echo client: node examples/udp-echo/client.mjs --port 7001 --count 10 --size 64
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_DGRAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7001' },
    count: { type: 'string', default: '10' },
    size: { type: 'string', default: '64' },
    timeout: { type: 'string', default: '2000' }, // ms to wait for each reply (UDP may drop)
  },
});

const libos = await init();
const qd = libos.socket(AF_INET, SOCK_DGRAM);
const server = { address: args.address, port: Number(args.port) };
const size = Number(args.size);
let echoed = 0;
for (let i = 0; i < Number(args.count); i++) {
  const message = new Uint8Array(size).fill(i & 0xff);
  await libos.wait(libos.pushto(qd, { segments: [message] }, server));
  const popped = await libos.wait(libos.pop(qd), Number(args.timeout));
  const data = popped.sga?.segments[0];
  if (
    popped.opcode !== Opcode.POP ||
    data.byteLength !== size ||
    data.some((b) => b !== (i & 0xff))
  ) {
    throw new Error(`datagram ${i} came back wrong`);
  }
  echoed++;
}
console.log(
  `echoed ${echoed} datagrams of ${size} bytes from ${server.address}:${server.port} (libos ${libos.name})`,
);
libos.close(qd);
await libos.shutdown();
