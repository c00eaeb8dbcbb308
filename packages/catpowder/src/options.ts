import { type DemiConfig, DemiError, describe } from '@demi/core';

/** How to open a raw Ethernet device. */
export interface RawDeviceOptions {
  /** The Linux interface, e.g. 'eth1' or a veth. */
  interfaceName?: string;
  /** The interface by index, when no name is given. */
  interfaceIndex?: number;
  /** 'af_packet' (default): a TPACKET_V2 ring; 'af_xdp': an XDP socket. */
  mode?: 'af_packet' | 'af_xdp';
  /** AF_XDP attach mode: 'skb' (generic, any driver; default) or 'native' (driver XDP). */
  xdpMode?: 'skb' | 'native';
  /** AF_XDP receive queue (default 0). */
  queue?: number;
  /**
   * Open the device inside this named network namespace (`ip netns add`), from
   * a process that runs elsewhere; needs CAP_SYS_ADMIN. The socket stays in that
   * namespace; the process does not move.
   */
  netns?: string;
  /** Frames per native call (default 64). */
  batchSize?: number;
  /** Frames in the AF_PACKET receive ring (default 4096). */
  ringFrames?: number;
  /**
   * Verify received and fill in sent IPv4/TCP/UDP checksums in native code and
   * report both as offloads to the stack (default true).
   */
  checksumOffload?: boolean;
  /** Receive frames for other MAC addresses too (needed when the stack uses its own MAC). */
  promiscuous?: boolean;
}

const MODES = ['af_packet', 'af_xdp'];
const XDP_MODES = ['skb', 'native'];

/** Checks options in JS, for messages that name the option; native code checks again. */
export function validateOptions(options: RawDeviceOptions): RawDeviceOptions {
  const fail = (what: string): never => {
    throw new DemiError('EINVAL', `catpowder device: ${what}`, { syscall: 'open' });
  };
  if (typeof options !== 'object' || options === null)
    fail(`options must be an object, got ${describe(options)}`);
  const o = options;
  if (
    o.interfaceName !== undefined &&
    (typeof o.interfaceName !== 'string' || !/^[^\s/]{1,15}$/.test(o.interfaceName))
  ) {
    fail(
      `interfaceName must be 1-15 characters without spaces or '/', got ${describe(o.interfaceName)}`,
    );
  }
  if (o.interfaceName === undefined && o.interfaceIndex === undefined) {
    fail(
      'name the interface: raw_socket.interface_name in the config (or RAW_SOCKET_INTERFACE_NAME=eth1)',
    );
  }
  const int = (v: unknown, name: string, min: number, max: number) => {
    if (
      v !== undefined &&
      !(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)
    ) {
      fail(`${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
    }
  };
  int(o.interfaceIndex, 'interfaceIndex', 1, 0x7fffffff);
  int(o.queue, 'queue', 0, 63);
  int(o.batchSize, 'batchSize', 1, 4096);
  int(o.ringFrames, 'ringFrames', 64, 1 << 18);
  if (o.mode !== undefined && !MODES.includes(o.mode))
    fail(`mode must be 'af_packet' or 'af_xdp', got ${describe(o.mode)}`);
  if (o.xdpMode !== undefined && !XDP_MODES.includes(o.xdpMode))
    fail(`xdpMode must be 'skb' or 'native', got ${describe(o.xdpMode)}`);
  if (o.netns !== undefined && (typeof o.netns !== 'string' || !/^[^/\0]{1,200}$/.test(o.netns))) {
    fail(`netns must be a namespace name (as in \`ip netns list\`), got ${describe(o.netns)}`);
  }
  for (const key of ['checksumOffload', 'promiscuous'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      fail(`${key} must be a boolean, got ${describe(o[key])}`);
  }
  return o;
}

/**
 * Device options from the YAML config: raw_socket.interface_name (or
 * linux_interface_name, or RAW_SOCKET_INTERFACE_NAME), raw_socket.mode and
 * xdp_mode. Checksums are done by the device unless inetstack_config turns
 * tcp_checksum_offload or udp_checksum_offload off.
 */
export function optionsFromConfig(config: DemiConfig): RawDeviceOptions {
  const raw = config.raw_socket ?? {};
  const stack = config.inetstack_config ?? {};
  const options: RawDeviceOptions = {
    interfaceName: raw.interface_name ?? raw.linux_interface_name,
    mode: raw.mode,
    xdpMode: raw.xdp_mode,
    checksumOffload: !(
      stack.tcp_checksum_offload === false || stack.udp_checksum_offload === false
    ),
    // A configured MAC of our own is not the interface's: see its frames too.
    promiscuous: config.demikernel?.local_link_addr !== undefined,
  };
  if (options.interfaceName === undefined && raw.xdp_interface_index !== undefined)
    options.interfaceIndex = raw.xdp_interface_index;
  // Not in the schema yet: read defensively so a later schema can add it.
  const netns = (raw as Record<string, unknown>).netns;
  if (typeof netns === 'string') options.netns = netns;
  return options;
}
