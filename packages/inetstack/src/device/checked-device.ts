import { DemiError, describe } from '@demi/core';
import type { DeviceOffloads, FrameDevice } from './device.js';
import { checkParts, FrameAssembler, partsLength } from './frame-parts.js';

/** An Ethernet header: destination, source, EtherType. */
export const ETH_HEADER_BYTES = 14;
/** What a frame adds to the IP MTU at most: the header and one VLAN tag. */
export const ETH_OVERHEAD_BYTES = 18;

/**
 * FrameDevice's contract, kept once: every device (the in-memory link,
 * catpowder's raw sockets, catnip's DPDK ports) extends this and implements
 * only the moving of frames. The rules:
 *
 * - `send` (and `sendParts`, for the frame its parts make) of something that is
 *   not a Uint8Array is EINVAL; of a frame shorter than an Ethernet header or
 *   longer than the device carries (`mtu` + 18, or `offloads.tso` + 14 when
 *   larger; less if its buffers are smaller) is EMSGSIZE. A full queue is `false`.
 * - After `close`, `receive`, `send`, `sendParts`, `flush` and `setWakeup(fn)` are EBADF;
 *   `close` again and `setWakeup(undefined)` do nothing.
 * - `receive` called from inside its own callback is EBUSY: the frames being
 *   handed out are views the inner call would overwrite.
 */
export abstract class CheckedDevice implements FrameDevice {
  abstract readonly mac: Uint8Array;
  abstract readonly mtu: number;
  abstract readonly offloads: DeviceOffloads;
  /** Names the device in error messages. */
  protected abstract readonly deviceName: string;
  #closed = false;
  #receiving = false;
  readonly #assembler = new FrameAssembler();

  /** The largest frame this device carries: a segmentation-offload frame when it offers that. */
  protected maxFrameBytes(): number {
    return Math.max(this.mtu + ETH_OVERHEAD_BYTES, this.offloads.tso + ETH_HEADER_BYTES);
  }
  /** Hands waiting frames to `onFrame` (views valid only during the call); returns how many. */
  protected abstract receiveFrames(onFrame: (frame: Uint8Array) => void): number;
  /** Copies a frame of a valid size into the send queue; false when the queue is full. */
  protected abstract queueFrame(frame: Uint8Array): boolean;
  /**
   * Copies a frame given in parts (of a valid total size) into the send queue.
   * This default assembles it and calls `queueFrame`; devices with their own
   * transmit slots copy the parts straight in.
   */
  protected queueFrameParts(
    head: Uint8Array,
    body: Uint8Array,
    rest: Uint8Array | undefined,
  ): boolean {
    return this.queueFrame(this.#assembler.assemble(head, body, rest));
  }
  protected abstract flushFrames(): void;
  protected abstract closeDevice(): void;

  receive(onFrame: (frame: Uint8Array) => void): number {
    this.live('receive');
    if (this.#receiving)
      throw new DemiError(
        'EBUSY',
        `receive on ${this.deviceName} was called from inside its own callback`,
        { syscall: 'receive' },
      );
    this.#receiving = true;
    try {
      return this.receiveFrames(onFrame);
    } finally {
      this.#receiving = false;
    }
  }

  send(frame: Uint8Array): boolean {
    this.live('send');
    if (!(frame instanceof Uint8Array))
      throw new DemiError('EINVAL', `send takes a Uint8Array frame, got ${describe(frame)}`, {
        syscall: 'send',
      });
    this.#checkSize(frame.byteLength);
    return this.queueFrame(frame);
  }

  #checkSize(length: number): void {
    const max = this.maxFrameBytes();
    if (length < ETH_HEADER_BYTES || length > max)
      throw new DemiError(
        'EMSGSIZE',
        `an Ethernet frame on ${this.deviceName} must be ${ETH_HEADER_BYTES}-${max} bytes (MTU ${this.mtu}), got ${length}`,
        { syscall: 'send' },
      );
  }

  sendParts(head: Uint8Array, body: Uint8Array, rest?: Uint8Array): boolean {
    this.live('send');
    checkParts(head, body, rest);
    this.#checkSize(partsLength(head, body, rest));
    return this.queueFrameParts(head, body, rest);
  }

  flush(): void {
    this.live('flush');
    this.flushFrames();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeDevice();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * For devices with a wake-up source: the contract's check for `setWakeup`.
   * True when the call should go on; false for `setWakeup(undefined)` after close.
   */
  protected wakeupAllowed(onReadable: (() => void) | undefined): boolean {
    if (!this.#closed) return true;
    if (onReadable === undefined) return false;
    this.live('setWakeup');
    return false;
  }

  protected live(syscall: string): void {
    if (this.#closed) throw new DemiError('EBADF', `${this.deviceName} is closed`, { syscall });
  }
}
