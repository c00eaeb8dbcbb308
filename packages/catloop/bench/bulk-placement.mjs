#!/usr/bin/env node
// Where the two processes of a catloop bulk transfer run: starts the bench's bulk
// server and client (benchmarks/lib/demi-bulk.mjs, async waits), samples every 2 ms
// which CPU each last ran on (/proc/<pid>/stat), and prints each transfer's rate
// beside the share of samples that found both on the same CPU.
//   node bench/bulk-placement.mjs [--runs 12] [--mib 256]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '12' }, mib: { type: 'string', default: '256' } },
});
const bulk = new URL('../../../benchmarks/lib/demi-bulk.mjs', import.meta.url).pathname;
const common = ['--libos', 'catloop', '--mode', 'async'];

const server = spawn(process.execPath, [bulk, 'server', ...common], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve) => {
  server.stdout.on('data', (d) => {
    const m = /ready (\d+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});
const client = spawn(
  process.execPath,
  [
    bulk,
    'client',
    ...common,
    '--port',
    port,
    '--bytes',
    String(Number(args.mib) << 20),
    '--runs',
    args.runs,
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);

/** The CPU a process last ran on (field 39 of /proc/<pid>/stat), or -1 once it is gone. */
function lastCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
  } catch {
    return -1;
  }
}

let transfer = 0;
const samples = [];
const shared = [];
client.stderr.on('data', (d) => {
  transfer += (String(d).match(/progress/g) ?? []).length;
});
let out = '';
client.stdout.on('data', (d) => {
  out += d;
});
const sampler = setInterval(() => {
  const a = lastCpu(server.pid);
  const b = lastCpu(client.pid);
  if (a < 0 || b < 0) return;
  samples[transfer] = (samples[transfer] ?? 0) + 1;
  shared[transfer] = (shared[transfer] ?? 0) + (a === b ? 1 : 0);
}, 2);
const code = await new Promise((resolve) => client.on('exit', resolve));
clearInterval(sampler);
server.kill('SIGTERM');
if (code !== 0) throw new Error(`the bulk client exited ${code}`);
const { runsMbps } = JSON.parse(out.trim().split('\n').pop());
runsMbps.forEach((mbps, i) => {
  const share = samples[i] ? Math.round((100 * (shared[i] ?? 0)) / samples[i]) : 0;
  console.log(`transfer ${i + 1}: ${Math.round(mbps / 8)} MB/s, same CPU in ${share}% of samples`);
});
