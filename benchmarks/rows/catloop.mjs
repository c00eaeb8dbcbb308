// Benchmark rows for @demi/catloop: ping-pong round trips between two Node
// processes over a catloop connection (TCP-like sockets on catmem rings), with
// waitSync and with async wait, through the same client and server scripts as
// every other demi row.
//
// As a row module (benchmarks/run.mjs): `rows(ctx)` returns the rows.
// Standalone:  node benchmarks/rows/catloop.mjs [--quick] [--json]
//              runs the 64-byte rows beside the C shared-memory floor (catmem's
//              row) and node:net TCP, in one run, and prints medians and ratios.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runClientMeasured, startServer } from '../lib/children.mjs';
import { demiRows } from '../lib/demi-rows.mjs';
import { SIZES } from '../lib/sizes.mjs';

const SELF = fileURLToPath(import.meta.url);
const lib = join(dirname(SELF), '..', 'lib');

/** Packages the runner builds (through nx, cached) before these rows run. */
export const needs = ['@demi/core', '@demi/catloop'];

const MODES = [
  { mode: 'sync', label: 'catloop waitSync, 2 processes' },
  { mode: 'async', label: 'catloop async wait, 2 processes' },
];

function counts(ctx) {
  return {
    warmup: ctx.warmup ?? (ctx.quick ? 200 : 5000),
    iterations: ctx.iterations ?? (ctx.quick ? 2000 : 50_000),
  };
}

let availability;
function missing() {
  if (availability === undefined) {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await import('@demi/catloop').then((m) => new m.Catloop().shutdown())",
      ],
      {
        cwd: dirname(SELF),
        encoding: 'utf8',
      },
    );
    availability =
      r.status === 0
        ? ''
        : `@demi/catloop does not load (build it: npm run build -w @demi/catloop): ${(r.stderr || '').trim().split('\n').pop()}`;
  }
  return availability || undefined;
}

export function rows() {
  return [
    ...rtt(),
    ...demiRows({ libos: 'catloop', prefix: 'catloop', name: 'catloop', available: missing }),
  ];
}

function rtt() {
  return SIZES.flatMap((size) =>
    MODES.map(({ mode, label }) => ({
      id: `catloop-${mode}-${size.bytes}`,
      group: size.group,
      label,
      // catloop runs on catmem's rings: its floor is the C ring.
      floor: `catmem-c-floor-${size.bytes}`,
      run: (ctx) => {
        const why = missing();
        if (why) return { skip: why };
        const { warmup, iterations } = counts(ctx);
        return pingPong(
          { ...ctx, progress: (f) => ctx.progress?.(f, `catloop ${mode}`) },
          [join(lib, 'demi-server.mjs'), '--libos', 'catloop', '--mode', mode],
          (port) => [
            join(lib, 'demi-client.mjs'),
            '--libos',
            'catloop',
            '--mode',
            mode,
            '--port',
            port,
            '--size',
            String(size.bytes),
            '--warmup',
            String(warmup),
            '--iterations',
            String(iterations),
          ],
        );
      },
    })),
  );
}

/**
 * Like lib/children.mjs's pingPong, but lets the server finish: it exits by
 * itself after the client's EOF, closing its segments; a SIGKILL would leave
 * them in /dev/shm until their address is bound again.
 */
async function pingPong(ctx, serverArgs, clientArgs) {
  const srv = startServer(process.execPath, serverArgs);
  try {
    const port = await srv.ready;
    const measured = await runClientMeasured(process.execPath, clientArgs(port), ctx, {
      serverPid: srv.child.pid,
    });
    if (srv.child.exitCode === null && srv.child.signalCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        srv.child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return measured;
  } finally {
    srv.stop();
  }
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
  const ctx = {
    quick,
    ...(quick ? { warmup: 1000, iterations: 5000 } : { warmup: 5000, iterations: 50_000 }),
    progress: () => {},
  };
  const floor = (await import('./catmem.mjs'))
    .rows(ctx)
    .find((r) => r.id.startsWith('catmem-c-floor') && r.group === 'rtt-64');
  const net = (await import('./node-net.mjs')).rows(ctx).find((r) => r.id === 'node-net-tcp-64');
  const all = [floor, net, ...rows(ctx).filter((r) => r.group === 'rtt-64')].filter(Boolean);
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
  const by = (id) => results.find((r) => r.id === id)?.medianNs;
  const c = results.find((r) => r.id.startsWith('catmem-c-floor'))?.medianNs;
  const tcp = by('node-net-tcp-64');
  const sync = by('catloop-sync-64');
  const async = by('catloop-async-64');
  const summary = {
    date: new Date().toISOString(),
    results,
    syncOverFloor: sync / c,
    netOverSync: tcp / sync,
    netOverAsync: tcp / async,
  };
  if (argv.includes('--json')) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  for (const r of results) {
    console.log(
      `${r.label.padEnd(42)} ${r.skip ? `skipped: ${r.skip}` : `median ${(r.medianNs / 1000).toFixed(2).padStart(9)} us  (n=${r.n})`}`,
    );
  }
  if (sync && c) console.log(`catloop waitSync / C floor: ${(sync / c).toFixed(1)}x`);
  if (sync && tcp) console.log(`node:net TCP / catloop waitSync: ${(tcp / sync).toFixed(1)}x`);
  if (async && tcp) console.log(`node:net TCP / catloop async: ${(tcp / async).toFixed(1)}x`);
}

if (process.argv[1] === SELF) {
  standalone(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
