import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type DemiConfig, loadConfig } from './config.js';
import { DemiError } from './errors.js';
import type { LibOS } from './types.js';

export interface InitOptions {
  /**
   * The LibOS to load; else DEMI_LIBOS, else LIBOS, else the only one the application
   * depends on (its nearest package.json), else catnap among them.
   */
  libos?: string;
  /** A YAML file path or a configuration object; else DEMI_CONFIG, else CONFIG_PATH. */
  config?: string | DemiConfig;
  env?: NodeJS.ProcessEnv;
}

/** What a LibOS package's loader receives. */
export interface LoaderContext {
  config: DemiConfig;
  configSource: string;
  env: NodeJS.ProcessEnv;
}

export type LibOSLoader = (context: LoaderContext) => LibOS | Promise<LibOS>;

/** Every LibOS this project ships, each in its own package `@demi/<name>`. */
export const KNOWN_LIBOSES = ['catnap', 'catmem', 'catloop', 'catpowder', 'catnip'] as const;

const loaders = new Map<string, LibOSLoader>();
const requireHere = createRequire(import.meta.url);

/** Adds (or replaces) a LibOS under `name`; out-of-tree backends register this way. */
export function register(name: string, loader: LibOSLoader): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(name)) {
    throw new DemiError(
      'EINVAL',
      `LibOS name must be lower-case letters, digits, '-' or '_', got ${JSON.stringify(name)}`,
      { syscall: 'register' },
    );
  }
  if (typeof loader !== 'function')
    throw new DemiError('EINVAL', 'loader must be a function', { syscall: 'register' });
  loaders.set(name, loader);
}

export function registeredNames(): string[] {
  return [...new Set([...KNOWN_LIBOSES, ...loaders.keys()])];
}

/** The shipped LibOS packages that can be loaded from here. */
export function installedLibOSes(): string[] {
  return KNOWN_LIBOSES.filter((name) => {
    try {
      requireHere.resolve(`@demi/${name}/package.json`);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The shipped LibOSes the application names in the nearest package.json at or above
 * `cwd` (its dependencies of every kind, and itself when it is a LibOS package).
 * A LibOS present only as another package's dependency (catmem under catloop) is
 * not the application's choice. Undefined when there is no package.json.
 */
export function appLibOSes(cwd: string = process.cwd()): string[] | undefined {
  let dir = cwd;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      let manifest: Record<string, unknown>;
      try {
        manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      const names = new Set<string>([String(manifest.name ?? '')]);
      for (const field of [
        'dependencies',
        'devDependencies',
        'optionalDependencies',
        'peerDependencies',
      ]) {
        for (const dep of Object.keys((manifest[field] as object | undefined) ?? {}))
          names.add(dep);
      }
      return KNOWN_LIBOSES.filter((name) => names.has(`@demi/${name}`));
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The LibOSes init() chooses among when none is named: the app's own, else every installed one. */
export function candidateLibOSes(cwd: string = process.cwd()): string[] {
  const installed = installedLibOSes();
  const declared = appLibOSes(cwd);
  const shipped = declared !== undefined && declared.length > 0 ? declared : installed;
  return [...new Set([...shipped, ...loaders.keys()])];
}

/** Picks the LibOS name from options and the environment, per the rules above. */
export function chooseLibOS(options: InitOptions = {}): string {
  const env = options.env ?? process.env;
  const asked = options.libos ?? env.DEMI_LIBOS ?? env.LIBOS;
  if (asked !== undefined && asked !== '') {
    const name = asked.toLowerCase();
    if (!registeredNames().includes(name)) {
      throw new DemiError(
        'EINVAL',
        `unknown LibOS ${JSON.stringify(asked)}; known: ${registeredNames().join(', ')}`,
        { syscall: 'init' },
      );
    }
    return name;
  }
  const candidates = candidateLibOSes();
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.includes('catnap')) return 'catnap';
  if (candidates.length === 0) {
    throw new DemiError(
      'ENOENT',
      'no LibOS is installed; install one, e.g. `npm install @demi/catnap` (kernel sockets)',
      { syscall: 'init' },
    );
  }
  throw new DemiError(
    'EINVAL',
    `this application depends on several LibOSes (${candidates.join(', ')}); choose one with DEMI_LIBOS=<name>`,
    { syscall: 'init' },
  );
}

/**
 * Creates a LibOS. Each call makes a new, independent instance, so several
 * LibOSes (or several instances of one) can run in one process.
 */
export async function init(options: InitOptions = {}): Promise<LibOS> {
  const env = options.env ?? process.env;
  const name = chooseLibOS(options);
  const { config, source } = loadConfig(options.config, env);
  const loader = loaders.get(name) ?? (await packageLoader(name));
  return loader({ config, configSource: source, env });
}

async function packageLoader(name: string): Promise<LibOSLoader> {
  const pkg = `@demi/${name}`;
  let mod: { createLibOS?: LibOSLoader };
  try {
    mod = await import(pkg);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((err as Error).message).includes(pkg)
    ) {
      const installed = installedLibOSes();
      throw new DemiError(
        'ENOENT',
        `LibOS '${name}' is not installed. Install it with: npm install ${pkg}` +
          (installed.length > 0
            ? ` (installed: ${installed.join(', ')})`
            : ' (no LibOS is installed)'),
        { syscall: 'init', cause: err },
      );
    }
    throw err instanceof DemiError
      ? err
      : new DemiError('EINVAL', `LibOS '${name}' failed to load: ${(err as Error).message}`, {
          syscall: 'init',
          cause: err,
        });
  }
  if (typeof mod.createLibOS !== 'function') {
    throw new DemiError('EINVAL', `${pkg} does not export createLibOS()`, { syscall: 'init' });
  }
  return mod.createLibOS;
}
