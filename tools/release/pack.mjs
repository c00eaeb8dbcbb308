#!/usr/bin/env node
// Packs every publishable package into <out>/ with its published manifest
// (see packages.mjs); the package.json in the repository is restored afterwards.
// Usage: node tools/release/pack.mjs <out-dir>
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { publishable, publishedManifest } from './packages.mjs';

/**
 * Packs one package; returns the tarball's path. With `manifestsFrom` (a packages/
 * directory where `changeset version` ran on copies of the manifests), the package is
 * packed with that version's package.json and CHANGELOG.md.
 */
export function packOne(pkg, outDir, manifestsFrom) {
  const file = join(pkg.dir, 'package.json');
  const changelog = join(pkg.dir, 'CHANGELOG.md');
  const original = readFileSync(file, 'utf8');
  const originalChangelog = readFileSync(changelog, 'utf8');
  const other = manifestsFrom === undefined ? undefined : join(manifestsFrom, basename(pkg.dir));
  const manifest =
    other === undefined
      ? pkg.manifest
      : JSON.parse(readFileSync(join(other, 'package.json'), 'utf8'));
  pkg.manifest = manifest;
  writeFileSync(file, `${JSON.stringify(publishedManifest(manifest), null, 2)}\n`);
  if (other !== undefined) writeFileSync(changelog, readFileSync(join(other, 'CHANGELOG.md')));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
      cwd: pkg.dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      // npm runs lifecycle scripts of the package being packed; it has none.
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    return join(outDir, JSON.parse(out)[0].filename);
  } finally {
    writeFileSync(file, original);
    writeFileSync(changelog, originalChangelog);
  }
}

export function packAll(outDir, manifestsFrom) {
  mkdirSync(outDir, { recursive: true });
  return publishable().map((pkg) => {
    const tarball = packOne(pkg, outDir, manifestsFrom);
    return { ...pkg, tarball };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = resolve(process.argv[2] ?? 'dist-packages');
  for (const p of packAll(out)) console.log(p.tarball);
}
