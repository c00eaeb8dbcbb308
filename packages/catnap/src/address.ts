import type { SocketAddress } from '@demi/core';

/**
 * IPv4 addresses cross to the addon as host-order integers, and endpoints come
 * back as `ip * 65536 + port` in one float64 record slot.
 */

const parsed = new Map<string, number>();
const MAX_CACHED = 1024;

/** A validated dotted-quad address as an integer (cached: pushto parses on every call). */
export function ipv4ToInt(address: string): number {
  const hit = parsed.get(address);
  if (hit !== undefined) return hit;
  const parts = address.split('.');
  const value =
    ((Number(parts[0]) * 256 + Number(parts[1])) * 256 + Number(parts[2])) * 256 + Number(parts[3]);
  if (parsed.size >= MAX_CACHED) parsed.clear();
  parsed.set(address, value);
  return value;
}

export function intToIpv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

let lastEndpoint = -1;
let lastAddress = '';

/** `{address, port}` from an endpoint value; a new object each time (callers may keep it). */
export function endpointToAddress(endpoint: number): SocketAddress {
  const ip = Math.floor(endpoint / 65536);
  const port = endpoint - ip * 65536;
  if (ip !== lastEndpoint) {
    lastEndpoint = ip;
    lastAddress = intToIpv4(ip);
  }
  return { address: lastAddress, port };
}
