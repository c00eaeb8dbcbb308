#!/usr/bin/env node
// `npm run release`: builds every package (nx), builds the backends' prebuilt
// addons (prebuild.mjs, cached), packs each package with its published
// manifest, refuses to go on if any tarball fails check.mjs, then publishes
// each tarball whose version the registry does not have yet, so a changeset
// that bumps one package publishes only that one. The registry is npm's
// configuration (npm_config_registry, an .npmrc); nothing here names one.
// Flags: --no-publish (stop after the checks), --out <dir> (tarballs; default a temp dir),
// --manifests-from <packages dir> (pack with the package.json/CHANGELOG.md found there,
// e.g. copies on which `changeset version` ran; the repository's files are untouched)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tarballProblems } from './check.mjs';
import { packAll } from './pack.mjs';
import { BACKENDS, prebuild } from './prebuild.mjs';
import { targetsFor } from './targets.mjs';

const root = new URL('../..', import.meta.url).pathname;
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const fromAt = args.indexOf('--manifests-from');
const manifestsFrom = fromAt >= 0 ? resolve(args[fromAt + 1]) : undefined;
const outDir = outAt >= 0 ? resolve(args[outAt + 1]) : mkdtempSync(join(tmpdir(), 'demi-release-'));

function step(title) {
  console.log(`\n=== release: ${title} ===`);
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`release: ${cmd} ${cmdArgs.join(' ')} failed (status ${r.status})`);
    process.exit(1);
  }
}

step('build');
run(join(root, 'node_modules/.bin/nx'), ['run-many', '-t', 'build', '--outputStyle=stream']);

step('prebuilt addons');
for (const pkg of BACKENDS) {
  for (const target of targetsFor(pkg)) console.log(prebuild(pkg, target));
}

step(`pack into ${outDir}`);
const packed = packAll(outDir, manifestsFrom);

step('check');
let refused = 0;
for (const p of packed) {
  const problems = tarballProblems(p.tarball);
  console.log(`${problems.length === 0 ? 'ok     ' : 'REFUSED'} ${p.tarball}`);
  for (const problem of problems) console.log(`        ${problem.replaceAll('\n', '\n        ')}`);
  if (problems.length > 0) refused++;
}
if (refused > 0) {
  console.error(`release: ${refused} tarball(s) refused; nothing was published`);
  process.exit(1);
}
if (args.includes('--no-publish')) process.exit(0);

step('publish');
function published(name, version) {
  const r = spawnSync('npm', ['view', `${name}@${version}`, 'version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === version;
}
for (const p of packed) {
  const { name, version } = p.manifest;
  if (published(name, version)) {
    console.log(`${name}@${version} is already published`);
    continue;
  }
  execFileSync('npm', ['publish', p.tarball, '--access', 'public'], { stdio: 'inherit' });
  console.log(`published ${name}@${version}`);
}
