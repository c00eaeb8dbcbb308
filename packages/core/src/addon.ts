import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemiError } from './errors.js';

/** Where a package's native addon lives and what to tell the user when it is not there. */
export interface AddonSpec {
  /** The addon is build/{Release,Debug}/demi_<name>.node at the package root. */
  name: string;
  /** import.meta.url of a module in the package's src/ or dist/ (both sit beside build/). */
  fromUrl: string;
  /** An environment variable naming a built .node to try before the package's own build. */
  envVar?: string;
  /** Appended to the error: how to build the addon. */
  buildHint: string;
  /** The error code when nothing loads (default ENOENT). */
  code?: string;
  env?: NodeJS.ProcessEnv;
}

/** The paths loadAddon tries, in order: the env override (if set), then Release, then Debug. */
export function addonPaths(spec: AddonSpec): string[] {
  const env = spec.env ?? process.env;
  const out: string[] = [];
  const fromEnv = spec.envVar === undefined ? undefined : env[spec.envVar];
  if (fromEnv !== undefined && fromEnv !== '') out.push(fromEnv);
  for (const build of ['Release', 'Debug']) {
    out.push(fileURLToPath(new URL(`../build/${build}/demi_${spec.name}.node`, spec.fromUrl)));
  }
  return out;
}

/**
 * Loads the first of addonPaths() that exists and loads; otherwise throws a DemiError
 * listing every path tried (and why each failed) followed by the build hint.
 */
export function loadAddon<T>(spec: AddonSpec): T {
  const require = createRequire(spec.fromUrl);
  const tried: string[] = [];
  let cause: unknown;
  for (const path of addonPaths(spec)) {
    if (!existsSync(path)) {
      tried.push(`${path} (missing)`);
      continue;
    }
    try {
      return require(path) as T;
    } catch (err) {
      cause = err;
      tried.push(`${path} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  throw new DemiError(
    spec.code ?? 'ENOENT',
    `the ${spec.name} native addon could not be loaded; tried:\n  ${tried.join('\n  ')}\n${spec.buildHint}`,
    { syscall: 'init', cause },
  );
}
