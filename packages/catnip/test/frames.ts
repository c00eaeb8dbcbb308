// Hand-built frames for device-level tests: Ethernet, ARP, IPv4, ICMP, UDP.

export const mac = (text: string): Uint8Array =>
  Uint8Array.from(text.split(':').map((h) => Number.parseInt(h, 16)));
export const ip = (text: string): Uint8Array => Uint8Array.from(text.split('.').map(Number));
export const macText = (b: Uint8Array): string =>
  [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
export const ipText = (b: Uint8Array): string => [...b].join('.');
export const BROADCAST = mac('ff:ff:ff:ff:ff:ff');

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** The Internet checksum of `bytes` (plus an initial sum), as a 16-bit number. */
export function checksum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += be16(bytes, i);
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ethernet(
  dst: Uint8Array,
  src: Uint8Array,
  type: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

export function arpRequest(
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  targetIp: Uint8Array,
): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, 1]);
  a.set(srcMac, 8);
  a.set(srcIp, 14);
  a.set(targetIp, 24);
  return ethernet(BROADCAST, srcMac, 0x0806, a);
}

export function parseArp(
  f: Uint8Array,
): { op: number; senderMac: string; senderIp: string; targetIp: string } | undefined {
  if (f.length < 42 || be16(f, 12) !== 0x0806) return undefined;
  return {
    op: be16(f, 20),
    senderMac: macText(f.subarray(22, 28)),
    senderIp: ipText(f.subarray(28, 32)),
    targetIp: ipText(f.subarray(38, 42)),
  };
}

/** An IPv4 packet; the header checksum is filled in unless `fillChecksum` is false (left 0). */
export function ipv4(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  payload: Uint8Array,
  fillChecksum = true,
): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[6] = 0x40;
  p[8] = 64;
  p[9] = protocol;
  p.set(src, 12);
  p.set(dst, 16);
  if (fillChecksum) {
    const c = checksum(p.subarray(0, 20));
    p[10] = c >> 8;
    p[11] = c & 0xff;
  }
  p.set(payload, 20);
  return p;
}

export function icmpEcho(id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  m[4] = id >> 8;
  m[5] = id & 0xff;
  m[6] = seq >> 8;
  m[7] = seq & 0xff;
  m.set(data, 8);
  const c = checksum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

/** A UDP datagram; with `fillChecksum` the checksum over the pseudo header is computed, else left 0. */
export function udp(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  data: Uint8Array,
  fillChecksum = true,
): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  u[0] = sport >> 8;
  u[1] = sport & 0xff;
  u[2] = dport >> 8;
  u[3] = dport & 0xff;
  u[4] = u.length >> 8;
  u[5] = u.length & 0xff;
  u.set(data, 8);
  if (fillChecksum) {
    const pseudo = new Uint8Array(12);
    pseudo.set(src, 0);
    pseudo.set(dst, 4);
    pseudo[9] = 17;
    pseudo[10] = u.length >> 8;
    pseudo[11] = u.length & 0xff;
    let c = checksum(Uint8Array.from([...pseudo, ...u]));
    if (c === 0) c = 0xffff;
    u[6] = c >> 8;
    u[7] = c & 0xff;
  }
  return u;
}

export interface ParsedIpv4 {
  src: string;
  dst: string;
  protocol: number;
  headerOk: boolean;
  payload: Uint8Array;
}

export function parseIpv4(f: Uint8Array): ParsedIpv4 | undefined {
  if (f.length < 34 || be16(f, 12) !== 0x0800) return undefined;
  const h = f.subarray(14);
  const ihl = (h[0]! & 0x0f) * 4;
  const total = be16(h, 2);
  return {
    src: ipText(h.subarray(12, 16)),
    dst: ipText(h.subarray(16, 20)),
    protocol: h[9]!,
    headerOk: checksum(h.subarray(0, ihl)) === 0,
    payload: h.subarray(ihl, total),
  };
}
