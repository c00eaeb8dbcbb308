#!/usr/bin/env node
// Bulk sender on any demi LibOS (configured by environment, e.g. catpowder):
//   --address A --port P --bulk BYTES   sends an 8-byte length, then BYTES,
//   waits for the one-byte answer, prints {"mbps": n}.
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
import { clientArgs } from '../../../benchmarks/lib/client-io.mjs';

const args = clientArgs({
  libos: { type: 'string', default: 'catpowder' },
  address: { type: 'string' },
  port: { type: 'string' },
  bulk: { type: 'string' },
});
const libos = await init({ libos: args.libos });
const qd = libos.socket(AF_INET, SOCK_STREAM);
const connected = await libos.wait(
  libos.connect(qd, { address: args.address, port: Number(args.port) }),
  20_000,
);
if (connected.opcode !== Opcode.CONNECT) throw new Error(`connect failed: errno ${connected.ret}`);
const total = Number(args.bulk);
const chunk = new Uint8Array(256 * 1024).fill(0x62);
const start = performance.now();
const header = new Uint8Array(8);
new DataView(header.buffer).setBigUint64(0, BigInt(total));
const inflight = [libos.push(qd, { segments: [header] })];
for (let sent = 0; sent < total; sent += chunk.length) {
  inflight.push(
    libos.push(qd, {
      segments: [total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk],
    }),
  );
  if (inflight.length >= 16) {
    const r = await libos.wait(inflight.shift(), 60_000);
    if (r.opcode !== Opcode.PUSH) throw new Error(`push failed: errno ${r.ret}`);
  }
}
for (const qt of inflight) await libos.wait(qt, 60_000);
const answer = await libos.wait(libos.pop(qd, 1), 60_000);
if (answer.opcode !== Opcode.POP) throw new Error(`no answer: errno ${answer.ret}`);
const ms = performance.now() - start;
console.log(JSON.stringify({ mbps: (total * 8) / ms / 1000, ms }));
// DEMI_BULK_STATS=1: the stack's counters on stderr, to see where a run lost time.
if (process.env.DEMI_BULK_STATS === '1') console.error(JSON.stringify(libos.stats));
libos.close(qd);
await libos.shutdown();
