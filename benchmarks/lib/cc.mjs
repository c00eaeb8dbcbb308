// Builds a C program from benchmarks/c on the fly (cached in benchmarks/.build by source mtime).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Path of the built binary, or `{ skip }` saying why it cannot be built. */
export function buildC(name, extraFlags = []) {
  const source = join(root, 'c', `${name}.c`);
  const outDir = join(root, '.build');
  const binary = join(outDir, name);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return { binary };
  const cc = process.env.CC ?? 'cc';
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', binary, source, ...extraFlags], {
    encoding: 'utf8',
  });
  if (r.error) return { skip: `no C compiler (${cc}): apt-get install -y gcc` };
  if (r.status !== 0)
    return { skip: `${cc} failed on c/${name}.c: ${r.stderr.trim().split('\n')[0]}` };
  return { binary };
}
