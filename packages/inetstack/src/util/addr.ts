/**
 * Addresses as the stack holds them: IPv4 as an unsigned 32-bit number (cheap to
 * compare and to key maps with), MAC as 6 bytes.
 */

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const MAC =
  /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/;

export const IPV4_ANY = 0;
export const IPV4_BROADCAST = 0xffffffff;
export const MAC_BROADCAST: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const MAC_ZERO: Uint8Array = new Uint8Array(6);

/**
 * Addresses no host on a link may use as its own: "this network" (0/8),
 * loopback (127/8), multicast (224/4) and the reserved block with broadcast
 * (240/4). Linux drops packets from them (martian sources) and routes nothing to them.
 */
export function isMartian(ip: number): boolean {
  const top = ip >>> 24;
  return top === 0 || top === 127 || top >= 224;
}

/** Parses a dotted quad; undefined when it is not one. */
export function parseIPv4(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIPv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parses aa:bb:cc:dd:ee:ff; undefined when it is not a MAC. */
export function parseMac(text: string): Uint8Array | undefined {
  const m = MAC.exec(text);
  if (m === null) return undefined;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(m[i + 1]!, 16);
  return out;
}

export function formatMac(mac: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((mac[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Whether 6 bytes at `offset` in `buf` equal `mac`. */
export function macEquals(buf: Uint8Array, offset: number, mac: Uint8Array): boolean {
  return (
    buf[offset] === mac[0] &&
    buf[offset + 1] === mac[1] &&
    buf[offset + 2] === mac[2] &&
    buf[offset + 3] === mac[3] &&
    buf[offset + 4] === mac[4] &&
    buf[offset + 5] === mac[5]
  );
}

/** Group (multicast or broadcast) addresses have the low bit of the first byte set. */
export function isMulticastMac(buf: Uint8Array, offset: number): boolean {
  return ((buf[offset] ?? 0) & 1) === 1;
}

export function prefixMask(prefixLength: number): number {
  return prefixLength <= 0
    ? 0
    : prefixLength >= 32
      ? 0xffffffff
      : (0xffffffff << (32 - prefixLength)) >>> 0;
}
