#!/usr/bin/env node
// Connection-scaling load: --clients connections to an echo server, each a
// closed loop of --size-byte messages (send, wait for the echo, send again).
// Counts echoes completed between `mark start` and `mark end` (printed on
// stderr, so the parent can sample the server there) and prints
// {"messages": n, "seconds": s, "clients": c}.
//   scale-client.mjs --libos net    --port P ...   node:net sockets
//   scale-client.mjs --libos catnap --port P ...   sockets of that demi LibOS,
//                                                 every completion via waitNextN
import { writeSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    libos: { type: 'string', default: 'net' },
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    clients: { type: 'string', default: '1' },
    size: { type: 'string', default: '64' },
    'warmup-ms': { type: 'string', default: '1000' },
    'measure-ms': { type: 'string', default: '4000' },
  },
});
const clients = Number(values.clients);
const size = Number(values.size);
const warmupMs = Number(values['warmup-ms']);
const measureMs = Number(values['measure-ms']);
const port = Number(values.port);

let counting = false;
let messages = 0;
let startedAt = 0;
let stopped = false;
function schedule(onEnd) {
  setTimeout(() => {
    writeSync(2, 'mark start\n');
    counting = true;
    startedAt = performance.now();
    setTimeout(() => {
      const seconds = (performance.now() - startedAt) / 1000;
      counting = false;
      stopped = true;
      writeSync(2, 'mark end\n');
      writeSync(2, 'progress 1\n');
      console.log(JSON.stringify({ messages, seconds, clients }));
      onEnd();
    }, measureMs);
  }, warmupMs);
}

if (values.libos === 'net') {
  const message = Buffer.alloc(size, 0x61);
  const sockets = [];
  // Connect in batches so the listen backlog never overflows.
  for (let i = 0; i < clients; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(clients, i + 64); j++) {
      const socket = connect({ host: values.address, port });
      socket.setNoDelay(true);
      socket.on('error', (err) => {
        if (stopped) return;
        console.error(String(err));
        process.exit(1);
      });
      sockets.push(socket);
      batch.push(new Promise((resolve) => socket.once('connect', resolve)));
    }
    await Promise.all(batch);
  }
  for (const socket of sockets) {
    let need = size;
    socket.on('data', (chunk) => {
      need -= chunk.byteLength;
      if (need > 0) return;
      if (counting) messages++;
      need = size;
      if (!stopped) socket.write(message);
    });
    socket.write(message);
  }
  schedule(() => {
    for (const s of sockets) s.destroy();
  });
} else {
  const { AF_INET, init, Opcode, SOCK_STREAM } = await import('@demi/core');
  const libos = await init({ libos: values.libos });
  const sga = { segments: [new Uint8Array(size).fill(0x61)] };
  const qds = [];
  for (let i = 0; i < clients; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(clients, i + 64); j++) {
      const qd = libos.socket(AF_INET, SOCK_STREAM);
      qds.push(qd);
      batch.push(libos.wait(libos.connect(qd, { address: values.address, port })));
    }
    for (const r of await Promise.all(batch))
      if (r.opcode !== Opcode.CONNECT) throw new Error(`connect failed: errno ${r.ret}`);
  }
  const need = new Map();
  for (const qd of qds) {
    need.set(qd, size);
    libos.push(qd, sga);
    libos.pop(qd);
  }
  schedule(() => {});
  while (!stopped) {
    for (const r of await libos.waitNextN(256)) {
      if (r.opcode === Opcode.PUSH) continue;
      if (r.opcode !== Opcode.POP)
        throw new Error(`echo failed: opcode ${r.opcode} errno ${r.ret}`);
      const got = r.sga.segments.reduce((s, seg) => s + seg.byteLength, 0);
      if (got === 0) throw new Error('server closed a connection');
      const left = need.get(r.qd) - got;
      if (left > 0) {
        need.set(r.qd, left);
      } else {
        if (counting) messages++;
        need.set(r.qd, size);
        libos.push(r.qd, sga);
      }
      libos.pop(r.qd);
    }
  }
  // Close cleanly: LibOSes on shared memory remove their segments.
  for (const qd of qds) libos.close(qd);
  await libos.shutdown();
  process.exit(0);
}
