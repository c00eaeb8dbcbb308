import { readFileSync } from 'node:fs';
import type { z as Zod } from 'zod';
import { DemiError } from './errors.js';
import { lazySchema, loadYaml, loadZod } from './libraries.js';
import { MAX_SGA_SIZE } from './validate.js';

/**
 * The YAML configuration: Demikernel's keys where they apply, plus a section per
 * backend for demi's own. Every section and key is optional; unknown keys are
 * errors, so a typo never silently falls back to a default.
 *
 * The schema is built (and zod loaded) only when there is something to check:
 * a config file, a config object with keys, or an environment variable that
 * may override a key (one starting with a section's name).
 */

/** The config's sections; `buildConfigSchema` has exactly these (a test checks). */
export const CONFIG_SECTIONS = [
  'demikernel',
  'raw_socket',
  'dpdk',
  'tcp_socket_options',
  'inetstack_config',
  'catnap',
  'catmem',
  'catloop',
] as const;

function buildConfigSchema(zod: typeof Zod) {
  // Named apart from the type-only import, which declaration bundling renames to `z`.
  const z = zod;
  const netnsName = z.string().regex(/^[^/\0]{1,200}$/, 'a network namespace name');
  const ipv4 = z
    .string()
    .regex(
      /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
      'a dotted IPv4 address such as 10.0.0.1',
    );
  const mac = z
    .string()
    .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'a MAC address such as 02:00:00:00:00:01');
  const port = z.number().int().min(0).max(65535);
  const positive = z.number().int().positive();

  return z
    .object({
      demikernel: z
        .object({
          local_ipv4_addr: ipv4.optional(),
          local_link_addr: mac.optional(),
          prefix_length: z.number().int().min(0).max(32).optional(),
          gateway: ipv4.optional(),
        })
        .strict()
        .optional(),
      raw_socket: z
        .object({
          interface_name: z.string().min(1).max(15).optional(),
          /** Demikernel's spelling of interface_name. */
          linux_interface_name: z.string().min(1).max(15).optional(),
          mode: z.enum(['af_packet', 'af_xdp']).optional(),
          xdp_mode: z.enum(['skb', 'native']).optional(),
          xdp_interface_index: z.number().int().min(0).optional(),
          /** Open the interface inside this network namespace (`ip netns add`). */
          netns: netnsName.optional(),
        })
        .strict()
        .optional(),
      dpdk: z
        .object({
          /** Passed to rte_eal_init verbatim (argv[0] first, as Demikernel's). */
          eal_init: z.array(z.string()).optional(),
          port_id: z.number().int().min(0).optional(),
          /** Virtual devices added to the default hugepage-less EAL arguments when eal_init is absent. */
          vdevs: z.array(z.string().min(1)).optional(),
          /** Open the port inside this network namespace. */
          netns: netnsName.optional(),
        })
        .strict()
        .optional(),
      tcp_socket_options: z
        .object({
          keepalive: z
            .object({
              enabled: z.boolean(),
              time_millis: z.number().int().min(0).optional(),
              interval: z.number().int().min(0).optional(),
            })
            .strict()
            .optional(),
          linger: z
            .object({ enabled: z.boolean(), time_seconds: z.number().int().min(0).optional() })
            .strict()
            .optional(),
          nodelay: z.boolean().optional(),
        })
        .strict()
        .optional(),
      inetstack_config: z
        .object({
          mtu: z.number().int().min(576).max(9216).optional(),
          mss: z.number().int().min(88).max(9176).optional(),
          enable_jumbo_frames: z.boolean().optional(),
          arp_table: z.record(mac, ipv4).optional(),
          arp_request_retries: z.number().int().min(0).max(100).optional(),
          arp_request_timeout: positive.optional(),
          arp_cache_ttl: positive.optional(),
          arp_disable: z.boolean().optional(),
          udp_checksum_offload: z.boolean().optional(),
          tcp_checksum_offload: z.boolean().optional(),
          congestion_control: z.enum(['cubic', 'newreno', 'none']).optional(),
          tcp_retries: z.number().int().min(1).max(64).optional(),
          receive_window: positive.optional(),
        })
        .strict()
        .optional(),
      catnap: z
        .object({
          pop_size: positive.max(MAX_SGA_SIZE).optional(),
          wake_spin_us: z.number().int().min(0).max(1000).optional(),
        })
        .strict()
        .optional(),
      catmem: z
        .object({ ring_size: positive.optional(), directory: z.string().optional() })
        .strict()
        .optional(),
      catloop: z
        .object({ ring_size: positive.optional(), first_ephemeral_port: port.optional() })
        .strict()
        .optional(),
    })
    .strict();
}

