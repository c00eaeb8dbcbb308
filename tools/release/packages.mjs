// The packages the release publishes, in dependency order, and the manifest each
// is published with: the repository's own, less what only works inside it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const ORDER = ['native', 'core', 'inetstack', 'catnap', 'catmem', 'catloop', 'catpowder', 'catnip'];

/** Every non-private package under packages/, as {dir, name, manifest}. */
export function publishable() {
  return readdirSync(join(root, 'packages'))
    .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
    .map((d) => {
      const dir = join(root, 'packages', d);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { short: d, dir, name: manifest.name, manifest };
    })
    .filter((p) => !p.manifest.private)
    .sort((a, b) => rank(a.short) - rank(b.short));
}

function rank(short) {
  const i = ORDER.indexOf(short);
  return i < 0 ? ORDER.length : i;
}

/** Scripts that run outside this repository (none of build/test/typecheck does: they use its tools). */
const PORTABLE_SCRIPTS = new Set(['install', 'preinstall', 'postinstall']);

/** The manifest as published: no monorepo scripts, no nx settings, no workspace devDependencies. */
export function publishedManifest(manifest) {
  const out = { ...manifest };
  const scripts = Object.fromEntries(
    Object.entries(manifest.scripts ?? {}).filter(([k]) => PORTABLE_SCRIPTS.has(k)),
  );
  if (Object.keys(scripts).length > 0) out.scripts = scripts;
  else delete out.scripts;
  delete out.nx;
  delete out.devDependencies;
  return out;
}
