import { randomBytes } from 'node:crypto';
import { type DemiConfig, DemiError, describe } from '@demi/core';

/** How to open a DPDK port. */
export interface CatnipDeviceOptions {
  /**
   * rte_eal_init's argv, argv[0] first, passed through verbatim (a first entry
   * starting with '-' gets a program name put in front). Without it catnip uses
   * {@link defaultEalArgs} plus `vdevs`: DPDK's virtual devices, no hugepages.
   */
  ealArgs?: readonly string[];
  /** Virtual devices for the default arguments, e.g. 'net_af_packet0,iface=veth0'. */
  vdevs?: readonly string[];
  /**
   * The ethdev port. Default: the port of the first --vdev in the EAL
   * arguments, else 0.
   */
  portId?: number;
  /**
   * Probe devices and configure the port inside this named network namespace
   * (`ip netns add`); the process stays where it is. Needs CAP_SYS_ADMIN.
   */
  netns?: string;
  /** IP MTU to set on the port (default: the port's own, 1500 for virtual devices). */
  mtu?: number;
  /** Frames received per native call (default 64). */
  rxBurst?: number;
  /** Frames sent per native call at most (default 128). */
  txSlots?: number;
  /** Descriptors in the RX and TX rings (default 1024 each; drivers may adjust). */
  rxDesc?: number;
  txDesc?: number;
  /** mbufs in the port's pool (default 8191). */
  mbufs?: number;
  /**
   * Verify received and fill in sent IPv4/TCP/UDP checksums below the stack:
   * with the driver's offloads where it has them, in native code otherwise,
   * and report both to the stack as device offloads (default true). With
   * false, only complete driver offloads are reported and the stack does the rest.
   */
  softwareChecksum?: boolean;
  /** Receive frames for every MAC address (for a stack MAC other than the port's). */
  promiscuous?: boolean;
}

/** Checks options in JS, for messages that name the option; native code checks again. */
export function validateOptions(options: CatnipDeviceOptions): CatnipDeviceOptions {
  const fail = (what: string): never => {
    throw new DemiError('EINVAL', `catnip device: ${what}`, { syscall: 'open' });
  };
  if (typeof options !== 'object' || options === null)
    fail(`options must be an object, got ${describe(options)}`);
  const o = options;
  const strings = (v: unknown, name: string) => {
    if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
      fail(`${name} must be an array of strings, got ${describe(v)}`);
    }
  };
  strings(o.ealArgs, 'ealArgs');
  strings(o.vdevs, 'vdevs');
  if (o.ealArgs !== undefined && o.vdevs !== undefined && o.vdevs.length > 0) {
    fail('give either ealArgs (verbatim) or vdevs (added to the default arguments), not both');
  }
  if (o.ealArgs?.length === 0) fail('ealArgs must not be empty (leave it out for the defaults)');
  const int = (v: unknown, name: string, min: number, max: number) => {
    if (
      v !== undefined &&
      !(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)
    ) {
      fail(`${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
    }
  };
  int(o.portId, 'portId', 0, 1023);
  int(o.mtu, 'mtu', 68, 9216);
  int(o.rxBurst, 'rxBurst', 1, 512);
  int(o.txSlots, 'txSlots', 1, 1024);
  int(o.rxDesc, 'rxDesc', 16, 8192);
  int(o.txDesc, 'txDesc', 16, 8192);
  int(o.mbufs, 'mbufs', 1023, 1 << 20);
  if (o.netns !== undefined && (typeof o.netns !== 'string' || !/^[^/\0]{1,200}$/.test(o.netns))) {
    fail(`netns must be a namespace name (as in \`ip netns list\`), got ${describe(o.netns)}`);
  }
  for (const key of ['softwareChecksum', 'promiscuous'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      fail(`${key} must be a boolean, got ${describe(o[key])}`);
  }
  return o;
}

/**
 * One --file-prefix per process: every catnip instance in a process shares the
 * EAL (so the same arguments), and processes never collide.
 */
const FILE_PREFIX = `demi-catnip-${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * EAL arguments for DPDK's virtual devices on a machine without hugepages or
 * NICs bound to DPDK: anonymous memory (--no-huge, 128 MiB), no PCI scan, no
 * shared config or telemetry socket (so several DPDK processes coexist), main
 * lcore 0 (catnip gives Node's thread its CPUs back after start-up).
 */
export function defaultEalArgs(vdevs: readonly string[] = []): string[] {
  return [
    'demi-catnip',
    '--no-huge',
    '--no-pci',
    '-m',
    '128',
    '--no-shconf',
    '--no-telemetry',
    '-l',
    '0',
    '--file-prefix',
    FILE_PREFIX,
    ...vdevs.flatMap((v) => ['--vdev', v]),
  ];
}

/** The argv for rte_eal_init, and whether it is catnip's own (then Node's thread is unpinned). */
export function ealArgv(options: CatnipDeviceOptions): { args: string[]; defaults: boolean } {
  if (options.ealArgs === undefined) return { args: defaultEalArgs(options.vdevs), defaults: true };
  const args = [...options.ealArgs];
  if (args[0]?.startsWith('-')) args.unshift('demi-catnip');
  return { args, defaults: false };
}

/**
 * Device options from the YAML config: dpdk.eal_init (verbatim; Demikernel's
 * convention puts argv[0] first) and dpdk.port_id, inetstack_config.mtu, and
 * checksums done below the stack unless inetstack_config turns
 * tcp_checksum_offload or udp_checksum_offload off. A configured
 * demikernel.local_link_addr is the stack's own MAC, so the port is promiscuous.
 */
export function optionsFromConfig(
  config: DemiConfig,
  env: NodeJS.ProcessEnv = process.env,
): CatnipDeviceOptions {
  const dpdk = config.dpdk ?? {};
  const stack = config.inetstack_config ?? {};
  const options: CatnipDeviceOptions = {
    portId: dpdk.port_id,
    mtu: stack.mtu,
    softwareChecksum: !(
      stack.tcp_checksum_offload === false || stack.udp_checksum_offload === false
    ),
    promiscuous: config.demikernel?.local_link_addr !== undefined,
  };
  if (dpdk.eal_init !== undefined && dpdk.eal_init.length > 0) options.ealArgs = dpdk.eal_init;
  // Not in the schema yet: read defensively so a later schema can add them.
  const extra = dpdk as Record<string, unknown>;
  if (typeof extra.netns === 'string') options.netns = extra.netns;
  else if (env.DPDK_NETNS) options.netns = env.DPDK_NETNS;
  if (Array.isArray(extra.vdevs) && options.ealArgs === undefined) {
    options.vdevs = extra.vdevs.filter((v): v is string => typeof v === 'string');
  }
  return options;
}
