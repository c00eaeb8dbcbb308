#!/usr/bin/env node
// `npm test`: installs missing system packages (as root), builds every package
// through nx, runs every package's tests one package at a time (network tests
// share namespaces and ports), runs the benchmark smoke test, then prints every
// suite that was skipped and why, and a closing 'N passed, N failed' line.
// With DEMI_REQUIRE_PRIVILEGED=1 a suite that needs root or a device fails
// instead of skipping.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSystemPackages } from './system-packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const nx = join(root, 'node_modules/.bin/nx');
const args = process.argv.slice(2);
const skipBench = args.includes('--no-bench');
const only = args.filter((a) => !a.startsWith('--'));

function step(title) {
  console.log(`\n=== ${title} ===`);
}

function run(cmd, cmdArgs, env = {}) {
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return r.status ?? 1;
}

step('system packages');
const { missing } = ensureSystemPackages();
if (missing.length > 0 && process.env.DEMI_REQUIRE_PRIVILEGED === '1') {
  console.error(`demi: cannot continue without: ${missing.join(' ')}`);
  process.exit(1);
}

step('build');
const projects = only.length > 0 ? ['--projects', only.join(',')] : [];
if (run(nx, ['run-many', '-t', 'build', ...projects, '--outputStyle=stream']) !== 0)
  process.exit(1);

// A maintainer relies on types and formatting as much as on tests: every
// package, its tests included, must type-check, and the linters must pass.
step('typecheck (tsc --noEmit, tests included)');
const typecheckStatus = run(nx, [
  'run-many',
  '-t',
  'typecheck',
  ...projects,
  '--outputStyle=stream',
]);
step('lint (biome, clang-format)');
const lintStatus = run(process.execPath, [join(root, 'tools/lint.mjs')]);
step('README numbers carry the date and commit of their run');
const docsStatus = run(process.execPath, [join(root, 'tools/check-readme-numbers.mjs')]);

step('test');
const skipLog = join(mkdtempSync(join(tmpdir(), 'demi-test-')), 'skips.jsonl');
// Every package's suite, then every example's that has one (examples/<name>/vitest.config.ts).
const suiteDirs = (parent) =>
  existsSync(join(root, parent))
    ? readdirSync(join(root, parent))
        .filter((p) => existsSync(join(root, parent, p, 'vitest.config.ts')))
        .map((p) => join(parent, p))
    : [];
const packages = [...suiteDirs('packages'), ...suiteDirs('examples')]
  .map((rel) => rel.replace(/^packages\//, ''))
  .filter(
    (p) =>
      only.length === 0 ||
      only.some((o) => o === p || o === `@demi/${p.replace(/^examples\//, 'example-')}`),
  );
let passed = 0;
let failed = 0;
let skipped = 0;
const failedPackages = [];
for (const pkg of packages) {
  const dir = join(root, pkg.startsWith('examples/') ? '' : 'packages', pkg);
  const results = join(dir, '.vitest-results.json');
  rmSync(results, { force: true });
  console.log(`\n--- ${pkg.startsWith('examples/') ? pkg : `@demi/${pkg}`} ---`);
  const status = spawnSync(
    join(root, 'node_modules/.bin/vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`],
    {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, DEMI_SKIP_LOG: skipLog },
    },
  ).status;
  if (existsSync(results)) {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    rmSync(results, { force: true });
  }
  if (status !== 0) {
    failedPackages.push(pkg);
    if (!existsSync(results)) failed += 1;
  }
}

// The release as users meet it (tools/release): every prebuilt addon checked and
// the arm64 ones run under qemu, then the verdaccio round trip.
const releaseFailures = [];
if (only.length === 0 && !args.includes('--no-release')) {
  for (const [title, script] of [
    ['prebuilt addons', 'tools/release/prebuilt-smoke.mjs'],
    ['registry round trip', 'tools/release/e2e.mjs'],
  ]) {
    step(`release: ${title}`);
    if (run(process.execPath, [join(root, script)]) === 0) passed += 1;
    else {
      failed += 1;
      releaseFailures.push(title);
    }
  }
}

let benchStatus = 0;
if (!skipBench && only.length === 0 && existsSync(join(root, 'benchmarks/run.mjs'))) {
  step('benchmark smoke test (--quick: checks completion, not speed)');
  benchStatus = run(process.execPath, [join(root, 'benchmarks/run.mjs'), '--quick', '--no-save']);
  if (benchStatus === 0) passed += 1;
  else failed += 1;
}

step('summary');
const skips = existsSync(skipLog)
  ? readFileSync(skipLog, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
if (skips.length > 0) {
  console.log(`Skipped ${skips.length} suite(s) that need privileges or devices:`);
  for (const s of skips) console.log(`  - ${s.suite}: ${s.reason}`);
  console.log(
    'Run as root (CI sets DEMI_REQUIRE_PRIVILEGED=1, which turns these skips into failures).',
  );
} else {
  console.log('No privileged suite was skipped.');
}
if (failedPackages.length > 0) console.log(`Failing packages: ${failedPackages.join(', ')}`);
if (benchStatus !== 0) console.log('The benchmark smoke test failed.');
if (typecheckStatus !== 0) console.log('Type-checking failed (see "typecheck" above).');
if (lintStatus !== 0)
  console.log('Linting failed: npx biome check --write <files>, clang-format -i.');
if (docsStatus !== 0)
  console.log('README numbers lack the date or commit of their run (see above).');
if (releaseFailures.length > 0)
  console.log(`Failing release checks: ${releaseFailures.join(', ')}`);
const checksFailed = typecheckStatus !== 0 || lintStatus !== 0 || docsStatus !== 0;
if (checksFailed) failed += 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(
  failedPackages.length > 0 || benchStatus !== 0 || checksFailed || releaseFailures.length > 0
    ? 1
    : 0,
);
