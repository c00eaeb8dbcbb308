import { accessSync, constants, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** One thing a LibOS needs at run time that this host lacks, and how to get it. */
export interface Problem {
  missing: string;
  fix: string;
}

/** Whether this process may open raw sockets: root, or CAP_NET_RAW (bit 13) in its effective set. */
export function hasNetRaw(): boolean {
  if (process.getuid?.() === 0) return true;
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return line !== undefined && (BigInt(`0x${line}`) & (1n << 13n)) !== 0n;
}

/** Ethernet interfaces other than loopback that are up. */
export function ethernetInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal && a.mac !== '00:00:00:00:00:00'))
    .map(([name]) => name);
}

function sharedMemory(): Problem[] {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return [];
  } catch {
    return [
      {
        missing: 'a writable /dev/shm',
        fix: 'mount -t tmpfs tmpfs /dev/shm (containers: --shm-size)',
      },
    ];
  }
}

function rawSocket(libos: string): Problem[] {
  const out: Problem[] = [];
  if (!hasNetRaw()) {
    out.push({
      missing: 'CAP_NET_RAW',
      fix: `run as root, or: sudo setcap cap_net_raw,cap_net_admin+ep "$(command -v node)"`,
    });
  }
  if (ethernetInterfaces().length === 0) {
    out.push({
      missing: 'an Ethernet interface',
      fix: `create one (e.g. ip link add demi0 type veth peer name demi1) and name it in the ${libos} configuration`,
    });
  }
  return out;
}

/** What each shipped LibOS needs beyond its addon, checked on this host. */
export function runtimeProblems(libos: string, addon: Record<string, unknown>): Problem[] {
  switch (libos) {
    case 'catmem':
    case 'catloop':
      return sharedMemory();
    case 'catpowder': {
      const out = rawSocket(libos);
      const f = (addon.features as (() => { afXdpUnavailable?: string }) | undefined)?.();
      if (f?.afXdpUnavailable !== undefined) {
        out.push({
          missing: `AF_XDP (optional; AF_PACKET works): ${f.afXdpUnavailable}`,
          fix: 'apt-get install libxdp1 libbpf1, or build from source with libxdp-dev libbpf-dev: npx demi-build-addon @demi/catpowder',
        });
      }
      return out;
    }
    case 'catnip': {
      const out = rawSocket(libos).filter((p) => p.missing !== 'an Ethernet interface');
      const info = (addon.buildInfo as (() => { dpdk: boolean; reason?: string }) | undefined)?.();
      if (info !== undefined && !info.dpdk) {
        out.push({
          missing: `DPDK (${info.reason ?? 'the addon was built without it'})`,
          fix: 'apt-get install dpdk libdpdk-dev pkg-config, then: npx demi-build-addon @demi/catnip',
        });
      }
      return out;
    }
    default:
      return [];
  }
}
