import { ManualClock } from '../../src/device/clock.js';
import {
  type MemoryDevice,
  MemoryLink,
  type MemoryLinkOptions,
} from '../../src/device/memory-link.js';
import type { StackConfigInput } from '../../src/stack/config.js';
import { InetStack } from '../../src/stack/inet-stack.js';
import { failOnInternalErrors } from '../../src/testing/internal-errors.js';
import { parseIPv4, parseMac } from '../../src/util/addr.js';
import { SeededRandom } from '../../src/util/random.js';
import {
  type ArpRepr,
  ArpView,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetView,
  emitArp,
  emitEthernet,
  emitIcmp,
  emitIpv4,
  emitTcp,
  emitUdp,
  type IcmpRepr,
  IcmpView,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Ipv4Repr,
  Ipv4View,
  parseArp,
  parseIcmp,
  parseIpv4,
  parseTcp,
  parseUdp,
  TcpOptions,
  type TcpRepr,
  TcpView,
  type UdpRepr,
  UdpView,
} from '../../src/wire/index.js';

/** Every harness's stack must end each test with no swallowed exception. */
const track = failOnInternalErrors();

export const STACK_IP = '10.0.0.1';
export const STACK_MAC = '02:00:00:00:00:01';
export const PEER_IP = '10.0.0.2';
export const PEER_MAC = '02:00:00:00:00:02';
export const ip = (s: string): number => parseIPv4(s)!;
export const mac = (s: string): Uint8Array => parseMac(s)!;

/** What the stack sent, parsed. */
export interface Sent {
  frame: Uint8Array;
  dst: Uint8Array;
  etherType: number;
  arp?: ArpRepr;
  ip?: Ipv4Repr;
  ipChecksumOk?: boolean;
  tcp?: TcpRepr;
  tcpChecksumOk?: boolean;
  udp?: UdpRepr;
  icmp?: IcmpRepr;
}

/**
 * One stack on a link whose other end the test holds: frames go in exactly as
 * written, and every frame the stack emits is captured and parsed.
 */
export class Harness {
  readonly clock = new ManualClock(1000);
  readonly link: MemoryLink;
  readonly dev: MemoryDevice;
  readonly peer: MemoryDevice;
  readonly stack: InetStack;
  readonly errors: unknown[] = [];

  constructor(
    config: Partial<StackConfigInput> = {},
    linkOptions: MemoryLinkOptions = {},
    seed = 1,
  ) {
    this.link = new MemoryLink(linkOptions);
    this.dev = this.link.attach(STACK_MAC);
    this.peer = this.link.attach(PEER_MAC);
    this.stack = new InetStack({
      device: this.dev,
      clock: this.clock,
      random: new SeededRandom(seed),
      config: { ipv4: STACK_IP, ...config },
      onInternalError: (e) => this.errors.push(e),
    });
    track(this.stack);
  }

  /** Delivers a frame to the stack and lets it process it. */
  inject(frame: Uint8Array): void {
    this.peer.send(frame);
    this.stack.poll();
  }

  poll(): void {
    this.stack.poll();
  }

  advance(ms: number): void {
    this.clock.advance(ms);
    this.stack.poll();
  }

  /** Every frame the stack sent since the last call. */
  sent(): Sent[] {
    const out: Sent[] = [];
    while (this.peer.receive((f) => out.push(parseFrame(f.slice()))) > 0);
    return out;
  }

  /** Exactly one frame sent; returns it. */
  one(): Sent {
    const s = this.sent();
    if (s.length !== 1) throw new Error(`expected one frame, got ${s.length}`);
    return s[0]!;
  }

  nothing(): void {
    const s = this.sent();
    if (s.length !== 0)
      throw new Error(`expected no frame, got ${s.length}: ${JSON.stringify(s.map(describe))}`);
  }
}

export function describe(s: Sent): string {
  if (s.tcp)
    return `TCP ${s.tcp.srcPort}>${s.tcp.dstPort} seq=${s.tcp.seq} ack=${s.tcp.ack} flags=${s.tcp.flags} win=${s.tcp.window} len=${s.tcp.payload.length}`;
  if (s.arp) return `ARP op=${s.arp.operation}`;
  if (s.udp) return `UDP ${s.udp.srcPort}>${s.udp.dstPort} len=${s.udp.payload.length}`;
  if (s.icmp) return `ICMP type=${s.icmp.type} code=${s.icmp.code}`;
  return `ethertype ${s.etherType}`;
}

