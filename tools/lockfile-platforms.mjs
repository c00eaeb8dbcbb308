#!/usr/bin/env node
// Keeps package-lock.json valid for `npm ci` everywhere. npm records each
// platform-specific optional package (an esbuild, rollup, nx or biome binary for
// another OS or CPU) from the registry's metadata; a registry mirror that only
// carries this platform's binaries leaves them out, and `npm ci` then refuses
// the lock as out of sync. This adds the missing entries with the os/cpu/libc
// their names state, so npm skips them on other platforms exactly as it would
// with full metadata. Run after `npm install` (the `postinstall` of the root).
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = [
  'android',
  'darwin',
  'freebsd',
  'openbsd',
  'netbsd',
  'openharmony',
  'sunos',
  'aix',
  'win32',
  'linux',
];
const CPU = [
  ['arm64', 'arm64'],
  ['aarch64', 'arm64'],
  ['x64', 'x64'],
  ['ia32', 'ia32'],
  ['loong64', 'loong64'],
  ['ppc64', 'ppc64'],
  ['riscv64', 'riscv64'],
  ['s390x', 's390x'],
  ['arm', 'arm'],
];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OS.find((o) => parts.includes(o));
  const cpu = CPU.find(([token]) => parts.some((p) => p === token || p.startsWith(token)))?.[1];
  if (!os || !cpu) return undefined;
  const entry = { os: [os], cpu: [cpu] };
  if (os === 'linux') entry.libc = [parts.some((p) => p.startsWith('musl')) ? 'musl' : 'glibc'];
  return entry;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const top = `node_modules/${name}`;
    const parentDir = path.includes('/node_modules/')
      ? path.slice(0, path.lastIndexOf('/node_modules/'))
      : '';
    const sibling = parentDir ? `${parentDir}/node_modules/${name}` : top;
    const nested = path ? `${path}/node_modules/${name}` : top;
    if ([nested, sibling, top].some((p) => packages[p]?.version === version)) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    const where =
      packages[top] === undefined ? top : packages[sibling] === undefined ? sibling : nested;
    packages[where] = { version, ...platform, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) =>
      a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
    ),
  );
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.error(
    `lockfile-platforms: recorded ${added} platform-specific optional package(s) the registry did not describe`,
  );
}
