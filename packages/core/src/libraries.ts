import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { z } from 'zod';

/**
 * The schema and YAML libraries, loaded on first use. Compiling zod and yaml
 * costs a process ~20 MiB of RSS, so an application that passes no options
 * or config file to validate never loads them (`require`, so the callers stay
 * synchronous; both packages ship CommonJS).
 */
const load = createRequire(import.meta.url);

let zodLibrary: typeof z | undefined;
let yamlLibrary: typeof Yaml | undefined;

/** zod's `z`, loaded now if nothing loaded it yet. */
export function loadZod(): typeof z {
  zodLibrary ??= (load('zod') as { z: typeof z }).z;
  return zodLibrary;
}

/** The `yaml` package, loaded now if nothing loaded it yet. */
export function loadYaml(): typeof Yaml {
  yamlLibrary ??= load('yaml') as typeof Yaml;
  return yamlLibrary;
}

/**
 * A schema built on first use, then kept: `const schema = lazySchema((z) => z.object({…}))`
 * at module level costs nothing until `schema()` is called.
 */
export function lazySchema<S>(build: (zod: typeof z) => S): () => S {
  let schema: S | undefined;
  return () => {
    schema ??= build(loadZod());
    return schema;
  };
}
