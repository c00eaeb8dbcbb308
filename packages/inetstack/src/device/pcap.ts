import { closeSync, openSync, writeSync } from 'node:fs';
import { systemClock } from './clock.js';
import type { Clock, DeviceOffloads, FrameDevice } from './device.js';
import { FrameAssembler } from './frame-parts.js';

const LINKTYPE_ETHERNET = 1;

export interface PcapOptions {
  /** Timestamps come from this clock (default wall clock). */
  clock?: Clock;
  /** Added to the clock's milliseconds to give Unix time (default: the process start for the wall clock, 0 otherwise). */
  epochMs?: number;
  /** Bytes of each frame kept (default 262144, as tcpdump's: offload frames stay whole). */
  snaplen?: number;
}

/** Writes frames in the classic pcap format (readable by tcpdump and Wireshark). */
export class PcapWriter {
  readonly #sink: (chunk: Uint8Array) => void;
  readonly #fd: number | undefined;
  readonly #clock: Clock;
  readonly #epochMs: number;
  readonly #snaplen: number;
  readonly #record = new Uint8Array(16);
  readonly #view = new DataView(this.#record.buffer);
  #closed = false;

  /** `sink` is a file path (created or truncated) or a function receiving the bytes. */
  constructor(sink: string | ((chunk: Uint8Array) => void), options: PcapOptions = {}) {
    if (typeof sink === 'string') {
      const fd = openSync(sink, 'w');
      this.#fd = fd;
      this.#sink = (chunk) => {
        writeSync(fd, chunk);
      };
    } else {
      this.#fd = undefined;
      this.#sink = sink;
    }
    this.#clock = options.clock ?? systemClock;
    this.#epochMs = options.epochMs ?? (this.#clock === systemClock ? performance.timeOrigin : 0);
    this.#snaplen = options.snaplen ?? 262144;
    const header = new Uint8Array(24);
    const v = new DataView(header.buffer);
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, this.#snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.#sink(header);
  }

  write(frame: Uint8Array, timeMs = this.#clock.now()): void {
    if (this.#closed) return;
    const t = this.#epochMs + timeMs;
    const seconds = Math.floor(t / 1000);
    const micros = Math.floor((t - seconds * 1000) * 1000);
    const caplen = Math.min(frame.byteLength, this.#snaplen);
    this.#view.setUint32(0, seconds >>> 0, true);
    this.#view.setUint32(4, micros, true);
    this.#view.setUint32(8, caplen, true);
    this.#view.setUint32(12, frame.byteLength, true);
    this.#sink(this.#record);
    this.#sink(caplen === frame.byteLength ? frame : frame.subarray(0, caplen));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

/** A device that records every frame it sends and receives to a pcap, then passes it on. */
export class PcapDevice implements FrameDevice {
  readonly inner: FrameDevice;
  readonly writer: PcapWriter;
  readonly #assembler = new FrameAssembler();

  constructor(
    inner: FrameDevice,
    sink: string | ((chunk: Uint8Array) => void) | PcapWriter,
    options: PcapOptions = {},
  ) {
    this.inner = inner;
    this.writer = sink instanceof PcapWriter ? sink : new PcapWriter(sink, options);
    // Only a device with a wake-up source offers one; a poll-only device stays poll-only.
    if (inner.setWakeup !== undefined)
      this.setWakeup = (onReadable) => inner.setWakeup!(onReadable);
  }

  setWakeup?: (onReadable: (() => void) | undefined) => void;

  get mac(): Uint8Array {
    return this.inner.mac;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get offloads(): DeviceOffloads {
    return this.inner.offloads;
  }

  receive(onFrame: (frame: Uint8Array) => void): number {
    return this.inner.receive((frame) => {
      this.writer.write(frame);
      onFrame(frame);
    });
  }

  /** Records the frames the device took (a refused or invalid one is not on the wire). */
  send(frame: Uint8Array): boolean {
    const ok = this.inner.send(frame);
    if (ok) this.writer.write(frame);
    return ok;
  }

  sendParts(head: Uint8Array, body: Uint8Array, rest?: Uint8Array): boolean {
    if (this.inner.sendParts === undefined)
      return this.send(this.#assembler.assemble(head, body, rest));
    const ok = this.inner.sendParts(head, body, rest);
    if (ok) this.writer.write(this.#assembler.assemble(head, body, rest));
    return ok;
  }

  flush(): void {
    this.inner.flush();
  }

  close(): void {
    this.writer.close();
    this.inner.close();
  }
}