/** The config's zod schema (built, and zod loaded, on the first call). */
export const configSchema = lazySchema(buildConfigSchema);

export type DemiConfig = Zod.infer<ReturnType<typeof buildConfigSchema>>;

/** Where a configuration came from, for messages. */
export interface LoadedConfig {
  config: DemiConfig;
  source: string;
}

/**
 * Loads the configuration: `source` (a path or an object) if given, else the file
 * named by DEMI_CONFIG, else CONFIG_PATH, else an empty configuration. Scalar keys
 * are then overridden from upper-case environment variables naming their path
 * (`INETSTACK_CONFIG_MTU=9000`, `RAW_SOCKET_INTERFACE_NAME=veth0`).
 */
export function loadConfig(
  source?: string | DemiConfig,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  let raw: unknown = {};
  let where = 'defaults';
  const path =
    typeof source === 'string'
      ? source
      : source === undefined
        ? (env.DEMI_CONFIG ?? env.CONFIG_PATH)
        : undefined;
  if (path !== undefined && path !== '') {
    where = path;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ENOENT';
      throw new DemiError(
        code === 'ENOENT' ? 'ENOENT' : 'EINVAL',
        `cannot read config file ${path}: ${(err as Error).message}`,
        { syscall: 'init', cause: err },
      );
    }
    try {
      raw = loadYaml().parse(text) ?? {};
    } catch (err) {
      throw new DemiError(
        'EINVAL',
        `config file ${path} is not valid YAML: ${(err as Error).message}`,
        { syscall: 'init', cause: err },
      );
    }
  } else if (typeof source === 'object' && source !== null) {
    raw = structuredClone(source);
    where = 'options.config';
  }
  if (isEmptyObject(raw) && !mayOverride(env)) return { config: {}, source: where };
  applyEnvOverrides(raw, env);
  const parsed = configSchema().safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(top level)';
      const extra =
        issue.code === 'unrecognized_keys'
          ? `unknown key(s) ${issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')}`
          : issue.message;
      return `${key}: ${extra}`;
    });
    throw new DemiError(
      'EINVAL',
      `invalid configuration in ${where}:\n  ${problems.join('\n  ')}`,
      { syscall: 'init' },
    );
  }
  return { config: parsed.data, source: where };
}

function isEmptyObject(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  for (const _ in raw) return false;
  return Object.getOwnPropertySymbols(raw).length === 0;
}

/** Whether some environment variable could override a key: its name starts with a section's. */
function mayOverride(env: NodeJS.ProcessEnv): boolean {
  for (const name in env) {
    if (env[name] === undefined || env[name] === '') continue;
    for (const section of CONFIG_SECTIONS) {
      if (
        name.length > section.length &&
        name[section.length] === '_' &&
        name.startsWith(section.toUpperCase())
      )
        return true;
    }
  }
  return false;
}

/** Every scalar key the schema knows, as [section, key] pairs. */
function scalarKeys(): Array<[string, string, Zod.ZodType]> {
  const z = loadZod();
  const out: Array<[string, string, Zod.ZodType]> = [];
  for (const [section, sectionSchema] of Object.entries(configSchema().shape)) {
    const inner = (sectionSchema as Zod.ZodOptional<Zod.ZodObject>).unwrap();
    for (const [key, keySchema] of Object.entries(inner.shape)) {
      const base = keySchema instanceof z.ZodOptional ? keySchema.unwrap() : keySchema;
      if (
        base instanceof z.ZodString ||
        base instanceof z.ZodNumber ||
        base instanceof z.ZodBoolean ||
        base instanceof z.ZodEnum
      ) {
        out.push([section, key, base as Zod.ZodType]);
      }
    }
  }
  return out;
}

function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
  const z = loadZod();
  const root = raw as Record<string, Record<string, unknown>>;
  for (const [section, key, schema] of scalarKeys()) {
    const value = env[`${section}_${key}`.toUpperCase()];
    if (value === undefined || value === '') continue;
    let typed: unknown = value;
    if (schema instanceof z.ZodNumber) typed = Number(value);
    else if (schema instanceof z.ZodBoolean)
      typed =
        value === 'true' || value === '1'
          ? true
          : value === 'false' || value === '0'
            ? false
            : value;
    root[section] = { ...(root[section] ?? {}), [key]: typed };
  }
}

/** Names of the environment variables that override scalar keys (for docs and tools). */
export function configEnvNames(): string[] {
  return scalarKeys().map(([section, key]) => `${section}_${key}`.toUpperCase());
}
