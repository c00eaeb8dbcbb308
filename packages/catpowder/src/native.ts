import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DemiError } from '@demi/core';

/** The addon's view of one device (native/device.cc). */
export interface NativeDevice {
  receive(): number;
  transmit(count: number): number;
  setWakeup(onReadable: (() => void) | undefined): void;
  close(): void;
  stats(): NativeStats;
  info(): NativeInfo;
}

export interface NativeInfo {
  interfaceName: string;
  interfaceIndex: number;
  mac: Uint8Array;
  mtu: number;
  mode: string;
  fd: number;
  slots: number;
  slotSize: number;
  rxData: ArrayBuffer;
  rxLens: ArrayBuffer;
  txData: ArrayBuffer;
  txLens: ArrayBuffer;
}

export interface NativeStats {
  rxFrames: number;
  rxBytes: number;
  rxDropped: number;
  rxPartialChecksums: number;
  txFrames: number;
  txBytes: number;
  txDropped: number;
  kernelDrops: number;
  lastTxError: string | null;
}

export interface NativeAddon {
  RawDevice: new (options: Record<string, unknown>) => NativeDevice;
  features(): { afXdp: boolean; afXdpUnavailable: string | null };
  runInNetns<T>(name: string, fn: () => T): T;
}

const ADDON = '../build/Release/demi_catpowder.node';
let addon: NativeAddon | undefined;

/** Loads the addon once; says how to get it when it cannot. */
export function loadAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  if (process.platform !== 'linux') {
    throw new DemiError(
      'ENOTSUP',
      `catpowder needs Linux (AF_PACKET/AF_XDP); this is ${process.platform}`,
      { syscall: 'init' },
    );
  }
  const require = createRequire(import.meta.url);
  try {
    addon = require(ADDON) as NativeAddon;
  } catch (err) {
    const path = fileURLToPath(new URL(ADDON, import.meta.url));
    throw new DemiError(
      'ENOENT',
      `the @demi/catpowder addon did not load from ${path}: ${(err as Error).message}\n` +
        'Build it (needs cmake, g++; libxdp-dev and libbpf-dev for AF_XDP): cd node_modules/@demi/catpowder && npm run build',
      { syscall: 'init', cause: err },
    );
  }
  return addon;
}

/** Turns an addon error ({code, errno, syscall}) into a DemiError; anything else passes through. */
export function toDemiError(err: unknown): unknown {
  if (err instanceof DemiError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
    const e = err as NodeJS.ErrnoException;
    return new DemiError(e.code!, e.message, { syscall: e.syscall, cause: err });
  }
  return err;
}
