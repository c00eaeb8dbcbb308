/**
 * The device boundary of @demi/inetstack (src/device/device.ts there), restated
 * so the device layer type-checks on its own; the shapes are identical.
 */
export interface FrameDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly offloads: DeviceOffloads;
  receive(onFrame: (frame: Uint8Array) => void): number;
  send(frame: Uint8Array): boolean;
  flush(): void;
  setWakeup?(onReadable: (() => void) | undefined): void;
  close(): void;
}

export interface DeviceOffloads {
  rxChecksum: boolean;
  txChecksum: boolean;
}
