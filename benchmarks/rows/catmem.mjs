// Benchmark rows for @demi/catmem: 64-byte ping-pong round trips between two
// Node processes over a shared-memory pipe (waitSync and async wait), beside a C
// program speaking the same ring layout (the floor).
//
// As a row module (benchmarks/run.mjs): `rows(ctx)` returns the rows.
// Standalone:  node benchmarks/rows/catmem.mjs [--quick] [--json]
//              runs the rows, plus a node:net TCP ping-pong for comparison, and
//              prints medians and ratios.
// The same file is the child process of every row (--child <role> ...).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const C_SOURCE = join(dirname(SELF), '..', 'c', 'shm-ring.c');
const SIZE = 64;
const CHILD_TIMEOUT_MS = 180_000;

function counts(quick, mode) {
  if (mode === 'async')
    return quick ? { rounds: 1000, warmup: 200 } : { rounds: 10_000, warmup: 1000 };
  return quick ? { rounds: 5000, warmup: 1000 } : { rounds: 50_000, warmup: 5000 };
}

export function rows() {
  return [
    {
      id: 'catmem-c-floor',
      group: 'rtt-64',
      label: 'shm ring in C, catmem layout (floor)',
      run: (ctx) => runC(ctx),
    },
    {
      id: 'catmem-sync',
      group: 'rtt-64',
      label: 'catmem waitSync, 2 processes',
      run: (ctx) => runNode(ctx, 'sync'),
    },
    {
      id: 'catmem-async',
      group: 'rtt-64',
      label: 'catmem async wait, 2 processes',
      run: (ctx) => runNode(ctx, 'async'),
    },
  ];
}

// ---- rows ------------------------------------------------------------------

function buildC() {
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { skip: 'no C compiler (cc) on PATH' };
  const source = readFileSync(C_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'demi-bench');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `shm-ring-${hash}`);
  if (existsSync(exe)) return { exe };
  const tmp = `${exe}.${process.pid}.tmp`;
  const built = spawnSync('cc', ['-O2', '-std=c11', '-o', tmp, C_SOURCE], { encoding: 'utf8' });
  if (built.status !== 0)
    return {
      skip: `cc failed: ${(built.stderr || built.error?.message || '').trim().split('\n')[0]}`,
    };
  renameSync(tmp, exe);
  return { exe };
}

