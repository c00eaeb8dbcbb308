#!/usr/bin/env node
// node:net ping-pong client: writes --size bytes, waits until all come back, repeats.
// `net-client.mjs [--address A] --port N` (TCP, 127.0.0.1 unless --address) or `--path P` (Unix socket).
import { connect } from 'node:net';
import { clientArgs, progress, progressStep, writeSamples } from './client-io.mjs';

const args = clientArgs({
  address: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string' },
  path: { type: 'string' },
});
const socket = args.path
  ? connect(args.path)
  : connect({ host: args.address, port: Number(args.port) });
socket.setNoDelay(true);
const message = Buffer.alloc(args.size, 0x61);
const total = args.warmup + args.iterations;
const samples = new Float64Array(args.iterations);
const step = progressStep(args.iterations);
let i = 0;
let need = 0;
let start = 0;

function next() {
  start = performance.now();
  need = args.size;
  socket.write(message);
}

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
socket.on('error', (err) => {
  console.error(String(err));
  process.exit(1);
});
