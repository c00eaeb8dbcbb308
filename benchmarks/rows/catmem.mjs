// Benchmark rows for @demi/catmem: ping-pong round trips between two Node
// processes over a shared-memory pipe (waitSync and async wait), beside a C
// program speaking the same ring layout (c/shm-ring.c, the shared-memory floor),
// and one-way bulk transfers in 64 KiB pushes (group bulk-64k, the protocol of
// lib/demi-bulk.mjs: one pipe per run instead of one connection).
//
// As a row module (benchmarks/run.mjs): `rows(ctx)` returns the rows; run(ctx)
// uses ctx.iterations, ctx.warmup, ctx.signal and ctx.progress when given.
// Standalone:  node benchmarks/rows/catmem.mjs [--quick] [--json] [--repeat N]
//              runs the 64-byte rows plus a node:net TCP ping-pong for
//              comparison, in one run (taking turns N times), and prints
//              medians and ratios.
// The same file is the child process of every row (--child <role> ...).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIZES } from '../lib/sizes.mjs';
import { BULK, bulkCounts, bulkTransfer } from '../lib/workloads.mjs';

const SELF = fileURLToPath(import.meta.url);
const C_SOURCE = join(dirname(SELF), '..', 'c', 'shm-ring.c');
const CHILD_TIMEOUT_MS = 280_000;

/** Packages the runner builds (through nx, cached) before these rows run. */
export const needs = ['@demi/core', '@demi/catmem'];

function counts(ctx) {
  return {
    rounds: ctx.iterations ?? (ctx.quick ? 2000 : 50_000),
    warmup: ctx.warmup ?? (ctx.quick ? 200 : 5000),
  };
}

export function rows() {
  return [...rttRows(), ...bulkRows()];
}

function bulkRows() {
  return ['async', 'sync'].map((mode) => ({
    id: `catmem-${mode}-bulk`,
    group: BULK.group,
    label: mode === 'async' ? 'catmem async wait' : 'catmem waitSync',
    run: (ctx) => {
      const missing = catmemAvailable();
      if (missing) return { skip: missing };
      const { bytes, runs } = bulkCounts(ctx);
      const name = `bench-bulk-${process.pid}-${mode}-${Date.now()}`;
      return bulkTransfer(
        ctx,
        { command: process.execPath, args: [SELF, '--child', 'bulk-sink', name, mode] },
        {
          command: process.execPath,
          args: (prefix) => [
            SELF,
            '--child',
            'bulk-source',
            prefix,
            mode,
            String(bytes),
            String(runs + (runs > 1 ? 1 : 0)),
            String(BULK.chunk),
          ],
        },
      );
    },
  }));
}

function rttRows() {
  return SIZES.flatMap((size) => [
    {
      id: `catmem-c-floor-${size.bytes}`,
      group: size.group,
      label: 'shm ring in C, catmem layout (floor)',
      run: (ctx) => runC(ctx, size.bytes),
    },
    {
      id: `catmem-sync-${size.bytes}`,
      group: size.group,
      floor: `catmem-c-floor-${size.bytes}`,
      label: 'catmem waitSync, 2 processes',
      run: (ctx) => runNode(ctx, 'sync', size.bytes),
    },
    {
      id: `catmem-async-${size.bytes}`,
      group: size.group,
      floor: `catmem-c-floor-${size.bytes}`,
      label: 'catmem async wait, 2 processes',
      run: (ctx) => runNode(ctx, 'async', size.bytes),
    },
  ]);
}

// ---- rows ------------------------------------------------------------------

function buildC() {
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { skip: 'no C compiler (cc): apt-get install -y gcc' };
  const source = readFileSync(C_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'demi-bench');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `shm-ring-${hash}`);
  if (existsSync(exe)) return { exe };
  const tmp = `${exe}.${process.pid}.tmp`;
  const built = spawnSync('cc', ['-O2', '-std=c11', '-o', tmp, C_SOURCE], { encoding: 'utf8' });
  if (built.status !== 0) {
    return {
      skip: `cc failed: ${(built.stderr || built.error?.message || '').trim().split('\n')[0]}`,
    };
  }
  renameSync(tmp, exe);
  return { exe };
}

async function runC(ctx, size) {
  const built = buildC();
  if (built.skip) return { skip: built.skip };
  const { rounds, warmup } = counts(ctx);
  ctx.progress?.(0, 'C floor');
  const child = spawn(built.exe, ['bench', String(rounds), String(warmup), String(size)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = await collect(child, ctx.signal);
  ctx.progress?.(1, 'C floor');
  return { samplesNs: JSON.parse(out).samplesNs };
}

let available;
function catmemAvailable() {
  if (available !== undefined) return available;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "await import('@demi/catmem').then((m) => new m.Catmem().shutdown())",
    ],
    { cwd: dirname(SELF), encoding: 'utf8' },
  );
  available =
    r.status === 0
      ? ''
      : `@demi/catmem does not load (npm run build -w @demi/catmem): ${(r.stderr || '').trim().split('\n').pop()}`;
  return available;
}

