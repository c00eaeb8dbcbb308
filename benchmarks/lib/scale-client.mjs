#!/usr/bin/env node
// Connection-scaling load: --clients connections to an echo server, each a
// closed loop of --size-byte messages (send, wait for the echo, send again).
// Counts echoes completed between `mark start` and `mark end` (printed on
// stderr, so the parent can sample the server there) and prints
// {"messages": n, "seconds": s, "clients": c}.
//   scale-client.mjs --libos net    --port P ...   node:net sockets
//   scale-client.mjs --libos catnap --port P ...   sockets of that demi LibOS,
//                                                 every completion via waitNextN
// --idle opens the connections and sends nothing: `mark start` once all are
// open, `mark end` --measure-ms later, then it closes them.
// Connections open in batches of --batch, each batch once the previous one has
// connected, so the server's accept queue never overflows; a batch that does
// not connect within --connect-timeout-ms ends the run with an error that says
// how many are open.
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
    batch: { type: 'string', default: '64' },
    'connect-timeout-ms': { type: 'string', default: '20000' },
    idle: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const size = Number(values.size);
const warmupMs = Number(values['warmup-ms']);
const measureMs = Number(values['measure-ms']);
const port = Number(values.port);
const batchSize = Number(values.batch);
const connectTimeoutMs = Number(values['connect-timeout-ms']);
const idle = values.idle;

let counting = false;
let messages = 0;
let startedAt = 0;
let stopped = false;
// Connecting is the first half of the progress bar; the measurement the second.
const progress = (fraction) => writeSync(2, `progress ${fraction.toFixed(3)}\n`);
function schedule(onEnd) {
  setTimeout(
    () => {
      writeSync(2, 'mark start\n');
      counting = true;
      startedAt = performance.now();
      setTimeout(() => {
        const seconds = (performance.now() - startedAt) / 1000;
        counting = false;
        stopped = true;
        writeSync(2, 'mark end\n');
        progress(1);
        console.log(JSON.stringify({ messages, seconds, clients }));
        onEnd();
      }, measureMs);
    },
    idle ? 0 : warmupMs,
  );
}

/** Opens `clients` connections through `open(i)` (a promise per connection), in batches. */
async function openAll(open) {
  let opened = 0;
  const started = performance.now();
  let lastReport = 0;
  for (let i = 0; i < clients; i += batchSize) {
    const batch = [];
    for (let j = i; j < Math.min(clients, i + batchSize); j++) batch.push(open(j));
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `only ${opened} of ${clients} connections open: a batch of ${batch.length} did not connect within ${connectTimeoutMs} ms`,
            ),
          ),
        connectTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(batch), timeout]);
    } finally {
      clearTimeout(timer);
    }
    opened += batch.length;
    const now = performance.now();
    if (now - lastReport > 250 || opened === clients) {
      lastReport = now;
      progress((0.5 * opened) / clients);
    }
  }
  return performance.now() - started;
}

// Run before exiting on a failure: LibOSes on shared memory remove their segments.
let cleanUp = async () => {};
async function fail(err) {
  console.error(String(err?.message ?? err));
  await cleanUp().catch(() => {});
  process.exit(1);
}
// The runner stops a stalled client with SIGTERM: clean up on the way out.
process.on('SIGTERM', () => fail(new Error('stopped (SIGTERM)')));

/**
 * Returns a function to call at each connection's first echo; the last call
 * starts the warm-up (schedule(onEnd)). The server may still be accepting when
 * every connect has completed, so the warm-up waits until it has answered them
 * all; a server that has not within the connect timeout fails the run.
 */
function whenAllEchoed(onEnd) {
  let echoed = 0;
  const timer = setTimeout(
    () =>
      fail(
        new Error(
          `only ${echoed} of ${clients} connections had an echo within ${connectTimeoutMs} ms`,
        ),
      ),
    connectTimeoutMs,
  );
  return () => {
    if (++echoed !== clients) return;
    clearTimeout(timer);
    schedule(onEnd);
  };
}

if (values.libos === 'net') {
  const message = Buffer.alloc(size, 0x61);
  const sockets = [];
  await openAll(() => {
    const socket = connect({ host: values.address, port });
    socket.setNoDelay(true);
    socket.on('error', (err) => {
      if (!stopped) fail(err);
    });
    sockets.push(socket);
    return new Promise((resolve) => socket.once('connect', resolve));
  }).catch(fail);
  const end = () => {
    for (const s of sockets) s.destroy();
  };
  if (idle) schedule(end);
  else {
    const firstEcho = whenAllEchoed(end);
    for (const socket of sockets) {
      let need = size;
      let first = true;
      socket.on('data', (chunk) => {
        need -= chunk.byteLength;
        if (need > 0) return;
        if (counting) messages++;
        if (first) {
          first = false;
          firstEcho();
        }
        need = size;
        if (!stopped) socket.write(message);
      });
      socket.write(message);
    }
  }
} else {
  const { AF_INET, init, Opcode, SOCK_STREAM } = await import('@demi/core');
  const libos = await init({ libos: values.libos });
  const sga = { segments: [new Uint8Array(size).fill(0x61)] };
  const qds = [];
  cleanUp = async () => {
    for (const qd of qds) {
      try {
        libos.close(qd);
      } catch {}
    }
    await libos.shutdown();
  };
  await openAll(async () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    qds.push(qd);
    const r = await libos.wait(libos.connect(qd, { address: values.address, port }));
    if (r.opcode !== Opcode.CONNECT) throw new Error(`connect failed: errno ${r.ret}`);
  }).catch(fail);
  if (idle) {
    await new Promise((resolve) => schedule(resolve));
  } else {
    const need = new Map();
    for (const qd of qds) {
      need.set(qd, size);
      libos.push(qd, sga);
      libos.pop(qd);
    }
    const firstEcho = whenAllEchoed(() => {});
    let echoedOnce = new Set();
    while (!stopped) {
      // No timeout here: the parent kills a client that stops making progress.
      const results = await libos.waitNextN(256);
      for (const r of results) {
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
          if (echoedOnce !== undefined && !echoedOnce.has(r.qd)) {
            echoedOnce.add(r.qd);
            if (echoedOnce.size === clients) echoedOnce = undefined;
            firstEcho();
          }
          need.set(r.qd, size);
          libos.push(r.qd, sga);
        }
        libos.pop(r.qd);
      }
    }
  }
  // Close cleanly: LibOSes on shared memory remove their segments.
  for (const qd of qds) libos.close(qd);
  await libos.shutdown();
  process.exit(0);
}
