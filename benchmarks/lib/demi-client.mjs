#!/usr/bin/env node
// Ping-pong client for demi rows, on any LibOS with TCP:
// `demi-client.mjs --libos catnap --mode async|sync --port N [--address A]`.
import { AF_INET, init, Opcode, SOCK_STREAM } from '@demi/core';
import { clientArgs, progress, progressStep, writeSamples } from './client-io.mjs';

const args = clientArgs({
  libos: { type: 'string', default: 'catnap' },
  mode: { type: 'string', default: 'async' },
  address: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string' },
});
const libos = await init({ libos: args.libos });
const qd = libos.socket(AF_INET, SOCK_STREAM);
const connected = await libos.wait(
  libos.connect(qd, { address: args.address, port: Number(args.port) }),
);
if (connected.opcode !== Opcode.CONNECT) throw new Error(`connect failed: errno ${connected.ret}`);

const sga = { segments: [new Uint8Array(args.size).fill(0x61)] };
const total = args.warmup + args.iterations;
const samples = new Float64Array(args.iterations);
const step = progressStep(args.iterations);

function record(i, start) {
  if (i < args.warmup) return;
  const k = i - args.warmup;
  samples[k] = (performance.now() - start) * 1e6;
  if (k % step === 0) progress(k / args.iterations);
}

if (args.mode === 'sync') {
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    libos.waitSync(libos.push(qd, sga));
    for (let got = 0; got < args.size; )
      got += libos.waitSync(libos.pop(qd)).sga.segments[0].byteLength;
    record(i, start);
  }
} else {
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    await libos.wait(libos.push(qd, sga));
    for (let got = 0; got < args.size; )
      got += (await libos.wait(libos.pop(qd))).sga.segments[0].byteLength;
    record(i, start);
  }
}
writeSamples(args.out, samples);
await libos.wait(libos.asyncClose(qd));
await libos.shutdown();
