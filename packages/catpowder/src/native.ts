import { DemiError, loadAddon as loadNative } from '@demi/core';

/** The addon's view of one device (native/device.cc). */
export interface NativeDevice {
  receive(): number;
  /** Sends the first `count` frames of the TX arena; returns how many leading frames it is done with (fewer when the kernel queue is full: the rest are for the next call). Never waits. */
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
  /** Bytes per transmit slot: larger than slotSize with segmentation offload. */
  txSlotSize: number;
  /** Largest IPv4 datagram sent whole for the kernel to segment; 0 without offload. */
  tso: number;
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
  txOffloadFrames: number;
  kernelDrops: number;
  lastTxError: string | null;
}

export interface NativeAddon {
  RawDevice: new (options: Record<string, unknown>) => NativeDevice;
  features(): { afXdp: boolean; afXdpUnavailable: string | null };
  runInNetns<T>(name: string, fn: () => T): T;
}

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
  addon = loadNative<NativeAddon>({
    name: 'catpowder',
    fromUrl: import.meta.url,
    envVar: 'DEMI_CATPOWDER_ADDON',
    buildHint:
      'A source build enables AF_XDP when libxdp-dev and libbpf-dev are installed. ' +
      'Or point DEMI_CATPOWDER_ADDON at a built demi_catpowder.node.',
  });
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
