#!/usr/bin/env node
// Builds each backend's prebuilt addons into packages/<pkg>/prebuilds/<target>/
// with cmake-js (the project's build tool), Zig's clang as CMake's compiler.
// Results are cached by a hash of everything the build reads, so a second run
// with unchanged sources only copies files.
// Usage: node tools/release/prebuild.mjs [catnap catmem ...] [--target linux-x64-glibc]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { cmakeDefinesFor, targetsFor, zigBinary } from './targets.mjs';

const root = new URL('../..', import.meta.url).pathname;
export const BACKENDS = ['catnap', 'catmem', 'catloop', 'catpowder', 'catnip'];
// Outside the clone, so a fresh checkout on the same machine reuses Zig's compiled
// libc/libc++ (minutes per target the first time) and unchanged addons.
const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'demi-prebuilds');

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => filesUnder(join(dir, e.name)));
}

/** Only the libraries a backend names itself are linked; symbols stripped (size). */
const LINKER_FLAGS = '-Wl,--as-needed -s';

/** Everything a backend's addon build reads: its sources, the shared native layer, the toolchain. */
function sourceHash(pkg, target) {
  const hash = createHash('sha256');
  const inputs = [
    join(root, 'packages', pkg, 'CMakeLists.txt'),
    join(root, 'packages', pkg, 'native'),
    join(root, 'packages/native/cmake'),
    join(root, 'packages/native/include'),
    // catloop builds on catmem's shared-memory layer.
    ...(pkg === 'catloop' ? [join(root, 'packages/catmem/native')] : []),
  ];
  for (const file of inputs.flatMap(filesUnder)) {
    hash.update(relative(root, file));
    hash.update(readFileSync(file));
  }
  // The recipe: what the compiler and linker are told (this file's other lines only move files).
  hash.update(
    JSON.stringify({
      target,
      defines: cmakeDefinesFor(pkg),
      flags: extraFlagsFor(pkg),
      LINKER_FLAGS,
    }),
  );
  return hash.digest('hex').slice(0, 20);
}

/** One-file compiler wrappers: CMake wants an executable, Zig wants `zig c++ -target T`. */
function compilerWrappers(target) {
  const dir = join(cacheDir, 'toolchain', target.dir);
  mkdirSync(dir, { recursive: true });
  const zig = zigBinary();
  const tools = {
    'c++': `c++ -target ${target.zig}`,
    cc: `cc -target ${target.zig}`,
    ar: 'ar',
    ranlib: 'ranlib',
  };
  const paths = {};
  for (const [name, cmd] of Object.entries(tools)) {
    const path = join(dir, name);
    // DEMI_PREBUILD_FLAGS: per-backend extras (see extraFlagsFor), empty for most.
    writeFileSync(path, `#!/bin/sh\nexec "${zig}" ${cmd} $DEMI_PREBUILD_FLAGS "$@"\n`);
    chmodSync(path, 0o755);
    paths[name] = path;
  }
  // Zig keeps its own cache; point it inside ours so nothing lands in $HOME.
  return {
    paths,
    env: {
      ZIG_GLOBAL_CACHE_DIR: join(cacheDir, 'zig'),
      ZIG_LOCAL_CACHE_DIR: join(cacheDir, 'zig'),
    },
  };
}

function cmakeJs(pkgDir, outDir, defines, env) {
  const require = createRequire(join(root, 'packages/native/package.json'));
  const bin = require.resolve('cmake-js/bin/cmake-js');
  const args = [bin, 'build', '--directory', pkgDir, '--out', outDir, '--parallel', '2'];
  for (const [k, v] of Object.entries(defines)) args.push(`--CD${k}=${v}`);
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Zig compiles against its own libc headers. DPDK's headers also include a few the
 * distribution provides beside them (<bsd/string.h>, <numa.h>): those are looked up in
 * /usr/include only after Zig's own, so no host libc header replaces the 2.28 ones.
 */
function extraFlagsFor(pkg) {
  return pkg === 'catnip' ? '-idirafter /usr/include' : '';
}

/** Where the cache keeps the addon built from the current sources for one target. */
export function cacheFile(pkg, target) {
  return join(cacheDir, `${pkg}-${target.dir}-${sourceHash(pkg, target)}.node`);
}

/** Builds (or takes from the cache) one backend's addon for one target; returns the file. */
export function prebuild(pkg, target) {
  const pkgDir = join(root, 'packages', pkg);
  const file = `demi_${pkg}.node`;
  const dest = join(pkgDir, 'prebuilds', target.dir, file);
  const cached = cacheFile(pkg, target);
  if (!existsSync(cached)) {
    const { paths, env } = compilerWrappers(target);
    const outDir = join(cacheDir, 'build', pkg, target.dir);
    rmSync(outDir, { recursive: true, force: true });
    const defines = {
      CMAKE_SYSTEM_NAME: 'Linux',
      CMAKE_SYSTEM_PROCESSOR: target.processor,
      CMAKE_C_COMPILER: paths.cc,
      CMAKE_CXX_COMPILER: paths['c++'],
      CMAKE_AR: paths.ar,
      CMAKE_RANLIB: paths.ranlib,
      // Only the libraries a backend names itself are linked, and nothing from the host's lib dirs
      // unless pkg-config says so (catnip's DPDK).
      CMAKE_SHARED_LINKER_FLAGS: LINKER_FLAGS,
      ...cmakeDefinesFor(pkg),
    };
    const r = cmakeJs(pkgDir, outDir, defines, { ...env, DEMI_PREBUILD_FLAGS: extraFlagsFor(pkg) });
    const built = join(outDir, 'Release', file);
    if (r.status !== 0 || !existsSync(built)) {
      process.stderr.write(r.stdout + r.stderr);
      throw new Error(`prebuild of @demi/${pkg} for ${target.dir} failed (status ${r.status})`);
    }
    mkdirSync(cacheDir, { recursive: true });
    copyFileSync(built, cached);
  }
  mkdirSync(join(pkgDir, 'prebuilds', target.dir), { recursive: true });
  copyFileSync(cached, dest);
  return dest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--target');
  const onlyTarget = t >= 0 ? args[t + 1] : undefined;
  const pkgs = args.filter((a, i) => !a.startsWith('--') && i !== t + 1);
  for (const pkg of pkgs.length > 0 ? pkgs : BACKENDS) {
    for (const target of targetsFor(pkg)) {
      if (onlyTarget !== undefined && target.dir !== onlyTarget) continue;
      const started = Date.now();
      const out = prebuild(pkg, target);
      console.log(`${relative(root, out)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
}
