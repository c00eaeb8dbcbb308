#!/usr/bin/env node
// Bulk transfer on any demi LibOS with TCP, the protocol of net-bulk.mjs.
//   demi-bulk.mjs server --libos L --mode async|sync
//       prints `ready <port>`; per connection (one after another): pops an 8-byte
//       length, pops that many bytes, pushes 1 byte, waits for EOF
//   demi-bulk.mjs client --libos L --mode async|sync [--address A] --port P --bytes N --runs R
//       R transfers of N bytes in --chunk pushes (64 KiB; up to --depth in flight),
//       one connection each; prints {"runsMbps": [...]}
import { parseArgs } from 'node:util';
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
import { progress } from './client-io.mjs';

const { values: args, positionals } = parseArgs({
  options: {
    libos: { type: 'string', default: 'catnap' },
    mode: { type: 'string', default: 'async' },
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    bytes: { type: 'string', default: String(64 << 20) },
    runs: { type: 'string', default: '1' },
    chunk: { type: 'string', default: '65536' },
    depth: { type: 'string', default: '16' },
  },
  allowPositionals: true,
});
const libos = await init({ libos: args.libos });
const wait = args.mode === 'sync' ? (qt) => libos.waitSync(qt) : (qt) => libos.wait(qt);

function check(result, opcode, what) {
  if (result.opcode !== opcode) throw new Error(`${what} failed: errno ${result.ret}`);
  return result;
}

if (positionals[0] === 'server') {
  // SIGTERM ends the server cleanly: LibOSes on shared memory remove their segments.
  process.on('SIGTERM', () => libos.shutdown().finally(() => process.exit(0)));
  const listener = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(listener, { address: args.address, port: 0 });
  libos.listen(listener, 16);
  console.log(`ready ${libos.getsockname(listener).port}`);
  for (;;) {
    const accepted = await libos.wait(libos.accept(listener));
    if (accepted.opcode !== Opcode.ACCEPT) break;
    const qd = accepted.accepted.qd;
    let expected = -1;
    let got = 0;
    const header = [];
    for (;;) {
      const popped = await wait(libos.pop(qd));
      if (popped.opcode !== Opcode.POP) break;
      const n = popped.sga.segments.reduce((s, seg) => s + seg.byteLength, 0);
      if (n === 0) break; // EOF
      if (expected < 0) {
        header.push(...popped.sga.segments.map((seg) => Buffer.from(seg)));
        const all = Buffer.concat(header);
        if (all.byteLength < 8) continue;
        expected = Number(all.readBigUInt64BE(0));
        got = all.byteLength - 8;
      } else got += n;
      // Counted: the memory goes back to the LibOS, which may fill it on a later pop.
      libos.sgafree(popped.sga);
      if (got >= expected && expected >= 0) {
        await wait(libos.push(qd, { segments: [Uint8Array.of(1)] }));
        expected = Number.POSITIVE_INFINITY; // answered; wait for EOF
      }
    }
    await libos.wait(libos.asyncClose(qd));
  }
} else {
  const total = Number(args.bytes);
  const chunk = new Uint8Array(Number(args.chunk)).fill(0x62);
  const depth = Number(args.depth);
  const runs = Number(args.runs);
  const runsMbps = [];
  for (let run = 0; run < runs; run++) {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    check(
      await libos.wait(libos.connect(qd, { address: args.address, port: Number(args.port) })),
      Opcode.CONNECT,
      'connect',
    );
    const start = performance.now();
    const header = new Uint8Array(8);
    new DataView(header.buffer).setBigUint64(0, BigInt(total));
    const inflight = [libos.push(qd, { segments: [header] })];
    for (let sent = 0; sent < total; sent += chunk.byteLength) {
      const n = Math.min(chunk.byteLength, total - sent);
      inflight.push(
        libos.push(qd, { segments: [n === chunk.byteLength ? chunk : chunk.subarray(0, n)] }),
      );
      if (inflight.length >= depth) check(await wait(inflight.shift()), Opcode.PUSH, 'push');
    }
    for (const qt of inflight) check(await wait(qt), Opcode.PUSH, 'push');
    check(await wait(libos.pop(qd, 1)), Opcode.POP, 'answer pop');
    const ms = performance.now() - start;
    runsMbps.push((total * 8) / ms / 1000);
    await libos.wait(libos.asyncClose(qd));
    progress((run + 1) / runs);
  }
  console.log(JSON.stringify({ runsMbps }));
  // DEMI_BULK_STATS=1: the stack's counters (LibOSes with a TCP/IP stack) on stderr.
  if (process.env.DEMI_BULK_STATS === '1') console.error(JSON.stringify(libos.stats));
  await libos.shutdown();
}
