import { type DemiConfig, intIn, lazySchema, netnsName, parseOptions } from '@demi/core';

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
  /**
   * AF_PACKET: put a virtio-net header on every frame (PACKET_VNET_HDR), so the
   * kernel finishes TCP checksums and segments TCP frames of up to 64 KiB that
   * the stack hands over whole (reported as `offloads.tso`). Default true for
   * af_packet when `checksumOffload` is on; AF_XDP has no such header and
   * ignores it.
   */
  segmentationOffload?: boolean;
  /**
   * AF_PACKET: receive frames of up to 64 KiB (a kernel peer's TSO/GSO packets on
   * a veth, GRO'd packets of a NIC) instead of dropping what exceeds the MTU.
   * Each ring frame is then 128 KiB and `ringFrames` defaults to 256 (32 MiB of
   * ring). Default false.
   */
  largeReceive?: boolean;
  /** Receive frames for other MAC addresses too (needed when the stack uses its own MAC). */
  promiscuous?: boolean;
}

// Built, and zod loaded, on first use: an application that opens no device never loads it.
const rawDeviceSchema = lazySchema((z) =>
  z
    .object({
      interfaceName: z
        .string()
        .regex(/^[^\s/]{1,15}$/, "1-15 characters without spaces or '/'")
        .optional(),
      interfaceIndex: intIn(1, 0x7fffffff).optional(),
      mode: z.enum(['af_packet', 'af_xdp']).optional(),
      xdpMode: z.enum(['skb', 'native']).optional(),
      queue: intIn(0, 63).optional(),
      netns: netnsName().optional(),
      batchSize: intIn(1, 4096).optional(),
      ringFrames: intIn(64, 1 << 18).optional(),
      checksumOffload: z.boolean().optional(),
      segmentationOffload: z.boolean().optional(),
      largeReceive: z.boolean().optional(),
      promiscuous: z.boolean().optional(),
    })
    .refine((o) => o.interfaceName !== undefined || o.interfaceIndex !== undefined, {
      message:
        'name the interface: raw_socket.interface_name in the config (or RAW_SOCKET_INTERFACE_NAME=eth1)',
    }),
);

/** Checks options in JS, for messages that name the option; native code checks again. */
export function validateOptions(options: RawDeviceOptions): RawDeviceOptions {
  parseOptions(rawDeviceSchema(), options, 'catpowder device');
  return options;
}

/**
 * Device options from the YAML config: raw_socket.interface_name (or
 * linux_interface_name, or RAW_SOCKET_INTERFACE_NAME), raw_socket.mode and
 * xdp_mode. Checksums are done by the device unless inetstack_config turns
 * tcp_checksum_offload or udp_checksum_offload off (which also turns off TCP
 * segmentation offload: it needs the kernel to finish checksums).
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
  if (raw.netns !== undefined) options.netns = raw.netns;
  return options;
}