async function runNode(ctx, mode, size) {
  const missing = catmemAvailable();
  if (missing) return { skip: missing };
  const { rounds, warmup } = counts(ctx);
  const name = `bench-${process.pid}-${mode}-${size}-${Date.now()}`;
  const pong = spawn(process.execPath, [SELF, '--child', 'pong', name, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pongDone = collect(pong, ctx.signal);
  pongDone.catch(() => {}); // reported below, or moot if ping failed first
  try {
    // If the pong child dies first, its own exit error (with its stderr) is the one to report.
    let ready = false;
    const early = pongDone.then(() => {
      if (!ready) throw new Error('pong child exited before it was ready');
    });
    early.catch(() => {});
    await Promise.race([firstLine(pong.stdout, 'ready'), early]);
    ready = true;
    const ping = spawn(
      process.execPath,
      [SELF, '--child', 'ping', name, mode, String(rounds), String(warmup), String(size)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    ping.stderr.setEncoding('utf8');
    ping.stderr.on('data', (chunk) => {
      for (const m of chunk.matchAll(/^progress ([\d.]+)$/gm))
        ctx.progress?.(Number(m[1]), `catmem ${mode}`);
    });
    const out = await collect(ping, ctx.signal);
    await pongDone;
    return { samplesNs: JSON.parse(out).samplesNs };
  } finally {
    if (pong.exitCode === null && pong.signalCode === null) pong.kill('SIGKILL');
  }
}

function collect(child, signal) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, CHILD_TIMEOUT_MS);
    signal?.addEventListener('abort', kill, { once: true });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (code === 0) resolve(stdout);
      else {
        const why = stderr
          .replace(/^progress .*\n/gm, '')
          .trim()
          .slice(0, 500);
        reject(new Error(`${child.spawnfile} exited with ${sig ?? code}: ${why}`));
      }
    });
  });
}

function firstLine(stream, expected) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      if (buf.includes('\n')) {
        stream.off('data', onData);
        if (buf.startsWith(expected)) resolve();
        else reject(new Error(`child said ${JSON.stringify(buf.trim())}, expected ${expected}`));
      }
    };
    stream.setEncoding('utf8');
    stream.on('data', onData);
    stream.once('end', () =>
      setTimeout(() => reject(new Error(`child exited before saying ${expected}`)), 100),
    );
  });
}

// ---- children --------------------------------------------------------------

async function childPong(name, mode) {
  const { Catmem } = await import('@demi/catmem');
  const libos = new Catmem();
  const qd = libos.createPipe(name);
  process.stdout.write('ready\n');
  for (;;) {
    const r = mode === 'sync' ? libos.waitSync(libos.pop(qd)) : await libos.wait(libos.pop(qd));
    if (r.ret !== 0 || r.sga.segments.length === 0) break;
    if (mode === 'sync') libos.waitSync(libos.push(qd, r.sga));
    else await libos.wait(libos.push(qd, r.sga));
  }
  libos.close(qd);
  await libos.shutdown();
}

async function childPing(name, mode, rounds, warmup, size) {
  const { Catmem } = await import('@demi/catmem');
  const libos = new Catmem();
  const qd = libos.openPipe(name);
  const sga = { segments: [new Uint8Array(size).fill(7)] };
  const samples = new Float64Array(rounds);
  const total = rounds + warmup;
  const step = Math.max(1, Math.floor(total / 10));
  for (let i = 0; i < total; i++) {
    if (i % step === 0) process.stderr.write(`progress ${(i / total).toFixed(2)}\n`);
    const t0 = performance.now();
    let r;
    if (mode === 'sync') {
      libos.waitSync(libos.push(qd, sga));
      r = libos.waitSync(libos.pop(qd));
    } else {
      await libos.wait(libos.push(qd, sga));
      r = await libos.wait(libos.pop(qd));
    }
    const t1 = performance.now();
    if (r.ret !== 0 || r.sga.segments[0]?.byteLength !== size) {
      throw new Error(`bad echo at round ${i}: ret ${r.ret}`);
    }
    if (i >= warmup) samples[i - warmup] = (t1 - t0) * 1e6;
  }
  libos.close(qd);
  await libos.shutdown();
  process.stdout.write(
    `${JSON.stringify({ samplesNs: Array.from(samples, (x) => Math.round(x)) })}\n`,
  );
}

