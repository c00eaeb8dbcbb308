import { missingRoot } from '@demi/core/testing';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import type { CatnipDevice } from '../src/index.js';
import { dpdkInfo } from '../src/index.js';

/** Why DPDK cannot run here, or undefined. */
export function missingDpdk(): string | undefined {
  try {
    const info = dpdkInfo();
    return info.dpdk ? undefined : `catnip was ${info.reason}`;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Why the kernel-peer suites cannot run: root, namespaces, DPDK. */
export function missingNetnsDpdk(): string | undefined {
  return missingRoot() ?? missingNetnsSupport() ?? missingDpdk();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Receives until `match` returns a value (that value), or throws after `timeoutMs`. */
export async function untilFrame<T>(
  device: CatnipDevice,
  match: (frame: Uint8Array) => T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let found: T | undefined;
  while (Date.now() < deadline) {
    device.receive((frame) => {
      if (found === undefined) found = match(frame);
    });
    if (found !== undefined) return found;
    await sleep(1);
  }
  throw new Error(`no matching frame within ${timeoutMs} ms`);
}
