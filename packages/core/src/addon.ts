import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemiError } from './errors.js';

/** Where a package's native addon lives and what to tell the user when it is not there. */
export interface AddonSpec {
  /** The addon is demi_<name>.node, in build/{Release,Debug}/ or prebuilds/<platform>/. */
  name: string;
  /** import.meta.url of a module in the package's src/ or dist/ (both sit beside build/). */
  fromUrl: string;
  /** An environment variable naming a built .node to try before the package's own. */
  envVar?: string;
  /** Appended to the error, after the build command: what else the addon needs. */
  buildHint?: string;
  /** The error code when nothing loads (default ENOENT). */
  code?: string;
  env?: NodeJS.ProcessEnv;
}

/** How an addon was found: a file named by the env var, a shipped prebuilt, or a local build. */
export type AddonSource = 'env' | 'prebuilt' | 'source';

export interface AddonCandidate {
  path: string;
  source: AddonSource;
}

/** Which addon each package loaded in this process, for `demi doctor`. */
export interface LoadedAddon extends AddonCandidate {
  name: string;
  platform: string;
}

const loadedAddons = new Map<string, LoadedAddon>();

export function loadedAddon(name: string): LoadedAddon | undefined {
  return loadedAddons.get(name);
}

let libcCache: 'glibc' | 'musl' | undefined;

/** The C library this process runs on: glibc reports its version in the process report. */
export function libc(): 'glibc' | 'musl' {
  if (libcCache === undefined) {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
      ?.header;
    libcCache = header?.glibcVersionRuntime === undefined ? 'musl' : 'glibc';
  }
  return libcCache;
}

/** The prebuilds/ directory name for this process: <platform>-<arch>[-<libc>]. */
export function platformTag(): string {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' ? `${base}-${libc()}` : base;
}

/** The one command that builds a backend's addon from source in an installed app. */
export function buildCommand(name: string): string {
  return `npx demi-build-addon @demi/${name}`;
}

/**
 * The files loadAddon tries, in order. The env override, when set, is the only one
 * (an unusual setup names its binary exactly). Otherwise a local source build
 * (Release, then Debug) comes first: it exists only if someone built it here on
 * purpose (published tarballs ship no build/), e.g. against a newer DPDK or with
 * AF_XDP; then the prebuilt shipped for this platform.
 */
export function addonCandidates(spec: AddonSpec): AddonCandidate[] {
  const env = spec.env ?? process.env;
  const fromEnv = spec.envVar === undefined ? undefined : env[spec.envVar];
  if (fromEnv !== undefined && fromEnv !== '') return [{ path: fromEnv, source: 'env' }];
  const file = `demi_${spec.name}.node`;
  const at = (rel: string) => fileURLToPath(new URL(rel, spec.fromUrl));
  return [
    { path: at(`../build/Release/${file}`), source: 'source' },
    { path: at(`../build/Debug/${file}`), source: 'source' },
    { path: at(`../prebuilds/${platformTag()}/${file}`), source: 'prebuilt' },
  ];
}

/** The paths loadAddon tries, in order (see addonCandidates). */
export function addonPaths(spec: AddonSpec): string[] {
  return addonCandidates(spec).map((c) => c.path);
}

/** Why an existing file did not load, in words a user can act on. */
export function explainLoadError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const missing = /([^\s:/]+\.so(?:\.\d+)*): cannot open shared object file/.exec(message)?.[1];
  if (missing !== undefined)
    return `needs the system library ${missing}, which is not installed here`;
  if (/cannot open shared object file|wrong ELF class|invalid ELF header/.test(message)) {
    return `not a binary for this platform (${platformTag()}): ${message}`;
  }
  const glibc = /version `(GLIBC_[\d.]+)' not found/.exec(message)?.[1];
  if (glibc !== undefined) return `needs ${glibc}, newer than this system's glibc`;
  return message;
}

/**
 * Loads the first candidate that exists and loads; otherwise throws a DemiError naming
 * this platform, every path tried (and why each failed) and the command that builds
 * the addon from source.
 */
export function loadAddon<T>(spec: AddonSpec): T {
  const require = createRequire(spec.fromUrl);
  const tried: string[] = [];
  let cause: unknown;
  for (const candidate of addonCandidates(spec)) {
    if (!existsSync(candidate.path)) {
      tried.push(`${candidate.path} (no such file)`);
      continue;
    }
    try {
      const addon = require(candidate.path) as T;
      loadedAddons.set(spec.name, { ...candidate, name: spec.name, platform: platformTag() });
      return addon;
    } catch (err) {
      cause = err;
      tried.push(`${candidate.path} (${explainLoadError(err)})`);
    }
  }
  throw new DemiError(
    spec.code ?? 'ENOENT',
    `the ${spec.name} native addon could not be loaded on ${platformTag()}; tried:\n  ` +
      `${tried.join('\n  ')}\n` +
      `Build it from source (needs cmake and a C++17 compiler), in the application's directory: ` +
      `${buildCommand(spec.name)}` +
      (spec.buildHint ? `\n${spec.buildHint}` : ''),
    { syscall: 'init', cause },
  );
}
