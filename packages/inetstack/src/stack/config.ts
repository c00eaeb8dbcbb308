import type { FrameDevice } from '../device/device.js';
import { parseIPv4, parseMac } from '../util/addr.js';

export type CongestionControlName = 'cubic' | 'newreno' | 'none';

export interface ArpConfig {
  /** Requests re-sent after the first before giving up. */
  retries: number;
  requestTimeoutMs: number;
  /** How long a learned entry is trusted before it is re-resolved (in the background). */
  cacheTtlMs: number;
  /** Entries that never expire: [ip, mac]. */
  staticEntries: Array<[number, Uint8Array]>;
  /** Send no requests: only static entries and what peers announce. */
  disabled: boolean;
  /** Packets held per unresolved address. */
  queueLimit: number;
  /** Learned entries kept at most (the oldest is forgotten first). */
  cacheLimit: number;
  /** Addresses being resolved at once; packets for further ones are dropped (ENOBUFS). */
  pendingLimit: number;
  /** Packets held across every address being resolved. */
  queuedLimit: number;
}

export interface IpConfig {
  ttl: number;
  reassemblyTimeoutMs: number;
  /** Bytes held across all datagrams being reassembled (buffers plus a fixed cost each), as Linux's ipfrag_high_thresh. */
  reassemblyMaxBytes: number;
  /** Datagrams in progress at most. */
  reassemblyMaxDatagrams: number;
}

export interface UdpConfig {
  /** Datagrams queued per socket before new ones are dropped. */
  queueLimit: number;
}

export interface TcpConfig {
  /** MSS we advertise (clamped to MTU - 40). */
  mss: number;
  congestionControl: CongestionControlName;
  /** Retransmissions of one segment before the connection fails with ETIMEDOUT. */
  retries: number;
  /** Retransmissions of a SYN before connect fails with ETIMEDOUT. */
  synRetries: number;
  /** Bytes a connection buffers for the application (its largest receive window). */
  receiveBuffer: number;
  sendBuffer: number;
  nodelay: boolean;
  keepalive: { enabled: boolean; idleMs: number; intervalMs: number; probes: number };
  linger: { enabled: boolean; seconds: number };
  timestamps: boolean;
  sack: boolean;
  windowScaling: boolean;
  /** Probe a possibly lost tail before the RTO (RFC 8985 7). */
  tailLossProbe: boolean;
  delayedAckMs: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Maximum segment lifetime; TIME_WAIT lasts twice this. */
  mslMs: number;
  /** How long an orphaned connection may sit in FIN_WAIT_2. */
  finWait2TimeoutMs: number;
  /** Largest listen backlog honoured (connections established and waiting for accept). */
  maxBacklog: number;
  /** Half-open connections (SYN-RECEIVED) a listener holds, apart from its backlog. */
  synBacklog: number;
  /** Answer SYNs with SYN cookies (no state) while the SYN queue is full; else drop them. */
  synCookies: boolean;
  /** Out-of-order ranges held per connection. */
  maxOooRanges: number;
}

export interface StackConfig {
  ipv4: number;
  mac: Uint8Array;
  prefixLength: number;
  gateway: number | undefined;
  mtu: number;
  arp: ArpConfig;
  ip: IpConfig;
  udp: UdpConfig;
  tcp: TcpConfig;
  /** Skip computing and verifying these checksums (the device or the path is trusted). */
  checksumOffload: { udp: boolean; tcp: boolean };
  /**
   * The largest IPv4 datagram TCP hands the device in one frame for it to
   * segment (its `offloads.tso`, at most 65535); 0: one segment per frame.
   */
  tso: number;
}

