import { type EalStatus, loadAddon, loadDpdk } from './native.js';

export type { EalStatus } from './native.js';

/**
 * The state of DPDK's EAL in this process: 'down' (not started), 'up' (with
 * `refs` holders: open devices and retainEal() calls) or 'cleaned' (the last
 * holder let go; it cannot start again in this process).
 */
export function ealStatus(): EalStatus {
  return loadAddon().ealStatus();
}

/**
 * Keeps the EAL up while no catnip device is open, so a program (or a test
 * suite) can close one device and open the next in the same process:
 * rte_eal_init runs only once per process. Returns the matching release.
 */
export function retainEal(): () => void {
  const addon = loadDpdk();
  addon.retainEal();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    addon.releaseEal();
  };
}

/** DPDK's log so far (its last 64 KiB), kept in memory; `forward` also copies new lines to stderr. */
export function dpdkLog(forward?: boolean): string {
  return loadAddon().dpdkLog(forward);
}

/** The DPDK this addon runs with, or why it has none. */
export function dpdkInfo(): { dpdk: boolean; version?: string; reason?: string } {
  const info = loadAddon().buildInfo();
  return info.dpdk ? { dpdk: true, version: info.version } : { dpdk: false, reason: info.reason };
}
