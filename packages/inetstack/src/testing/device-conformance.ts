import { DemiError } from '@demi/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FrameDevice } from '../device/device.js';
import { parseIPv4 } from '../util/addr.js';

/** A device under test, and a peer on its link that answers ARP for `peerIp`. */
export interface DeviceEnv {
  device: FrameDevice;
  /** The address the device's side claims in its ARP requests. */
  localIp: string;
  /** An address the peer answers ARP for (the kernel, or an in-process stack). */
  peerIp: string;
  /** Lets an in-process peer run; native peers (the kernel) answer on their own. */
  pump?(): void;
  teardown(): Promise<void>;
}

export interface DeviceTarget {
  name: string;
  open(): Promise<DeviceEnv>;
}

const ANSWER_TIMEOUT_MS = 5_000;

/** An ARP request from the device for `peerIp`: a frame any peer answers. */
export function arpProbe(env: DeviceEnv): Uint8Array {
  const f = new Uint8Array(42);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, 6);
  f.set(env.device.mac, 6);
  v.setUint16(12, 0x0806);
  v.setUint16(14, 1); // Ethernet
  v.setUint16(16, 0x0800); // IPv4
  f[18] = 6;
  f[19] = 4;
  v.setUint16(20, 1); // request
  f.set(env.device.mac, 22);
  v.setUint32(28, parseIPv4(env.localIp)! >>> 0);
  v.setUint32(38, parseIPv4(env.peerIp)! >>> 0);
  return f;
}

function isAnswer(env: DeviceEnv, frame: Uint8Array): boolean {
  if (frame.byteLength < 42) return false;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return (
    v.getUint16(12) === 0x0806 &&
    v.getUint16(20) === 2 &&
    v.getUint32(28) === parseIPv4(env.peerIp)! >>> 0
  );
}

/** Polls the device (and the peer) until the probe's answer arrives. */
async function awaitAnswer(
  env: DeviceEnv,
  onFrame?: (frame: Uint8Array) => void,
): Promise<Uint8Array> {
  const deadline = performance.now() + ANSWER_TIMEOUT_MS;
  for (;;) {
    env.pump?.();
    let found: Uint8Array | undefined;
    env.device.receive((frame) => {
      onFrame?.(frame);
      if (found === undefined && isAnswer(env, frame)) found = frame.slice();
    });
    if (found !== undefined) return found;
    if (performance.now() > deadline)
      throw new Error(`no ARP answer from ${env.peerIp} within ${ANSWER_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DemiError) return err.code;
    throw err;
  }
  return undefined;
}

/**
 * FrameDevice's contract (CheckedDevice's rules) as vitest scenarios: run
 * against the in-memory link here and against catpowder's and catnip's
 * devices in their packages.
 */
export function runDeviceConformance(target: DeviceTarget): void {
  describe(`device conformance: ${target.name}`, () => {
    let env: DeviceEnv;
    beforeEach(async () => {
      env = await target.open();
    });
    afterEach(async () => {
      await env?.teardown();
    });

    it('a frame goes out and the answer comes back', async () => {
      expect(env.device.send(arpProbe(env))).toBe(true);
      env.device.flush();
      const answer = await awaitAnswer(env);
      expect([...answer.subarray(0, 6)]).toEqual([...env.device.mac]);
    });

    it('send copies the frame: the caller may reuse its buffer at once', async () => {
      const probe = arpProbe(env);
      expect(env.device.send(probe)).toBe(true);
      probe.fill(0);
      env.device.flush();
      await awaitAnswer(env);
    });

    it('bad sizes are EMSGSIZE, a non-array EINVAL, and the device keeps working', async () => {
      const max = Math.max(env.device.mtu + 18, env.device.offloads.tso + 14);
      expect(code(() => env.device.send(new Uint8Array(13)))).toBe('EMSGSIZE');
      expect(code(() => env.device.send(new Uint8Array(max + 1)))).toBe('EMSGSIZE');
      expect(code(() => env.device.send('frame' as unknown as Uint8Array))).toBe('EINVAL');
      expect(env.device.send(arpProbe(env))).toBe(true);
      env.device.flush();
      await awaitAnswer(env);
    });

    it('a frame sent in parts goes out whole, the parts copied at once', async () => {
      // Cut where no field is whole in one part: a peer answers only a frame assembled exactly.
      const probe = arpProbe(env);
      const head = probe.slice(0, 17);
      const body = probe.slice(17, 31);
      const rest = probe.slice(31);
      expect(env.device.sendParts).toBeTypeOf('function');
      expect(env.device.sendParts!(head, body, rest)).toBe(true);
      head.fill(0);
      body.fill(0);
      rest.fill(0);
      env.device.flush();
      const answer = await awaitAnswer(env);
      expect([...answer.subarray(0, 6)]).toEqual([...env.device.mac]);
      // Two parts (no `rest`) too.
      const again = arpProbe(env);
      expect(env.device.sendParts!(again.subarray(0, 14), again.subarray(14))).toBe(true);
      env.device.flush();
      await awaitAnswer(env);
    });

    it('sendParts checks the whole frame: EMSGSIZE, EINVAL, then EBADF after close', () => {
      const max = Math.max(env.device.mtu + 18, env.device.offloads.tso + 14);
      const send = (h: unknown, b: unknown, r?: unknown) =>
        code(() =>
          env.device.sendParts!(h as Uint8Array, b as Uint8Array, r as Uint8Array | undefined),
        );
      expect(send(new Uint8Array(6), new Uint8Array(7))).toBe('EMSGSIZE');
      expect(send(new Uint8Array(14), new Uint8Array(max - 14), new Uint8Array(1))).toBe(
        'EMSGSIZE',
      );
      expect(send(new Uint8Array(14), 'payload')).toBe('EINVAL');
      expect(send(new Uint8Array(14), new Uint8Array(20), [1, 2])).toBe('EINVAL');
      env.device.close();
      expect(send(new Uint8Array(14), new Uint8Array(28))).toBe('EBADF');
    });

    it('receive from inside its own callback is EBUSY', async () => {
      env.device.send(arpProbe(env));
      env.device.flush();
      const inner: (string | undefined)[] = [];
      await awaitAnswer(env, () => inner.push(code(() => env.device.receive(() => {}))));
      expect(inner.length).toBeGreaterThan(0);
      expect(new Set(inner)).toEqual(new Set(['EBUSY']));
      // The device is not left marked busy.
      expect(env.device.receive(() => {})).toBeGreaterThanOrEqual(0);
    });

    it('after close every call is EBADF; close again and clearing the wake-up do nothing', () => {
      env.device.close();
      expect(code(() => env.device.receive(() => {}))).toBe('EBADF');
      expect(code(() => env.device.send(arpProbe(env)))).toBe('EBADF');
      expect(code(() => env.device.flush())).toBe('EBADF');
      expect(code(() => env.device.close())).toBeUndefined();
      if (env.device.setWakeup !== undefined) {
        expect(code(() => env.device.setWakeup!(undefined))).toBeUndefined();
        expect(code(() => env.device.setWakeup!(() => {}))).toBe('EBADF');
      }
    });
  });
}
