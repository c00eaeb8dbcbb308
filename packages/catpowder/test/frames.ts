// Hand-built frames for device-level tests: Ethernet, ARP, IPv4, ICMP, UDP.

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

export function ip(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

export function macText(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ipText(bytes: Uint8Array): string {
  return [...bytes].join('.');
}

export const BROADCAST = mac('ff:ff:ff:ff:ff:ff');

export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
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

export interface Arp {
  op: number;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

export function parseArp(frame: Uint8Array): Arp | undefined {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06) return undefined;
  return {
    op: (frame[20]! << 8) | frame[21]!,
    senderMac: macText(frame.subarray(22, 28)),
    senderIp: ipText(frame.subarray(28, 32)),
    targetIp: ipText(frame.subarray(38, 42)),
  };
}

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
  p[6] = 0x40; // don't fragment
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

export function icmpEcho(
  srcMac: Uint8Array,
  dstMac: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  id: number,
  seq: number,
  data: Uint8Array,
  fillChecksum = true,
): Uint8Array {
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
  return ethernet(dstMac, srcMac, 0x0800, ipv4(src, dst, 1, m, fillChecksum));
}

/** A UDP datagram with a zeroed checksum (for the device to fill) unless `udpChecksum` is given. */
export function udp(
  srcMac: Uint8Array,
  dstMac: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  data: Uint8Array,
  udpChecksum = 0,
  fillIpChecksum = true,
): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  u[0] = sport >> 8;
  u[1] = sport & 0xff;
  u[2] = dport >> 8;
  u[3] = dport & 0xff;
  u[4] = u.length >> 8;
  u[5] = u.length & 0xff;
  u[6] = udpChecksum >> 8;
  u[7] = udpChecksum & 0xff;
  u.set(data, 8);
  return ethernet(dstMac, srcMac, 0x0800, ipv4(src, dst, 17, u, fillIpChecksum));
}

export interface Ipv4Info {
  protocol: number;
  src: string;
  dst: string;
  payload: Uint8Array;
  headerChecksumOk: boolean;
}

export function parseIpv4(frame: Uint8Array): Ipv4Info | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  const h = frame.subarray(14);
  const ihl = (h[0]! & 0x0f) * 4;
  const total = (h[2]! << 8) | h[3]!;
  return {
    protocol: h[9]!,
    src: ipText(h.subarray(12, 16)),
    dst: ipText(h.subarray(16, 20)),
    payload: h.subarray(ihl, total),
    headerChecksumOk: checksum(h.subarray(0, ihl)) === 0,
  };
}

/** The transport checksum over pseudo-header + segment; 0 when the segment's own checksum is right. */
export function transportChecksum(info: Ipv4Info): number {
  const pseudo = new Uint8Array(12 + info.payload.length);
  pseudo.set(ip(info.src), 0);
  pseudo.set(ip(info.dst), 4);
  pseudo[9] = info.protocol;
  pseudo[10] = info.payload.length >> 8;
  pseudo[11] = info.payload.length & 0xff;
  pseudo.set(info.payload, 12);
  return checksum(pseudo);
}
