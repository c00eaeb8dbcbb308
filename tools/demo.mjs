#!/usr/bin/env node
// `npm run demo`: builds what it needs (nx, cached), then runs an echo
// ping-pong on the default LibOS in this process and prints round-trip
// latency for 64 B and 1 KiB messages, with async wait and with waitSync.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tty = Boolean(process.stderr.isTTY);
const CELL_MS = 1500; // measuring time per table row
const WARMUP = 1000;

function status(line) {
  if (tty) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

// ---- build ------------------------------------------------------------------
status('building @demi/core and @demi/catnap (nx caches: fast after the first run) ...');
const build = spawnSync(
  join(root, 'node_modules/.bin/nx'),
  ['run-many', '-t', 'build', '--projects=@demi/core,@demi/catnap', '--outputStyle=static'],
  { cwd: root, encoding: 'utf8' },
);
if (build.status !== 0) {
  if (tty) process.stderr.write('\n');
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}\n`);
  console.error(
    build.error
      ? `cannot run nx: ${build.error.message}; run \`npm ci\` first`
      : 'build failed (output above)',
  );
  process.exit(1);
}

const { AF_INET, init, Opcode, SOCK_STREAM } = await import('@demi/core');

// ---- the ping-pong ------------------------------------------------------------
const libos = await init(); // no DEMI_LIBOS: the default LibOS, catnap (kernel sockets)
const listener = libos.socket(AF_INET, SOCK_STREAM);
libos.bind(listener, { address: '127.0.0.1', port: 0 });
libos.listen(listener, 4);
const { port } = libos.getsockname(listener);

async function connection() {
  const accepting = libos.wait(libos.accept(listener));
  const client = libos.socket(AF_INET, SOCK_STREAM);
  const connected = await libos.wait(libos.connect(client, { address: '127.0.0.1', port }));
  if (connected.opcode !== Opcode.CONNECT)
    throw new Error(`connect failed: errno ${connected.ret}`);
  return { client, server: (await accepting).accepted.qd };
}

const len = (r) => r.sga.segments[0].byteLength;

/** Runs until `CELL_MS` of measuring; calls back with progress. Returns RTT samples in µs. */
async function measure(mode, size, onProgress) {
  const { client, server } = await connection();
  const sga = { segments: [new Uint8Array(size).fill(0x2a)] };
  const samples = [];
  let deadline = Number.POSITIVE_INFINITY;
  let measuring = false;
  const started = performance.now();
  const tick = (i) => {
    if (i === WARMUP) {
      measuring = true;
      deadline = performance.now() + CELL_MS;
    }
    if (measuring && (i & 255) === 0)
      onProgress(Math.min(1, 1 - (deadline - performance.now()) / CELL_MS));
  };
  if (mode === 'waitSync') {
    // Both ends in this thread, in turn: push, the echo's pop and push, the client's pop.
    for (let i = 0; performance.now() < deadline; i++) {
      tick(i);
      const t0 = performance.now();
      libos.waitSync(libos.push(client, sga));
      for (let got = 0; got < size; ) {
        const popped = libos.waitSync(libos.pop(server));
        got += len(popped);
        libos.waitSync(libos.push(server, popped.sga));
      }
      for (let got = 0; got < size; ) got += len(libos.waitSync(libos.pop(client)));
      if (measuring) samples.push((performance.now() - t0) * 1000);
    }
  } else {
    // An echo task serves while the client awaits each answer: two tasks, one event loop.
    const echo = (async () => {
      for (;;) {
        const popped = await libos.wait(libos.pop(server));
        if (popped.opcode !== Opcode.POP || len(popped) === 0) return;
        await libos.wait(libos.push(server, popped.sga));
      }
    })();
    for (let i = 0; performance.now() < deadline; i++) {
      tick(i);
      const t0 = performance.now();
      await libos.wait(libos.push(client, sga));
      for (let got = 0; got < size; ) got += len(await libos.wait(libos.pop(client)));
      if (measuring) samples.push((performance.now() - t0) * 1000);
      if (performance.now() - started > 30_000) break; // a very slow machine still finishes
    }
    libos.close(client);
    await echo;
  }
  libos.close(server);
  if (mode === 'waitSync') libos.close(client);
  return samples;
}

const cells = [
  { mode: 'async wait', size: 64 },
  { mode: 'async wait', size: 1024 },
  { mode: 'waitSync', size: 64 },
  { mode: 'waitSync', size: 1024 },
];
const rows = [];
for (const [index, cell] of cells.entries()) {
  const label = `${cell.mode}, ${cell.size === 64 ? '64 B' : '1 KiB'}`;
  let lastPlain = -1;
  let lastDraw = 0;
  const onProgress = (f) => {
    const overall = (index + f) / cells.length;
    if (tty) {
      const now = performance.now();
      if (now - lastDraw < 100) return; // redraw ten times a second at most
      lastDraw = now;
      const bar = '█'.repeat(Math.round(overall * 20)).padEnd(20, '░');
      status(`${bar} ${String(Math.round(overall * 100)).padStart(3)}%  ${label}`);
    } else if (Math.floor(f * 2) > lastPlain) {
      lastPlain = Math.floor(f * 2);
      status(`[${index + 1}/${cells.length}] ${label}: ${lastPlain * 50}%`);
    }
  };
  onProgress(0);
  const samples = (
    await measure(cell.mode === 'waitSync' ? 'waitSync' : 'async', cell.size, onProgress)
  ).sort((a, b) => a - b);
  const pick = (p) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  rows.push([
    cell.mode,
    cell.size === 64 ? '64 B' : '1 KiB',
    pick(0.5).toFixed(1),
    pick(0.99).toFixed(1),
    Math.round(1e6 / mean).toLocaleString('en-US'),
    samples.length.toLocaleString('en-US'),
  ]);
}
libos.close(listener);
await libos.shutdown();
if (tty) process.stderr.write('\r\x1b[2K');

const header = ['wait', 'message', 'p50 µs', 'p99 µs', 'messages/s', 'round trips'];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells) =>
  cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
console.log(
  `\ndemi echo ping-pong on LibOS '${libos.name}', 127.0.0.1, client and echo server in this process`,
);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(
  '\nmessages/s: echoed messages per second, one at a time (a message waits for its echo).',
);
console.log('Across processes, against node:net and a C floor: npm run bench');