// Bulk: the sink creates pipe <prefix>-<run> for each run in turn: pops an
// 8-byte length, pops that many bytes, pushes 1 byte, waits for end of file.
// The source opens each pipe (the sink creates the next before it answers),
// pushes the length and then 64 KiB pushes with up to 16 in flight, pops the
// answer and closes; after the last run it opens and closes one more pipe,
// which ends the sink.
const BULK_DEPTH = 16;

async function childBulkSink(prefix, mode) {
  const { Catmem } = await import('@demi/catmem');
  const libos = new Catmem();
  const wait = mode === 'sync' ? (qt) => libos.waitSync(qt) : (qt) => libos.wait(qt);
  process.on('SIGTERM', () => libos.shutdown().finally(() => process.exit(0)));
  let qd = libos.createPipe(`${prefix}-0`);
  process.stdout.write(`ready ${prefix}\n`);
  for (let run = 1; ; run++) {
    let expected = -1;
    let got = 0;
    const header = [];
    for (;;) {
      const r = await wait(libos.pop(qd));
      if (r.ret !== 0) throw new Error(`pop failed: errno ${r.ret}`);
      const n = r.sga.segments.reduce((s, seg) => s + seg.byteLength, 0);
      if (n === 0 && expected < 0 && header.length === 0) {
        // The source opened and closed this pipe without a transfer: it is done.
        libos.close(qd);
        await libos.shutdown();
        return;
      }
      if (n === 0) break; // end of file
      if (expected < 0) {
        header.push(...r.sga.segments.map((seg) => Buffer.from(seg)));
        const all = Buffer.concat(header);
        if (all.byteLength < 8) continue;
        expected = Number(all.readBigUInt64BE(0));
        got = all.byteLength - 8;
      } else got += n;
      // Counted: the memory goes back to the LibOS, which fills it on a later pop.
      libos.sgafree(r.sga);
      if (got >= expected && expected >= 0) {
        // The next run's pipe exists before the source learns this one is done.
        const next = libos.createPipe(`${prefix}-${run}`);
        await wait(libos.push(qd, { segments: [Uint8Array.of(1)] }));
        expected = Number.POSITIVE_INFINITY;
        const old = qd;
        qd = next;
        for (;;) {
          const eof = await wait(libos.pop(old));
          if (eof.ret !== 0 || eof.sga.segments.length === 0) break;
        }
        libos.close(old);
        break;
      }
    }
  }
}

async function childBulkSource(prefix, mode, total, runs, chunkBytes) {
  const { Catmem } = await import('@demi/catmem');
  const libos = new Catmem();
  const wait = mode === 'sync' ? (qt) => libos.waitSync(qt) : (qt) => libos.wait(qt);
  const chunk = new Uint8Array(chunkBytes).fill(0x62);
  const runsMbps = [];
  for (let run = 0; run < runs; run++) {
    const qd = libos.openPipe(`${prefix}-${run}`);
    const start = performance.now();
    const header = new Uint8Array(8);
    new DataView(header.buffer).setBigUint64(0, BigInt(total));
    const inflight = [libos.push(qd, { segments: [header] })];
    for (let sent = 0; sent < total; sent += chunk.byteLength) {
      const n = Math.min(chunk.byteLength, total - sent);
      inflight.push(
        libos.push(qd, { segments: [n === chunk.byteLength ? chunk : chunk.subarray(0, n)] }),
      );
      if (inflight.length >= BULK_DEPTH) pushed(await wait(inflight.shift()));
    }
    for (const qt of inflight) pushed(await wait(qt));
    const answer = await wait(libos.pop(qd, 1));
    if (answer.ret !== 0 || answer.sga.segments[0]?.byteLength !== 1)
      throw new Error(`no answer: errno ${answer.ret}`);
    const ms = performance.now() - start;
    runsMbps.push((total * 8) / ms / 1000);
    libos.close(qd);
    process.stderr.write(`progress ${((run + 1) / runs).toFixed(3)}\n`);
  }
  // An empty pipe tells the sink there are no more runs (a waitSync sink cannot take SIGTERM).
  libos.close(libos.openPipe(`${prefix}-${runs}`));
  process.stdout.write(`${JSON.stringify({ runsMbps })}\n`);
  await libos.shutdown();
}

function pushed(r) {
  if (r.ret !== 0) throw new Error(`push failed: errno ${r.ret}`);
}

