import { randomBytes } from 'node:crypto';
import { type DemiConfig, intIn, lazySchema, netnsName, parseOptions } from '@demi/core';

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
  /**
   * IP MTU to set on the port (default: the port's own, 1500 for virtual
   * devices). On net_memif above the 1500 DPDK 22.11's driver reports: a memif
   * link's MTU is whatever both ends set (set the same on both), and a frame
   * must fit one memif buffer: add `bsize=` (at least MTU + 14) to the vdev.
   */
  mtu?: number;
  /** Frames received per native call (default 64). */
  rxBurst?: number;
  /** Frames sent per native call at most (default 128). */
  txSlots?: number;
  /** Descriptors in the RX and TX rings (default 1024 each; drivers may adjust). */
  rxDesc?: number;
  txDesc?: number;
  /** mbufs in the port's pool (default 8191; fewer for MTUs above 1500, the pool's bytes stay ~35 MB). */
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
  /**
   * On a net_memif port: compute and verify no IPv4/TCP/UDP checksums, and tell
   * the stack the device did both. Frames on a memif link are copied through
   * shared memory between two processes, so nothing can corrupt them in flight;
   * both ends must set it (a peer that verifies would drop every frame).
   * Other drivers ignore it (`port.trustedLink` says whether it applies).
   */
  trustedLink?: boolean;
}

// Built, and zod loaded, on first use: an application that opens no device never loads it.
const catnipDeviceSchema = lazySchema((z) =>
  z
    .object({
      ealArgs: z.array(z.string()).min(1, 'leave ealArgs out for the defaults').optional(),
      vdevs: z.array(z.string()).optional(),
      portId: intIn(0, 1023).optional(),
      netns: netnsName().optional(),
      mtu: intIn(68, 9216).optional(),
      rxBurst: intIn(1, 512).optional(),
      txSlots: intIn(1, 1024).optional(),
      rxDesc: intIn(16, 8192).optional(),
      txDesc: intIn(16, 8192).optional(),
      mbufs: intIn(1023, 1 << 20).optional(),
      softwareChecksum: z.boolean().optional(),
      trustedLink: z.boolean().optional(),
      promiscuous: z.boolean().optional(),
    })
    .refine((o) => o.ealArgs === undefined || o.vdevs === undefined || o.vdevs.length === 0, {
      message: 'give either ealArgs (verbatim) or vdevs (added to the default arguments), not both',
    }),
);

/** Checks options in JS, for messages that name the option; native code checks again. */
export function validateOptions(options: CatnipDeviceOptions): CatnipDeviceOptions {
  parseOptions(catnipDeviceSchema(), options, 'catnip device');
  return options;
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
 * tcp_checksum_offload or udp_checksum_offload off; both set true declare the
 * link trusted (on net_memif: no checksums at all, see trustedLink). A configured
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
    trustedLink: stack.tcp_checksum_offload === true && stack.udp_checksum_offload === true,
  };
  if (dpdk.eal_init !== undefined && dpdk.eal_init.length > 0) options.ealArgs = dpdk.eal_init;
  if (dpdk.netns !== undefined) options.netns = dpdk.netns;
  else if (env.DPDK_NETNS) options.netns = env.DPDK_NETNS;
  if (dpdk.vdevs !== undefined && options.ealArgs === undefined) options.vdevs = dpdk.vdevs;
  return options;
}
