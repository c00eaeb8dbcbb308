import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemiError } from '@demi/core';

/** Where the arena's regions start (bytes), as native/port.h lays them out. */
export interface ArenaLayout {
  rxLens: number;
  txLens: number;
  rxSlots: number;
  txSlots: number;
  slotSize: number;
  size: number;
}

export interface NativePortInfo {
  layout: ArenaLayout;
  portId: number;
  mtu: number;
  mac: Uint8Array;
  driver: string;
  device: string;
  rxChecksum: boolean;
  txChecksum: boolean;
  hardwareChecksum: {
    rxIpv4: boolean;
    rxTcp: boolean;
    rxUdp: boolean;
    txIpv4: boolean;
    txTcp: boolean;
    txUdp: boolean;
  };
}

export interface NativePortStats {
  rxFrames: number;
  rxBytes: number;
  rxBadChecksum: number;
  rxOversize: number;
  txFrames: number;
  txBytes: number;
  txDropped: number;
  txRetries: number;
  txQueued: number;
  rxMissed: number;
  rxErrors: number;
  txErrors: number;
  rxNoMbuf: number;
}

/** One DPDK port (native/addon.cc PortWrap). */
export interface NativePort {
  readonly arena: ArrayBuffer;
  rx(): number;
  tx(count: number): number;
  close(): void;
  info(): NativePortInfo;
  stats(): NativePortStats;
  link(): { up: boolean; speedMbps: number };
}

export interface EalStatus {
  state: 'down' | 'up' | 'cleaned';
  refs: number;
  args: string[];
  lastFailure?: string;
  /** Why rte_eal_cleanup was skipped when the EAL shut down (a DPDK 22.11 memif defect), if it was. */
  cleanupSkipped?: string;
}

export interface NativeAddon {
  Port: new (options: Record<string, unknown>) => NativePort;
  buildInfo(): { dpdk: boolean; version?: string; builtAgainst?: string; reason?: string };
  ealStatus(): EalStatus;
  retainEal(): void;
  releaseEal(): void;
  dpdkLog(forward?: boolean): string;
}

const ADDON = '../build/Release/demi_catnip.node';
let addon: NativeAddon | undefined;

/** The addon's path: DEMI_CATNIP_ADDON for unusual setups, else the package's build. */
function addonPath(): string {
  return process.env.DEMI_CATNIP_ADDON ?? fileURLToPath(new URL(ADDON, import.meta.url));
}

/** Loads the addon once (the stub, too); says how to get it when it cannot. */
export function loadAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  if (process.platform !== 'linux') {
    throw new DemiError('ENOTSUP', `catnip needs Linux (DPDK); this is ${process.platform}`, {
      syscall: 'init',
    });
  }
  const path = addonPath();
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    const message = (err as Error).message;
    const libs = /lib(rte_|dpdk)[^:]*: cannot open shared object/.exec(message);
    throw new DemiError(
      'ENOTSUP',
      libs !== null
        ? `the @demi/catnip addon is built against DPDK, but DPDK's libraries are missing here (${message}). ` +
            'Install them: apt-get install dpdk (or rebuild without DPDK: npm run build)'
        : `the @demi/catnip addon did not load from ${path}: ${message}\n` +
            'Build it (needs cmake and g++, and DPDK: apt-get install dpdk libdpdk-dev pkg-config): ' +
            'cd node_modules/@demi/catnip && npm run build',
      { syscall: 'init', cause: err },
    );
  }
  return addon;
}

/** Loads the addon and insists it has DPDK in it. */
export function loadDpdk(): NativeAddon {
  const a = loadAddon();
  const info = a.buildInfo();
  if (!info.dpdk) {
    throw new DemiError('ENOTSUP', `@demi/catnip was ${info.reason ?? 'built without DPDK'}`, {
      syscall: 'init',
    });
  }
  return a;
}