async function runC(ctx) {
  const built = buildC();
  if (built.skip) return { skip: built.skip };
  const { rounds, warmup } = counts(ctx.quick, 'sync');
  ctx.progress?.(0, 'C floor');
  const out = await collect(
    spawn(built.exe, ['bench', String(rounds), String(warmup), String(SIZE)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  ctx.progress?.(1, 'C floor');
  return { samplesNs: JSON.parse(out).samplesNs };
}

function catmemAvailable() {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "await import('@demi/catmem').then((m) => new m.Catmem().shutdown())",
    ],
    {
      cwd: dirname(SELF),
      encoding: 'utf8',
    },
  );
  return r.status === 0
    ? undefined
    : `@demi/catmem does not load (build it: npm run build -w @demi/catmem): ${(r.stderr || '').trim().split('\n').pop()}`;
}

async function runNode(ctx, mode) {
  const missing = catmemAvailable();
  if (missing) return { skip: missing };
  const { rounds, warmup } = counts(ctx.quick, mode);
  const name = `bench-${process.pid}-${mode}-${Date.now()}`;
  const pong = spawn(process.execPath, [SELF, '--child', 'pong', name, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pongDone = collect(pong);
  await firstLine(pong.stdout, 'ready');
  const ping = spawn(
    process.execPath,
    [SELF, '--child', 'ping', name, mode, String(rounds), String(warmup)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  ping.stderr.setEncoding('utf8');
  ping.stderr.on('data', (chunk) => {
    for (const m of chunk.matchAll(/^progress ([\d.]+)$/gm))
      ctx.progress?.(Number(m[1]), `catmem ${mode}`);
  });
  const out = await collect(ping);
  await pongDone;
  return { samplesNs: JSON.parse(out).samplesNs };
}

function collect(child) {
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
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${child.spawnfile} exited with ${signal ?? code}: ${stderr
              .replace(/^progress .*\n/gm, '')
              .trim()
              .slice(0, 500)}`,
          ),
        );
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

async function childPing(name, mode, rounds, warmup) {
  const { Catmem } = await import('@demi/catmem');
  const libos = new Catmem();
  const qd = libos.openPipe(name);
  const sga = { segments: [new Uint8Array(SIZE).fill(7)] };
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
    if (r.ret !== 0 || r.sga.segments[0]?.byteLength !== SIZE)
      throw new Error(`bad echo at round ${i}: ret ${r.ret}`);
    if (i >= warmup) samples[i - warmup] = (t1 - t0) * 1e6;
  }
  libos.close(qd);
  await libos.shutdown();
  process.stdout.write(
    `${JSON.stringify({ samplesNs: Array.from(samples, (x) => Math.round(x)) })}\n`,
  );
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

function childNetPing(port, rounds, warmup) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const msg = Buffer.alloc(SIZE, 7);
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
    if (got < SIZE) return;
    got -= SIZE;
    if (i >= warmup) samples.push(Math.round((performance.now() - t0) * 1e6));
    if (++i < rounds + warmup) send();
    else {
      socket.end();
      process.stdout.write(`${JSON.stringify({ samplesNs: samples })}\n`);
    }
  });
}

async function runNet(ctx) {
  const { rounds, warmup } = counts(ctx.quick, 'async');
  const echo = spawn(process.execPath, [SELF, '--child', 'net-echo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const echoDone = collect(echo);
  const port = await new Promise((resolve) => {
    echo.stdout.once('data', (d) => resolve(Number(String(d).split(' ')[1])));
  });
  const out = await collect(
    spawn(
      process.execPath,
      [SELF, '--child', 'net-ping', String(port), String(rounds), String(warmup)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  await echoDone;
  return { samplesNs: JSON.parse(out).samplesNs };
}

// ---- standalone ------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function standalone(argv) {
  const quick = argv.includes('--quick');
  const ctx = { quick, progress: () => {} };
  const all = [
    ...rows(ctx),
    { id: 'net-tcp', group: 'rtt-64', label: 'node:net TCP loopback (comparison)', run: runNet },
  ];
  const results = [];
  for (const row of all) {
    process.stderr.write(`${row.label} ...\n`);
    const r = await row.run(ctx);
    results.push({
      id: row.id,
      label: row.label,
      ...(r.skip ? { skip: r.skip } : { n: r.samplesNs.length, medianNs: median(r.samplesNs) }),
    });
  }
  const floor = results.find((r) => r.label.includes('floor'))?.medianNs;
  const sync = results.find((r) => r.id === 'catmem-sync')?.medianNs;
  const tcp = results.find((r) => r.id === 'net-tcp')?.medianNs;
  if (argv.includes('--json')) {
    console.log(
      JSON.stringify(
        {
          date: new Date().toISOString(),
          results,
          syncOverFloor: sync / floor,
          tcpOverSync: tcp / sync,
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const r of results) {
    console.log(
      `${r.label.padEnd(42)} ${r.skip ? `skipped: ${r.skip}` : `median ${(r.medianNs / 1000).toFixed(2).padStart(9)} us  (n=${r.n}${floor ? `, ${(r.medianNs / floor).toFixed(1)}x floor` : ''})`}`,
    );
  }
  if (sync && floor) console.log(`catmem sync / C floor: ${(sync / floor).toFixed(1)}x`);
  if (sync && tcp) console.log(`node:net TCP / catmem sync: ${(tcp / sync).toFixed(1)}x`);
}

const args = process.argv.slice(2);
if (process.argv[1] === SELF) {
  if (args[0] === '--child') {
    const [, role, a, b, c, d] = args;
    const run =
      role === 'pong'
        ? childPong(a, b)
        : role === 'ping'
          ? childPing(a, b, Number(c), Number(d))
          : role === 'net-echo'
            ? childNetEcho()
            : childNetPing(Number(a), Number(b), Number(c));
    Promise.resolve(run).catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
  } else {
    standalone(args).catch((err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    });
  }
}
