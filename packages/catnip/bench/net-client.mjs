#!/usr/bin/env node
// node:net clients for catnip's veth baselines, against benchmarks/lib/net-peer.mjs:
//   net-client.mjs --address A --port P [--size 64 --warmup N --iterations N] --out F
//       ping-pong; writes round-trip samples (ns, float64) to F
//   net-client.mjs --address A --port P --bulk BYTES
//       one transfer: 8-byte length, BYTES, one-byte answer; prints {"mbps": n}
import { writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    address: { type: 'string' },
    port: { type: 'string' },
    size: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '10000' },
    out: { type: 'string' },
    bulk: { type: 'string' },
  },
});
const socket = connect({ host: a.address, port: Number(a.port) });
socket.setNoDelay(true);

if (a.bulk !== undefined) {
  const total = Number(a.bulk);
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  let start = 0;
  socket.on('connect', async () => {
    start = performance.now();
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(BigInt(total));
    socket.write(header);
    for (let sent = 0; sent < total; sent += chunk.length) {
      const piece = total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk;
      if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r));
    }
  });
  socket.once('data', () => {
    const ms = performance.now() - start;
    console.log(JSON.stringify({ mbps: (total * 8) / ms / 1000 }));
    socket.end();
  });
} else {
  const size = Number(a.size);
  const warmup = Number(a.warmup);
  const iterations = Number(a.iterations);
  const message = Buffer.alloc(size, 0x61);
  const samples = new Float64Array(iterations);
  const step = Math.max(1, Math.floor(iterations / 20));
  let i = 0;
  let need = 0;
  let start = 0;
  const next = () => {
    start = performance.now();
    need = size;
    socket.write(message);
  };
  socket.on('connect', next);
  socket.on('data', (chunk) => {
    need -= chunk.byteLength;
    if (need > 0) return;
    if (i >= warmup) {
      samples[i - warmup] = (performance.now() - start) * 1e6;
      if ((i - warmup) % step === 0)
        writeSync(2, `progress ${((i - warmup) / iterations).toFixed(3)}\n`);
    }
    if (++i < warmup + iterations) next();
    else {
      writeFileSync(a.out, Buffer.from(samples.buffer));
      socket.end();
    }
  });
}
