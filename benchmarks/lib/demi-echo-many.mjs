#!/usr/bin/env node
// Echo server for many connections on any demi LibOS with TCP, in the Demikernel
// style: one pop outstanding per connection, every completion taken by
// waitNextN, nothing per connection but its queue descriptor.
// `demi-echo-many.mjs --libos L [--address A]`: binds port 0, prints `ready <port>`.
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
import { reportMemoryOnSignal } from './server-memory.mjs';

const { values: args } = parseArgs({
  options: {
    libos: { type: 'string', default: 'catnap' },
    address: { type: 'string', default: '127.0.0.1' },
  },
});
const libos = await init({ libos: args.libos });
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: args.address, port: 0 });
libos.listen(listener, 1024);
const open = new Set();
reportMemoryOnSignal(() => open.size);
console.log(`ready ${libos.getsockname(listener).port}`);
libos.accept(listener);
const close = (qd) => {
  // Closing fails the connection's pending pop; that FAILED result is ignored.
  if (open.delete(qd)) libos.close(qd);
};
// SIGTERM ends the server cleanly: LibOSes on shared memory remove their segments.
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
while (!stopping) {
  let results;
  try {
    results = await libos.waitNextN(256, 100);
  } catch (err) {
    if (err?.code === 'ETIMEDOUT') continue;
    throw err;
  }
  for (const r of results) {
    if (r.opcode === Opcode.ACCEPT) {
      open.add(r.accepted.qd);
      libos.pop(r.accepted.qd);
      libos.accept(listener);
    } else if (r.opcode === Opcode.POP) {
      if (r.sga.segments.every((s) => s.byteLength === 0)) close(r.qd);
      else {
        libos.push(r.qd, r.sga);
        libos.pop(r.qd);
      }
    } else if (r.opcode === Opcode.FAILED && r.qd !== listener) {
      close(r.qd);
    }
    // PUSH completions need nothing.
  }
}
for (const qd of open) libos.close(qd);
libos.close(listener);
await libos.shutdown();
process.exit(0);
