#!/usr/bin/env node
// TCP echo client on any LibOS: node examples/tcp-echo/client.mjs --port 7000 --count 10 --size 64
// Sends --count messages of --size bytes one at a time, checks each echo, prints round-trip times.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7000' },
    count: { type: 'string', default: '10' },
    size: { type: 'string', default: '64' },
  },
});

const libos = await init();
const qd = libos.socket(AF_INET, SOCK_STREAM);
const connected = await libos.wait(
  libos.connect(qd, { address: args.address, port: Number(args.port) }),
);
if (connected.opcode !== Opcode.CONNECT) {
  console.error(`connect to ${args.address}:${args.port} failed: errno ${connected.ret}`);
  process.exit(1);
}

const size = Number(args.size);
const message = new Uint8Array(size);
const rtts = [];
for (let i = 0; i < Number(args.count); i++) {
  message.fill(i & 0xff);
  const start = process.hrtime.bigint();
  await libos.wait(libos.push(qd, { segments: [message] }));
  let got = 0;
  while (got < size) {
    const popped = await libos.wait(libos.pop(qd));
    const data = popped.sga?.segments[0];
    if (popped.opcode !== Opcode.POP || data.byteLength === 0)
      throw new Error('server closed early');
    if (data.some((b) => b !== (i & 0xff))) throw new Error(`message ${i} came back changed`);
    got += data.byteLength;
  }
  rtts.push(Number(process.hrtime.bigint() - start) / 1000);
}
await libos.wait(libos.asyncClose(qd));
rtts.sort((a, b) => a - b);
console.log(
  `echoed ${rtts.length} messages of ${size} bytes (libos ${libos.name}); ` +
    `round trip median ${rtts[rtts.length >> 1].toFixed(1)} us, max ${rtts[rtts.length - 1].toFixed(1)} us`,
);
await libos.shutdown();
