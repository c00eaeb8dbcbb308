import { features, type RawDeviceOptions } from '../src/index.js';
import type { RawDevice } from '../src/raw-device.js';

/** The device modes every device-level and stack-level suite runs in. */
export interface ModeCase {
  title: string;
  options: Pick<RawDeviceOptions, 'mode' | 'xdpMode'>;
  /** Why this mode cannot run here, or undefined. */
  missing(): string | undefined;
}

export const MODE_CASES: ModeCase[] = [
  { title: 'af_packet', options: { mode: 'af_packet' }, missing: () => undefined },
  {
    title: 'af_xdp (skb)',
    options: { mode: 'af_xdp', xdpMode: 'skb' },
    missing: () => features().afXdpUnavailable,
  },
  {
    title: 'af_xdp (native)',
    options: { mode: 'af_xdp', xdpMode: 'native' },
    missing: () => features().afXdpUnavailable,
  },
];

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Receives until `match` returns a value (that value), or throws after `timeoutMs`. */
export async function untilFrame<T>(
  device: RawDevice,
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

/** Receives everything for `ms`, returning copies of the frames. */
export async function collect(device: RawDevice, ms: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    device.receive((frame) => out.push(frame.slice()));
    await sleep(1);
  }
  return out;
}
