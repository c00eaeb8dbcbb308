#!/usr/bin/env node
// Refuses a tarball that would not work once installed: no dist/, no types, a
// backend without its prebuilt addons (or one needing a newer glibc or a library
// the host may lack), missing LICENSE/CHANGELOG/repository, monorepo scripts;
// then runs publint and @arethetypeswrong/cli on it.
// Usage: node tools/release/check.mjs <tarball.tgz>...
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elfProblems } from './elf.mjs';
import { targetsFor } from './targets.mjs';

const root = new URL('../..', import.meta.url).pathname;
const BACKENDS = ['catnap', 'catmem', 'catloop', 'catpowder', 'catnip'];

/** Every reason the tarball must not be published; empty when it may. */
export function tarballProblems(tarball) {
  const dir = mkdtempSync(join(tmpdir(), 'demi-check-'));
  try {
    execFileSync('tar', ['xzf', tarball, '-C', dir]);
    const pkg = join(dir, 'package');
    const has = (rel) => existsSync(join(pkg, rel));
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    const short = manifest.name.replace('@demi/', '');
    const problems = [];
    for (const rel of ['README.md', 'LICENSE', 'CHANGELOG.md'])
      if (!has(rel)) problems.push(`no ${rel}`);
    if (!manifest.repository?.directory) problems.push('no repository.directory');
    if (!manifest.homepage || !manifest.bugs) problems.push('no homepage or bugs');
    const scripts = Object.keys(manifest.scripts ?? {});
    if (scripts.some((s) => !['install', 'preinstall', 'postinstall'].includes(s)))
      problems.push(`ships repository-only scripts: ${scripts.join(', ')}`);
    if (manifest.exports?.['.'] !== undefined) {
      for (const rel of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'])
        if (!has(rel)) problems.push(`no ${rel} (was the package built?)`);
    }
    if (/\]\((?!https?:|#|mailto:)[^)]+\)/.test(readFileSync(join(pkg, 'README.md'), 'utf8')))
      problems.push('README.md has relative links (broken on the registry page)');
    if (BACKENDS.includes(short)) {
      if (manifest.peerDependencies?.['@demi/core'] === undefined)
        problems.push('@demi/core is not a peerDependency');
      if (manifest.dependencies?.['@demi/core'] !== undefined)
        problems.push('@demi/core is a dependency (a second core would nest)');
      for (const target of targetsFor(short)) {
        const rel = `prebuilds/${target.dir}/demi_${short}.node`;
        if (!has(rel)) {
          problems.push(`no prebuilt ${rel}`);
          continue;
        }
        for (const p of elfProblems(join(pkg, rel), short).problems) problems.push(`${rel} ${p}`);
      }
      if (!has('CMakeLists.txt')) problems.push('no CMakeLists.txt (the source build needs it)');
    }
    problems.push(...lint(pkg, tarball));
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lint(pkgDir, tarball) {
  const out = [];
  const bin = (name) => join(root, 'node_modules/.bin', name);
  const publint = spawnSync(
    bin('publint'),
    ['run', pkgDir, '--pack', 'false', '--level', 'warning'],
    {
      encoding: 'utf8',
    },
  );
  if (publint.status !== 0 || /warning|error/i.test(publint.stdout.replace(/All good!/, '')))
    out.push(`publint:\n${publint.stdout}${publint.stderr}`);
  const attw = spawnSync(
    bin('attw'),
    [tarball, '--profile', 'node16', '--format', 'ascii', '--no-color'],
    {
      encoding: 'utf8',
    },
  );
  if (attw.status !== 0) out.push(`@arethetypeswrong/cli:\n${attw.stdout}${attw.stderr}`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let bad = 0;
  for (const tarball of process.argv.slice(2)) {
    const problems = tarballProblems(tarball);
    console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${tarball}`);
    for (const p of problems) console.log(`     ${p.replaceAll('\n', '\n     ')}`);
    if (problems.length > 0) bad++;
  }
  process.exit(bad > 0 ? 1 : 0);
}
