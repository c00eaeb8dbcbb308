#!/usr/bin/env node
// Makes sure the Debian packages the tests need are present. Every
// apt-packages.txt under tools/, packages/*/ and examples/*/ lists some. As root, missing
// ones are installed with apt-get; otherwise the exact command is printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function listFiles() {
  const files = [];
  const walk = (dir, depth) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth > 0) walk(path, depth - 1);
      else if (entry.name === 'apt-packages.txt') files.push(path);
    }
  };
  walk(join(root, 'tools'), 2);
  if (existsSync(join(root, 'packages'))) walk(join(root, 'packages'), 1);
  if (existsSync(join(root, 'examples'))) walk(join(root, 'examples'), 1);
  return files;
}

export function wantedPackages() {
  const names = new Set();
  for (const file of listFiles()) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const name = line.replace(/#.*/, '').trim();
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

function installed(name) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function ensureSystemPackages({ log = console.error } = {}) {
  if (!existsSync('/usr/bin/dpkg-query')) {
    log('demi: not a Debian system; install the equivalents of: ' + wantedPackages().join(' '));
    return { missing: [] };
  }
  const missing = wantedPackages().filter((n) => !installed(n));
  if (missing.length === 0) return { missing };
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    log(
      `demi: missing Debian packages: ${missing.join(' ')}\n  install them with: sudo sh -c '${command}'`,
    );
    return { missing };
  }
  log(`demi: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  return { missing: missing.filter((n) => !installed(n)) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { missing } = ensureSystemPackages();
  process.exit(missing.length === 0 ? 0 : 1);
}
