#!/usr/bin/env node
// `npm run lint`: biome for TypeScript/JavaScript, clang-format (dry run) for C++.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules/.bin', name);

const biome = spawnSync(
  bin('biome'),
  ['check', '--diagnostic-level=error', 'packages', 'tools', 'benchmarks', 'examples'],
  { cwd: root, stdio: 'inherit' },
).status;

const cxx = [];
// Each addon's native/ and @demi/native's shared headers.
for (const pkg of readdirSync(join(root, 'packages'))) {
  for (const sub of ['native', 'include/demi']) {
    const dir = join(root, 'packages', pkg, sub);
    try {
      if (!statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    for (const f of readdirSync(dir)) if (/\.(cc|cpp|h|hpp)$/.test(f)) cxx.push(join(dir, f));
  }
}
const clang =
  cxx.length === 0
    ? 0
    : spawnSync(bin('clang-format'), ['--dry-run', '--Werror', ...cxx], {
        cwd: root,
        stdio: 'inherit',
      }).status;
if (clang !== 0)
  console.error(
    'C++ formatting differs: node_modules/.bin/clang-format -i packages/*/native/* packages/native/include/demi/*',
  );
// Conditional suites go through core's describeIf/describePrivileged, which log
// every skip with its reason; vitest's runIf/skipIf would skip silently.
const silent = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'test');
  let files = [];
  try {
    files = readdirSync(dir, { recursive: true }).filter((f) => /\.[cm]?[jt]s$/.test(String(f)));
  } catch {
    continue;
  }
  for (const f of files) {
    const text = readFileSync(join(dir, String(f)), 'utf8');
    if (/\.(runIf|skipIf)\(/.test(text)) silent.push(join('packages', pkg, 'test', String(f)));
  }
}
if (silent.length > 0)
  console.error(
    `Silent conditional skips (use describeIf from @demi/core/testing): ${silent.join(', ')}`,
  );
process.exit(biome === 0 && clang === 0 && silent.length === 0 ? 0 : 1);
