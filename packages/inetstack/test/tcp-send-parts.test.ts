// Segments handed to the device in parts (FrameDevice.sendParts): with the
// checksums left to the device, the TCP sender gives it the headers and the
// payload where it lies in the send buffer, and the device copies both into its
// queue. Whole transfers over lossy links must stay byte-exact on that path, on
// the fallback for devices without it, and with the checksum computed in software.
import { describe, expect, it } from 'vitest';
import type { FrameDevice } from '../src/device/index.js';
import { runTransfer } from './support/transfer.js';

const CHECKSUMS_OFFLOADED = { offloads: { txChecksum: true, rxChecksum: true } };
const LOSSY = { dropPct: 3, duplicatePct: 1, reorderPct: 2, delayPct: 100, delayMs: 0.05 };

/** A device that offers only what the interface requires: no sendParts. */
function withoutSendParts(inner: FrameDevice): FrameDevice {
  return {
    mac: inner.mac,
    mtu: inner.mtu,
    offloads: inner.offloads,
    receive: (onFrame) => inner.receive(onFrame),
    send: (frame) => inner.send(frame),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}

describe('tcp segments sent in parts', () => {
  it('1 MiB each way over a lossy link, byte-exact, every data segment in parts', () => {
    const r = runTransfer({ seed: 11, bytes: 1 << 20, link: CHECKSUMS_OFFLOADED, faults: LOSSY });
    expect(r.ok, r.why).toBe(true);
    expect(r.retransmits).toBeGreaterThan(0);
    // At least one frame per MSS of data each way (retransmissions add more).
    expect(r.framesInParts).toBeGreaterThanOrEqual(2 * Math.ceil((1 << 20) / 1460));
  });

  it('with segmentation offload too (frames of many MSS, cut by the device), byte-exact', () => {
    const r = runTransfer({
      seed: 12,
      bytes: 2 << 20,
      link: { offloads: { ...CHECKSUMS_OFFLOADED.offloads, tso: 65536 - 14 } },
      faults: LOSSY,
    });
    expect(r.ok, r.why).toBe(true);
    expect(r.offloadSegments).toBeGreaterThan(0);
    expect(r.framesInParts).toBeGreaterThan(0);
  });

  it('a small send buffer wraps often: payloads in two parts arrive intact', () => {
    let split = 0;
    const countSplits = (inner: FrameDevice): FrameDevice => ({
      ...withoutSendParts(inner),
      sendParts: (head, body, rest) => {
        if (rest !== undefined && rest.byteLength > 0) split++;
        return inner.sendParts!(head, body, rest);
      },
    });
    const r = runTransfer({
      seed: 13,
      bytes: 1 << 20,
      link: CHECKSUMS_OFFLOADED,
      faults: LOSSY,
      // 5,000 bytes is no multiple of the MSS, so segments straddle the ring's end.
      tcp: { sendBuffer: 5_000 },
      wrap: countSplits,
    });
    expect(r.ok, r.why).toBe(true);
    expect(split).toBeGreaterThan(100);
  });

  it('a device without sendParts gets whole frames, byte-exact', () => {
    const r = runTransfer({
      seed: 14,
      bytes: 1 << 20,
      link: CHECKSUMS_OFFLOADED,
      faults: LOSSY,
      wrap: withoutSendParts,
    });
    expect(r.ok, r.why).toBe(true);
    expect(r.framesInParts).toBe(0);
  });

  it('without checksum offload the stack assembles the frame (its checksum covers the payload)', () => {
    const r = runTransfer({ seed: 15, bytes: 1 << 20, faults: { ...LOSSY, corruptPct: 1 } });
    expect(r.ok, r.why).toBe(true);
    expect(r.framesInParts).toBe(0);
  });
});