export interface StackConfigInput {
  ipv4: string | number;
  /** Our MAC; the device's when absent. */
  mac?: string | Uint8Array;
  prefixLength?: number;
  gateway?: string | number;
  /** IP MTU; at most the device's. */
  mtu?: number;
  arp?: Partial<Omit<ArpConfig, 'staticEntries'>> & {
    table?: Record<string, string> | Array<[string, string]>;
  };
  ip?: Partial<IpConfig>;
  udp?: Partial<UdpConfig>;
  tcp?: Partial<Omit<TcpConfig, 'keepalive' | 'linger'>> & {
    keepalive?: Partial<TcpConfig['keepalive']>;
    linger?: Partial<TcpConfig['linger']>;
  };
  checksumOffload?: Partial<StackConfig['checksumOffload']>;
  /** Use the device's TCP segmentation offload when it has one (default true). */
  segmentationOffload?: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function ip(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new ConfigError(`${what}: not an IPv4 address: ${value}`);
    return value >>> 0;
  }
  const parsed = parseIPv4(value);
  if (parsed === undefined)
    throw new ConfigError(`${what}: not a dotted IPv4 address: ${JSON.stringify(value)}`);
  return parsed;
}

function mac(value: string | Uint8Array, what: string): Uint8Array {
  if (typeof value !== 'string') {
    if (value.byteLength !== 6) throw new ConfigError(`${what}: a MAC is 6 bytes`);
    return Uint8Array.from(value);
  }
  const parsed = parseMac(value);
  if (parsed === undefined)
    throw new ConfigError(`${what}: not a MAC address: ${JSON.stringify(value)}`);
  return parsed;
}

