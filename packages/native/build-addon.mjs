#!/usr/bin/env node
// Builds the native addon of the package in the current directory with cmake-js,
// against the node-api-headers package: no downloads. cmake-js reads
// "binary": {"napi_versions": [8]} only from the package.json beside the
// CMakeLists.txt, so each backend keeps its CMakeLists.txt at the package root
// and its C++ sources in native/.
// Usage: demi-build-addon            (in a backend's directory: its "build" script)
//        npx demi-build-addon @demi/catnap   (in an application: rebuilds the installed backend)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function packageDir(name) {
  if (name === undefined) return process.cwd();
  try {
    return dirname(
      createRequire(join(process.cwd(), 'package.json')).resolve(`${name}/package.json`),
    );
  } catch {
    console.error(`demi addon build: ${name} is not installed here (${process.cwd()})`);
    process.exit(1);
  }
}

const pkgDir = packageDir(process.argv[2]);
if (!existsSync(join(pkgDir, 'CMakeLists.txt'))) {
  console.error(`demi addon build: no CMakeLists.txt in ${pkgDir}`);
  process.exit(1);
}
// cmake-js is this package's own dependency: resolve it from here.
const require = createRequire(import.meta.url);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const debug = process.env.DEMI_ADDON_DEBUG === '1';
const args = [
  cmakeJs,
  'build',
  '--directory',
  pkgDir,
  '--out',
  join(pkgDir, 'build'),
  '--parallel',
  '2',
];
if (debug) args.push('--debug');
const result = spawnSync(process.execPath, args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  console.error(
    `demi addon build failed in ${pkgDir} (status ${result.status}).\n` +
      'It needs cmake >= 3.15 and a C++17 compiler: apt-get install -y cmake g++',
  );
  process.exit(result.status ?? 1);
}
const warnings = (result.stdout + result.stderr).split('\n').filter((l) => /warning:/.test(l));
for (const w of warnings) console.warn(w);
console.log(`demi addon built: ${join(pkgDir, 'build', debug ? 'Debug' : 'Release')}`);