// node:net over loopback, for the standalone comparison only (the runner has its own rows).
function childNetEcho() {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => {
      socket.end();
      server.close();
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${server.address().port}\n`));
}

function childNetPing(port, rounds, warmup, size) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const msg = Buffer.alloc(size, 7);
  const samples = [];
  let i = 0;
  let got = 0;
  let t0 = 0;
  const send = () => {
    t0 = performance.now();
    socket.write(msg);
  };
  socket.on('connect', send);
  socket.on('data', (d) => {
    got += d.length;
    if (got < size) return;
    got -= size;
    if (i >= warmup) samples.push(Math.round((performance.now() - t0) * 1e6));
    if (++i < rounds + warmup) send();
    else {
      socket.end();
      process.stdout.write(`${JSON.stringify({ samplesNs: samples })}\n`);
    }
  });
}

async function runNet(ctx, size) {
  const { rounds, warmup } = counts(ctx);
  const echo = spawn(process.execPath, [SELF, '--child', 'net-echo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const echoDone = collect(echo, ctx.signal);
  const port = await new Promise((resolve) => {
    echo.stdout.once('data', (d) => resolve(Number(String(d).split(' ')[1])));
  });
  const ping = spawn(
    process.execPath,
    [SELF, '--child', 'net-ping', String(port), String(rounds), String(warmup), String(size)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = await collect(ping, ctx.signal);
  await echoDone;
  return { samplesNs: JSON.parse(out).samplesNs };
}

// ---- standalone ------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function standalone(argv) {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--repeat');
  const repeat = at >= 0 ? Math.max(1, Number(argv[at + 1]) || 1) : 1;
  const ctx = { quick, progress: () => {} };
  const all = [
    ...rows(ctx).filter((r) => r.group === 'rtt-64'),
    {
      id: 'net-tcp-64',
      group: 'rtt-64',
      label: 'node:net TCP loopback (comparison)',
      run: (c) => runNet(c, 64),
    },
  ];
  // Rows take turns, `repeat` times, so a change in machine load hits them all alike.
  const medians = new Map(all.map((row) => [row.id, []]));
  const skips = new Map();
  let n = 0;
  for (let round = 0; round < repeat; round++) {
    for (const row of all) {
      process.stderr.write(`${row.label} (${round + 1}/${repeat}) ...\n`);
      const r = await row.run(ctx);
      if (r.skip) skips.set(row.id, r.skip);
      else {
        medians.get(row.id).push(median(r.samplesNs));
        n = r.samplesNs.length;
      }
    }
  }
  const results = all.map((row) => ({
    id: row.id,
    label: row.label,
    ...(skips.has(row.id)
      ? { skip: skips.get(row.id) }
      : { runs: medians.get(row.id), medianNs: median(medians.get(row.id)), samplesPerRun: n }),
  }));
  const floor = results.find((r) => r.label.includes('floor'))?.medianNs;
  const sync = results.find((r) => r.id === 'catmem-sync-64')?.medianNs;
  const tcp = results.find((r) => r.id === 'net-tcp-64')?.medianNs;
  if (argv.includes('--json')) {
    const summary = { syncOverFloor: sync / floor, tcpOverSync: tcp / sync };
    console.log(
      JSON.stringify({ date: new Date().toISOString(), repeat, results, ...summary }, null, 2),
    );
    return;
  }
  for (const r of results) {
    const vs = floor ? `, ${(r.medianNs / floor).toFixed(1)}x floor` : '';
    const runs = repeat > 1 ? ` runs ${r.runs?.map((x) => (x / 1000).toFixed(2)).join(' ')}` : '';
    const text = r.skip
      ? `skipped: ${r.skip}`
      : `median ${(r.medianNs / 1000).toFixed(2).padStart(8)} us${vs}${runs}`;
    console.log(`${r.label.padEnd(42)} ${text}`);
  }
  if (sync && floor) console.log(`catmem sync / C floor: ${(sync / floor).toFixed(1)}x`);
  if (sync && tcp) console.log(`node:net TCP / catmem sync: ${(tcp / sync).toFixed(1)}x`);
}

const args = process.argv.slice(2);
if (process.argv[1] === SELF) {
  const fail = (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  };
  if (args[0] === '--child') {
    const [, role, a, b, c, d, e] = args;
    const children = {
      pong: () => childPong(a, b),
      ping: () => childPing(a, b, Number(c), Number(d), Number(e)),
      'bulk-sink': () => childBulkSink(a, b),
      'bulk-source': () => childBulkSource(a, b, Number(c), Number(d), Number(e)),
      'net-echo': () => childNetEcho(),
      'net-ping': () => childNetPing(Number(a), Number(b), Number(c), Number(d)),
    };
    Promise.resolve()
      .then(() => children[role]())
      .catch(fail);
  } else {
    standalone(args).catch(fail);
  }
}