function int(
  value: number | undefined,
  fallback: number,
  what: string,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max)
    throw new ConfigError(`${what} must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** Fills defaults and checks ranges; throws ConfigError naming the bad key. */
export function resolveStackConfig(input: StackConfigInput, device: FrameDevice): StackConfig {
  const mtu = Math.min(int(input.mtu, device.mtu, 'mtu', 68, 65535), device.mtu);
  const arpTable = input.arp?.table ?? [];
  const entries = Array.isArray(arpTable) ? arpTable : Object.entries(arpTable);
  const staticEntries: Array<[number, Uint8Array]> = entries.map(([a, b]) => {
    // Demikernel's arp_table maps MAC -> IP; accept either order.
    const first = parseMac(a);
    return first !== undefined
      ? [ip(b, 'arp table'), first]
      : [ip(a, 'arp table'), mac(b, 'arp table')];
  });
  const t = input.tcp ?? {};
  const maxMss = mtu - 40;
  return {
    ipv4: ip(input.ipv4, 'ipv4'),
    mac: input.mac === undefined ? Uint8Array.from(device.mac) : mac(input.mac, 'mac'),
    prefixLength: int(input.prefixLength, 24, 'prefixLength', 0, 32),
    gateway: input.gateway === undefined ? undefined : ip(input.gateway, 'gateway'),
    mtu,
    arp: {
      retries: int(input.arp?.retries, 3, 'arp.retries', 0, 100),
      requestTimeoutMs: int(
        input.arp?.requestTimeoutMs,
        1000,
        'arp.requestTimeoutMs',
        1,
        3_600_000,
      ),
      cacheTtlMs: int(input.arp?.cacheTtlMs, 60_000, 'arp.cacheTtlMs', 1, 365 * 86_400_000),
      staticEntries,
      disabled: input.arp?.disabled ?? false,
      queueLimit: int(input.arp?.queueLimit, 64, 'arp.queueLimit', 1, 1 << 16),
      cacheLimit: int(input.arp?.cacheLimit, 1024, 'arp.cacheLimit', 1, 1 << 20),
      pendingLimit: int(input.arp?.pendingLimit, 256, 'arp.pendingLimit', 1, 1 << 16),
      queuedLimit: int(input.arp?.queuedLimit, 1024, 'arp.queuedLimit', 1, 1 << 20),
    },
    ip: {
      ttl: int(input.ip?.ttl, 64, 'ip.ttl', 1, 255),
      reassemblyTimeoutMs: int(
        input.ip?.reassemblyTimeoutMs,
        30_000,
        'ip.reassemblyTimeoutMs',
        1,
        3_600_000,
      ),
      reassemblyMaxBytes: int(
        input.ip?.reassemblyMaxBytes,
        4 << 20,
        'ip.reassemblyMaxBytes',
        0,
        1 << 30,
      ),
      reassemblyMaxDatagrams: int(
        input.ip?.reassemblyMaxDatagrams,
        4096,
        'ip.reassemblyMaxDatagrams',
        0,
        1 << 16,
      ),
    },
    udp: { queueLimit: int(input.udp?.queueLimit, 1024, 'udp.queueLimit', 1, 1 << 20) },
    tcp: {
      mss: Math.min(int(t.mss, maxMss, 'tcp.mss', 88, 65535), maxMss),
      congestionControl: t.congestionControl ?? 'cubic',
      retries: int(t.retries, 12, 'tcp.retries', 1, 64),
      synRetries: int(t.synRetries, 6, 'tcp.synRetries', 0, 64),
      receiveBuffer: int(t.receiveBuffer, 1 << 20, 'tcp.receiveBuffer', 512, 1 << 30),
      sendBuffer: int(t.sendBuffer, 1 << 20, 'tcp.sendBuffer', 512, 1 << 30),
      nodelay: t.nodelay ?? true,
      keepalive: {
        enabled: t.keepalive?.enabled ?? false,
        idleMs: int(t.keepalive?.idleMs, 7_200_000, 'tcp.keepalive.idleMs', 1, 2 ** 31),
        intervalMs: int(t.keepalive?.intervalMs, 75_000, 'tcp.keepalive.intervalMs', 1, 2 ** 31),
        probes: int(t.keepalive?.probes, 9, 'tcp.keepalive.probes', 1, 255),
      },
      linger: {
        enabled: t.linger?.enabled ?? false,
        seconds: int(t.linger?.seconds, 0, 'tcp.linger.seconds', 0, 65535),
      },
      timestamps: t.timestamps ?? true,
      sack: t.sack ?? true,
      windowScaling: t.windowScaling ?? true,
      tailLossProbe: t.tailLossProbe ?? true,
      delayedAckMs: int(t.delayedAckMs, 40, 'tcp.delayedAckMs', 0, 500),
      initialRtoMs: int(t.initialRtoMs, 1000, 'tcp.initialRtoMs', 1, 600_000),
      minRtoMs: int(t.minRtoMs, 200, 'tcp.minRtoMs', 1, 600_000),
      maxRtoMs: int(t.maxRtoMs, 60_000, 'tcp.maxRtoMs', 1, 3_600_000),
      mslMs: int(t.mslMs, 30_000, 'tcp.mslMs', 0, 3_600_000),
      finWait2TimeoutMs: int(t.finWait2TimeoutMs, 60_000, 'tcp.finWait2TimeoutMs', 1, 3_600_000),
      maxBacklog: int(t.maxBacklog, 4096, 'tcp.maxBacklog', 1, 1 << 20),
      synBacklog: int(t.synBacklog, 256, 'tcp.synBacklog', 1, 1 << 20),
      synCookies: t.synCookies ?? true,
      maxOooRanges: int(t.maxOooRanges, 32, 'tcp.maxOooRanges', 1, 1024),
    },
    checksumOffload: {
      udp: input.checksumOffload?.udp ?? false,
      tcp: input.checksumOffload?.tcp ?? false,
    },
    tso: tsoLimit(input, device, mtu),
  };
}

/** Segmentation offload only pays (and only makes sense) for datagrams above the MTU. */
function tsoLimit(input: StackConfigInput, device: FrameDevice, mtu: number): number {
  const tso = Math.min(device.offloads.tso ?? 0, 65535);
  if (input.segmentationOffload === false || !(tso > mtu) || mtu !== device.mtu) return 0;
  return Math.floor(tso);
}
