#!/usr/bin/env node
// npm run bench [-- --quick] [--only <text>] [--no-save] [--no-build] [--list]
//                 [--iterations N] [--warmup N]
//
// Runs every row that benchmarks/rows/*.mjs contributes, in one run, and prints
// p50/p99/p99.9 round-trip times (and CPU per round trip), bulk throughput and
// connection-scaling rates, with ratios against the node:net row (and the floor
// row) of the same group; saves results/<date>.json and a chart (.svg, .png). --quick is the CI smoke test: it checks that
// every row completes (or says why it skipped), never how fast. See README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.mjs';
import { measurement, summaryLine } from './lib/measurement.mjs';
import { Progress } from './lib/progress.mjs';
import { formatTable } from './lib/table.mjs';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '..');
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'no-save': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    iterations: { type: 'string' },
    warmup: { type: 'string' },
  },
});

const counts = opts.quick
  ? { warmup: 200, iterations: 2000 }
  : { warmup: 5000, iterations: 100_000 };
if (opts.iterations !== undefined)
  counts.iterations = Math.max(1, Number.parseInt(opts.iterations, 10) || 0);
if (opts.warmup !== undefined) counts.warmup = Math.max(0, Number.parseInt(opts.warmup, 10) || 0);
const ROW_TIMEOUT_MS = opts.quick ? 60_000 : 300_000;
const base = { quick: opts.quick, ...counts };

// ---- collect rows ----------------------------------------------------------
const modules = readdirSync(join(here, 'rows'))
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const rows = [];
const needs = new Map(); // package -> modules needing it
const broken = [];
for (const file of modules) {
  const source = `rows/${file}`;
  try {
    const mod = await import(pathToFileURL(join(here, 'rows', file)).href);
    if (typeof mod.rows !== 'function') throw new Error('does not export rows(ctx)');
    const defs = await mod.rows({ ...base, progress: () => {} });
    if (!Array.isArray(defs)) throw new Error('rows(ctx) did not return an array');
    for (const def of defs) {
      for (const key of ['id', 'group', 'label']) {
        if (typeof def?.[key] !== 'string' || def[key] === '')
          throw new Error(`a row has no ${key}`);
      }
      if (typeof def.run !== 'function') throw new Error(`row ${def.id} has no run(ctx)`);
      if (rows.some((r) => r.id === def.id)) throw new Error(`row id ${def.id} is used twice`);
      rows.push({ ...def, source });
    }
    for (const pkg of mod.needs ?? []) needs.set(pkg, [...(needs.get(pkg) ?? []), source]);
  } catch (err) {
    broken.push({ source, error: err.message });
  }
}
const selected = rows.filter(
  (r) => !opts.only || opts.only.some((o) => r.id.includes(o) || r.label.includes(o)),
);
// Run (and print) group by group, in the order groups first appear.
const groupOrder = [...new Set(selected.map((r) => r.group))];
selected.sort((a, b) => groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group));

if (opts.list) {
  for (const r of selected)
    console.log(`${r.id.padEnd(24)} ${r.group.padEnd(8)} ${r.label}  (${r.source})`);
  for (const b of broken) console.log(`${b.source}: cannot load: ${b.error}`);
  process.exit(broken.length > 0 ? 1 : 0);
}

// ---- build what rows need (nx caches) ----------------------------------------
const buildFailed = new Map(); // module -> reason
if (!opts['no-build'] && needs.size > 0) {
  const nx = join(root, 'node_modules/.bin/nx');
  const projects = [...needs.keys()];
  process.stderr.write(`building ${projects.join(', ')} (nx, cached) ...\n`);
  const r = spawnSync(
    nx,
    ['run-many', '-t', 'build', `--projects=${projects.join(',')}`, '--outputStyle=static'],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}\n`);
    for (const sources of needs.values())
      for (const s of sources)
        buildFailed.set(s, `build of ${projects.join(', ')} failed (see above)`);
  }
}

// ---- run -------------------------------------------------------------------
const machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model ?? 'unknown',
  kernel: release(),
  node: process.version,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
};
const started = new Date();
console.log(
  `demi benchmarks on 127.0.0.1 — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
);
console.log(
  `${machine.cpus} × ${machine.model}, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg.join(' ')}`,
);
console.log(
  `${opts.quick ? 'QUICK (smoke test: numbers mean nothing)' : 'full'}: ${counts.warmup} warm-up + ${counts.iterations} measured round trips per ping-pong row\n`,
);

