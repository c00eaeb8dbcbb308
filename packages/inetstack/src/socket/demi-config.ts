import { type DemiConfig, DemiError } from '@demi/core';
import type { StackConfigInput } from '../stack/config.js';

const STANDARD_MTU = 1500;

/**
 * Maps demi's YAML configuration to the stack's: `demikernel.local_ipv4_addr`
 * (required), `local_link_addr` (else the device's MAC), `prefix_length`,
 * `gateway`, the `inetstack_config` section (ARP times are in seconds, as in
 * Demikernel) and `tcp_socket_options` (the defaults of every TCP socket).
 */
export function stackConfigFromDemi(config: DemiConfig, syscall = 'init'): StackConfigInput {
  const d = config.demikernel ?? {};
  if (d.local_ipv4_addr === undefined) {
    throw new DemiError(
      'EINVAL',
      'the user-level stack needs an address: set demikernel.local_ipv4_addr in the config (or DEMIKERNEL_LOCAL_IPV4_ADDR)',
      { syscall },
    );
  }
  const i = config.inetstack_config ?? {};
  const t = config.tcp_socket_options ?? {};
  let mtu = i.mtu;
  if (mtu !== undefined && mtu > STANDARD_MTU && i.enable_jumbo_frames !== true) mtu = STANDARD_MTU;
  const input: StackConfigInput = { ipv4: d.local_ipv4_addr };
  if (d.local_link_addr !== undefined) input.mac = d.local_link_addr;
  if (d.prefix_length !== undefined) input.prefixLength = d.prefix_length;
  if (d.gateway !== undefined) input.gateway = d.gateway;
  if (mtu !== undefined) input.mtu = mtu;
  input.arp = {};
  if (i.arp_table !== undefined) input.arp.table = i.arp_table;
  if (i.arp_request_retries !== undefined) input.arp.retries = i.arp_request_retries;
  if (i.arp_request_timeout !== undefined)
    input.arp.requestTimeoutMs = i.arp_request_timeout * 1000;
  if (i.arp_cache_ttl !== undefined) input.arp.cacheTtlMs = i.arp_cache_ttl * 1000;
  if (i.arp_disable !== undefined) input.arp.disabled = i.arp_disable;
  input.checksumOffload = {
    udp: i.udp_checksum_offload ?? false,
    tcp: i.tcp_checksum_offload ?? false,
  };
  input.tcp = {};
  if (i.mss !== undefined) input.tcp.mss = i.mss;
  if (i.congestion_control !== undefined) input.tcp.congestionControl = i.congestion_control;
  if (i.tcp_retries !== undefined) input.tcp.retries = i.tcp_retries;
  if (i.receive_window !== undefined) input.tcp.receiveBuffer = Math.max(512, i.receive_window);
  if (t.nodelay !== undefined) input.tcp.nodelay = t.nodelay;
  if (t.keepalive !== undefined) {
    input.tcp.keepalive = { enabled: t.keepalive.enabled };
    if (t.keepalive.time_millis !== undefined && t.keepalive.time_millis > 0)
      input.tcp.keepalive.idleMs = t.keepalive.time_millis;
    if (t.keepalive.interval !== undefined && t.keepalive.interval > 0)
      input.tcp.keepalive.intervalMs = t.keepalive.interval;
  }
  if (t.linger !== undefined)
    input.tcp.linger = { enabled: t.linger.enabled, seconds: t.linger.time_seconds ?? 0 };
  return input;
}
