// Nothing a caller or the wire can hand the device crashes it: bad arguments
// straight to the addon, random frames sent, random frames received.
import { AF_INET, SOCK_STREAM } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { RawDevice } from '../src/index.js';
import { loadAddon } from '../src/native.js';
import { MODE_CASES } from './helpers.js';
import { keepPolling, openCatpowder, peerRun } from './stack-env.js';

const anything = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  '',
  'x',
  'veth0',
  {},
  [],
  () => {},
  Symbol('s'),
  10n,
  new Uint8Array(4),
];

describe('the addon refuses bad arguments with coded errors', () => {
  it('the RawDevice constructor', () => {
    const { RawDevice: Native } = loadAddon();
    for (const value of anything) {
      expect(() => new Native(value as unknown as Record<string, unknown>)).toThrow();
      for (const key of [
        'interfaceName',
        'interfaceIndex',
        'mode',
        'xdpMode',
        'queue',
        'batchSize',
        'ringFrames',
        'netns',
        'promiscuous',
      ]) {
        try {
          new Native({ interfaceName: 'demi-absent', [key]: value }).close();
        } catch (err) {
          expect(typeof (err as { code?: unknown }).code).toBe('string');
        }
      }
    }
  });

  it('runInNetns', () => {
    const addon = loadAddon() as unknown as { runInNetns: (...a: unknown[]) => unknown };
    for (const a of anything) {
      for (const b of anything) {
        try {
          addon.runInNetns(a, b);
        } catch (err) {
          expect(typeof (err as { code?: unknown }).code).toBe('string');
        }
      }
    }
  });
});

describePrivileged('garbage against an open device', missingNetnsSupport, () => {
  const net = useNetnsPair();

  it('every method of a live native device refuses bad arguments', () => {
    const { RawDevice: Native } = loadAddon();
    const device = new Native({
      interfaceName: net.pair.devIf,
      netns: net.pair.devNs,
    }) as unknown as Record<string, (...a: unknown[]) => unknown>;
    try {
      for (const value of anything) {
        for (const method of ['transmit', 'setWakeup']) {
          try {
            device[method]!(value);
          } catch (err) {
            expect(typeof (err as { code?: unknown }).code).toBe('string');
          }
        }
      }
      expect(() => device.transmit!(65)).toThrow(/count/);
      expect(() => device.transmit!(-1)).toThrow(/count/);
      device.setWakeup!(undefined);
    } finally {
      device.close!();
      device.close!();
    }
    expect(() => device.receive!()).toThrow(/closed/);
    expect(() => device.transmit!(0)).toThrow(/closed/);
  });
});

for (const mode of MODE_CASES) {
  describePrivileged(
    `random frames both ways (${mode.title})`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();

      it('the stack survives 3000 random frames from the wire and still answers', async () => {
        const { pair } = net;
        const cp = openCatpowder(pair, mode.options);
        // A raw sender on the kernel side that does not touch what it sends.
        const noise = new RawDevice({
          interfaceName: pair.peerIf,
          netns: pair.peerNs,
          checksumOffload: false,
        });
        const stop = keepPolling(cp.libos);
        try {
          const dst = Uint8Array.from(pair.devMac.split(':').map((h) => Number.parseInt(h, 16)));
          const frames = fc.sample(
            fc.record({
              type: fc.constantFrom(0x0800, 0x0806, 0x86dd, 0x1234),
              ihl: fc.integer({ min: 0, max: 15 }),
              total: fc.integer({ min: 0, max: 0xffff }),
              protocol: fc.constantFrom(1, 6, 17, 0, 255),
              fragment: fc.integer({ min: 0, max: 0xffff }),
              body: fc.uint8Array({ minLength: 0, maxLength: 1500, size: 'max' }),
            }),
            { numRuns: 3000, seed: 42 },
          );
          let i = 0;
          for (const f of frames) {
            const frame = new Uint8Array(14 + f.body.length);
            frame.set(dst, 0);
            frame[12] = f.type >> 8;
            frame[13] = f.type & 0xff;
            frame.set(f.body, 14);
            if (f.type === 0x0800 && frame.length >= 34) {
              frame[14] = 0x40 | f.ihl;
              frame[16] = f.total >> 8;
              frame[17] = f.total & 0xff;
              frame[20] = f.fragment >> 8;
              frame[21] = f.fragment & 0xff;
              frame[23] = f.protocol;
              frame.set([10, pair.subnet, 0, 1, 10, pair.subnet, 0, 2], 26);
            }
            noise.send(frame);
            if (++i % 64 === 0) {
              noise.flush();
              await new Promise((r) => setImmediate(r));
            }
          }
          noise.flush();
          const ping = await peerRun(pair, 'ping', [
            '-c',
            '3',
            '-i',
            '0.05',
            '-W',
            '5',
            pair.devIp,
          ]);
          expect(ping.stdout).toMatch(/3 received/);
          expect(
            cp.device.stats().rxFrames +
              cp.device.stats().rxDropped +
              cp.device.stats().kernelDrops,
          ).toBeGreaterThan(0);
        } finally {
          stop();
          noise.close();
          await cp.libos.shutdown();
        }
      });

      it('random frames sent by the device (checksums filled in on garbage) break nothing', async () => {
        const { pair } = net;
        const device = new RawDevice({
          interfaceName: pair.devIf,
          netns: pair.devNs,
          ...mode.options,
        });
        try {
          const bodies = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 1600, size: 'max' }), {
            numRuns: 2000,
            seed: 7,
          });
          let refused = 0;
          for (const body of bodies) {
            const frame = new Uint8Array(body.length);
            frame.set(body);
            if (frame.length >= 14) {
              frame[12] = 0x08; // claim IPv4 so the checksum code parses the rest
              frame[13] = 0x00;
            }
            try {
              device.send(frame);
            } catch (err) {
              // The short and the over-long ones: the device contract's EMSGSIZE.
              expect(err).toMatchObject({ code: 'EMSGSIZE' });
              refused++;
            }
          }
          device.flush();
          expect(refused).toBeGreaterThan(0);
          expect(device.stats().txFrames).toBeGreaterThan(0);
        } finally {
          device.close();
        }
        // The kernel peer is still fine and reachable from a fresh stack.
        const cp = openCatpowder(pair, mode.options);
        try {
          const qd = cp.libos.socket(AF_INET, SOCK_STREAM);
          const r = await cp.libos.wait(
            cp.libos.connect(qd, { address: pair.peerIp, port: 1 }),
            15_000,
          );
          expect(r.ret).toBe(111); // ECONNREFUSED: the kernel answered
        } finally {
          await cp.libos.shutdown();
        }
      });
    },
  );
}
