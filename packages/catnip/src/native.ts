import { DemiError, loadAddon as loadNative } from '@demi/core';

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
  /** No checksums are computed or verified (a net_memif port opened with trustedLink). */
  trustedLink: boolean;
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

/** The DPDK ABI the shipped linux-x64-glibc prebuilt links: Debian 12's DPDK 22.11. */
export const PREBUILT_DPDK_ABI = 'DPDK 22.11 (librte_*.so.23)';

let addon: NativeAddon | undefined;

/**
 * Loads the addon once (the stub, too): DEMI_CATNIP_ADDON for unusual setups, else a
 * local source build, else the prebuilt; says how to get DPDK or the addon when it cannot.
 */
export function loadAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  if (process.platform !== 'linux') {
    throw new DemiError('ENOTSUP', `catnip needs Linux (DPDK); this is ${process.platform}`, {
      syscall: 'init',
    });
  }
  try {
    addon = loadNative<NativeAddon>({
      name: 'catnip',
      fromUrl: import.meta.url,
      envVar: 'DEMI_CATNIP_ADDON',
      code: 'ENOTSUP',
      buildHint:
        `The prebuilt links ${PREBUILT_DPDK_ABI}; with another DPDK, install its -dev package ` +
        '(apt-get install dpdk libdpdk-dev pkg-config) and build from source as above.',
    });
  } catch (err) {
    const message = (err as Error).message;
    const lib = /(lib(?:rte_|dpdk)[^\s:]*)[^\n]*(?:not installed|cannot open shared object)/.exec(
      message,
    );
    if (lib === null) throw err;
    throw new DemiError(
      'ENOTSUP',
      `the @demi/catnip addon is built against DPDK, but DPDK's libraries are missing here (${lib[1]}). ` +
        `Install them: apt-get install dpdk (the prebuilt needs ${PREBUILT_DPDK_ABI}).\n${message}`,
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