const progress = new Progress(selected.length);
const results = [];
let failures = 0;
for (const [index, row] of selected.entries()) {
  const title = `${row.group} ${row.label}`;
  progress.startRow(index, title);
  const rowStart = performance.now();
  const result = {
    id: row.id,
    group: row.group,
    label: row.label,
    role: row.role,
    floor: row.floor,
    source: row.source,
  };
  const controller = new AbortController();
  let timer;
  try {
    if (buildFailed.has(row.source)) {
      result.skip = buildFailed.get(row.source);
    } else {
      const ctx = {
        ...base,
        signal: controller.signal,
        progress: (fraction, note) => progress.update(fraction, note),
      };
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`did not finish within ${ROW_TIMEOUT_MS / 1000} s`));
        }, ROW_TIMEOUT_MS);
      });
      const outcome = await Promise.race([row.run(ctx), timeout]);
      Object.assign(result, measurement(outcome));
    }
  } catch (err) {
    result.error = String(err?.message ?? err).split('\n')[0];
    failures++;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  results.push(result);
  progress.endRow(
    `${summaryLine(result)} (${((performance.now() - rowStart) / 1000).toFixed(1)} s)`,
  );
}
progress.done();

for (const b of broken) {
  results.push({
    id: b.source,
    group: 'modules',
    label: b.source,
    error: `cannot load: ${b.error}`,
  });
  failures++;
}
console.log(`\n${formatTable(results)}\n`);
console.log(
  [
    'Round trips: lower is better; "vs node:net" and "vs floor" divide p50 by that row\'s p50 in the same group;',
    "CPU is the client and server processes' CPU time per measured round trip.",
    'Bulk and connections: higher is better; "vs node:net" divides throughput by node:net\'s in the same group.',
  ].join('\n'),
);

if (!opts['no-save']) {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const name = `${started.toISOString().slice(0, 10)}${opts.quick ? '-quick' : ''}.json`;
  const file = join(dir, name);
  const clean = results.map(({ source, ...r }) => ({ ...r, source }));
  writeFileSync(
    file,
    `${JSON.stringify({ date: started.toISOString(), commit: gitCommit(), machine, quick: opts.quick, ...counts, rows: clean }, null, 2)}\n`,
  );
  console.log(`results: ${existsSync(file) ? `benchmarks/results/${name}` : 'not written'}`);
  const svg = file.replace(/\.json$/, '.svg');
  writeFileSync(svg, renderChart(results, { date: started, machine, quick: opts.quick }));
  const png = svg.replace(/\.svg$/, '.png');
  const r = spawnSync('rsvg-convert', ['--zoom', '1.5', '-o', png, svg], { encoding: 'utf8' });
  console.log(`chart: benchmarks/results/${name.replace(/\.json$/, '.svg')}`);
  if (r.error || r.status !== 0)
    console.log(
      `no PNG: ${r.error ? 'rsvg-convert is not installed (apt-get install -y librsvg2-bin)' : r.stderr.trim()}`,
    );
  else console.log(`       benchmarks/results/${name.replace(/\.json$/, '.png')}`);
}
if (failures > 0) console.error(`${failures} row(s) failed`);
process.exit(failures > 0 ? 1 : 0);

/** The commit the run measured (with "+dirty" for uncommitted changes), for READMEs that quote it. */
function gitCommit() {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: here,
    encoding: 'utf8',
  });
  return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : '+dirty'}`;
}