export function parseFrame(frame: Uint8Array): Sent {
  const eth = new EthernetView();
  if (!eth.wrap(frame)) throw new Error('runt frame');
  const out: Sent = { frame, dst: eth.dst, etherType: eth.etherType };
  if (eth.etherType === ETHERTYPE_ARP) {
    const v = new ArpView();
    if (v.wrap(frame, 14, frame.length - 14)) out.arp = parseArp(v);
  } else if (eth.etherType === ETHERTYPE_IPV4) {
    const v = new Ipv4View();
    if (!v.wrap(frame, 14, frame.length - 14)) throw new Error('bad IPv4 sent');
    out.ip = parseIpv4(v);
    out.ipChecksumOk = v.verifyChecksum();
    if (v.isFragment) return out;
    if (v.protocol === IPPROTO_TCP) {
      const t = new TcpView();
      if (!t.wrap(frame, v.payloadOffset, v.payloadLength)) throw new Error('bad TCP sent');
      out.tcp = parseTcp(t, new TcpOptions());
      out.tcpChecksumOk = t.verifyChecksum(v.src, v.dst);
    } else if (v.protocol === IPPROTO_UDP) {
      const u = new UdpView();
      if (u.wrap(frame, v.payloadOffset, v.payloadLength)) out.udp = parseUdp(u);
    } else if (v.protocol === IPPROTO_ICMP) {
      const i = new IcmpView();
      if (i.wrap(frame, v.payloadOffset, v.payloadLength)) out.icmp = parseIcmp(i);
    }
  }
  return out;
}

// ---- frame builders ----------------------------------------------------------

export function ethernet(
  dst: string | Uint8Array,
  src: string | Uint8Array,
  etherType: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  emitEthernet(
    {
      dst: typeof dst === 'string' ? mac(dst) : dst,
      src: typeof src === 'string' ? mac(src) : src,
      etherType,
    },
    f,
  );
  f.set(payload, 14);
  return f;
}

export function arpFrame(r: ArpRepr, dst = 'ff:ff:ff:ff:ff:ff', src = PEER_MAC): Uint8Array {
  const p = new Uint8Array(28);
  emitArp(r, p);
  return ethernet(dst, src, ETHERTYPE_ARP, p);
}

export function ipv4Packet(
  fields: Partial<Ipv4Repr> & { protocol: number },
  l4: Uint8Array,
): Uint8Array {
  const repr: Ipv4Repr = {
    src: ip(PEER_IP),
    dst: ip(STACK_IP),
    ttl: 64,
    ident: 1,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ...fields,
    payloadLength: l4.length,
  };
  const p = new Uint8Array(20 + l4.length);
  emitIpv4(repr, p);
  p.set(l4, 20);
  return p;
}

export function ipFrame(
  fields: Partial<Ipv4Repr> & { protocol: number },
  l4: Uint8Array,
  dstMac = STACK_MAC,
): Uint8Array {
  return ethernet(dstMac, PEER_MAC, ETHERTYPE_IPV4, ipv4Packet(fields, l4));
}

export function udpFrame(
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  src = PEER_IP,
  dst = STACK_IP,
): Uint8Array {
  const l4 = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort, dstPort, payload }, l4, 0, ip(src), ip(dst));
  return ipFrame({ protocol: IPPROTO_UDP, src: ip(src), dst: ip(dst) }, l4);
}

export function icmpFrame(r: IcmpRepr, src = PEER_IP, dst = STACK_IP): Uint8Array {
  const l4 = new Uint8Array(8 + r.payload.length);
  emitIcmp(r, l4);
  return ipFrame({ protocol: IPPROTO_ICMP, src: ip(src), dst: ip(dst) }, l4);
}

export interface SegmentSpec {
  srcPort?: number;
  dstPort?: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  payload?: Uint8Array;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  ts?: [number, number];
  sack?: Array<[number, number]>;
}

export function tcpSegment(s: SegmentSpec): Uint8Array {
  const o = new TcpOptions();
  if (s.mss !== undefined) o.mss = s.mss;
  if (s.windowScale !== undefined) o.windowScale = s.windowScale;
  if (s.sackPermitted) o.sackPermitted = true;
  if (s.ts) o.setTimestamp(s.ts[0], s.ts[1]);
  for (const [l, r] of s.sack ?? []) o.addSack(l, r);
  const payload = s.payload ?? new Uint8Array(0);
  const l4 = new Uint8Array(60 + payload.length);
  const n = emitTcp(
    {
      srcPort: s.srcPort ?? 5000,
      dstPort: s.dstPort ?? 80,
      seq: s.seq >>> 0,
      ack: (s.ack ?? 0) >>> 0,
      flags: s.flags,
      window: s.window ?? 65535,
      options: o,
      payload,
    },
    l4,
    0,
    ip(PEER_IP),
    ip(STACK_IP),
  );
  return ipFrame({ protocol: IPPROTO_TCP }, l4.subarray(0, n));
}
