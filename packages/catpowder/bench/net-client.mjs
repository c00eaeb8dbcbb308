#!/usr/bin/env node
// node:net client for the veth benchmarks, run in the dev namespace:
//   --address A --port P [--size N --warmup N --iterations N] --out F   ping-pong
//   --address A --port P --bulk BYTES                                  bulk; prints {"mbps": n}
import { connect } from 'node:net';
import {
  clientArgs,
  progress,
  progressStep,
  writeSamples,
} from '../../../benchmarks/lib/client-io.mjs';

const args = clientArgs({
  address: { type: 'string' },
  port: { type: 'string' },
  bulk: { type: 'string' },
});
const socket = connect({ host: args.address, port: Number(args.port) });
socket.setNoDelay(true);
socket.on('error', (err) => {
  console.error(String(err));
  process.exit(1);
});

if (args.bulk !== undefined) {
  const total = Number(args.bulk);
  const chunk = Buffer.alloc(1 << 20, 0x62);
  socket.on('connect', async () => {
    const start = performance.now();
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(BigInt(total));
    socket.write(header);
    for (let sent = 0; sent < total; sent += chunk.length) {
      const piece = total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk;
      if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.once('data', () => {
      const ms = performance.now() - start;
      console.log(JSON.stringify({ mbps: (total * 8) / ms / 1000, ms }));
      socket.end();
    });
  });
} else {
  const message = Buffer.alloc(args.size, 0x61);
  const total = args.warmup + args.iterations;
  const samples = new Float64Array(args.iterations);
  const step = progressStep(args.iterations);
  let i = 0;
  let need = 0;
  let start = 0;
  const next = () => {
    start = performance.now();
    need = args.size;
    socket.write(message);
  };
  socket.on('connect', next);
  socket.on('data', (chunk) => {
    need -= chunk.byteLength;
    if (need > 0) return;
    const rtt = (performance.now() - start) * 1e6;
    if (i >= args.warmup) {
      const k = i - args.warmup;
      samples[k] = rtt;
      if (k % step === 0) progress(k / args.iterations);
    }
    if (++i < total) return next();
    writeSamples(args.out, samples);
    socket.end();
  });
}
