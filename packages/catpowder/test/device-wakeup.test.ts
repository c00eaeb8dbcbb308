// The device wakes JS through libuv when frames arrive, and keeps the process
// alive only while a wake-up is set.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describePrivileged } from '@demi/core/testing';
import { expect, it } from 'vitest';
import { createPair, missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { RawDevice } from '../src/index.js';
import { arpRequest, ip, mac, parseArp, parseIpv4, transportChecksum } from './frames.js';
import { MODE_CASES, untilFrame } from './helpers.js';

const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const idleExit = fileURLToPath(new URL('./fixtures/idle-exit.ts', import.meta.url));

for (const mode of MODE_CASES) {
  describePrivileged(
    `wake-ups (${mode.title})`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();

      it('calls back when a frame arrives, and not after it is cleared', async () => {
        const { pair } = net;
        const device = new RawDevice({
          interfaceName: pair.devIf,
          netns: pair.devNs,
          ...mode.options,
        });
        try {
          const reply = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no wake-up within 5 s')), 5000);
            device.setWakeup(() => {
              device.receive((f) => {
                const a = parseArp(f);
                if (a?.op === 2) {
                  clearTimeout(timer);
                  device.setWakeup(undefined);
                  resolve(a.senderIp);
                }
              });
            });
            device.send(arpRequest(device.mac, ip(pair.devIp), ip(pair.peerIp)));
            device.flush();
          });
          expect(reply).toBe(pair.peerIp);
          let calls = 0;
          device.setWakeup(() => calls++);
          device.setWakeup(undefined);
          device.send(arpRequest(device.mac, ip(pair.devIp), ip(pair.peerIp)));
          device.flush();
          await new Promise((r) => setTimeout(r, 100));
          expect(calls).toBe(0);
        } finally {
          device.close();
        }
      });

      it('an idle process exits: a cleared wake-up holds nothing; a set one holds the loop', () => {
        const { pair } = net;
        const run = (arg: string) =>
          spawnSync(
            'ip',
            [
              'netns',
              'exec',
              pair.devNs,
              process.execPath,
              tsx,
              idleExit,
              pair.devIf,
              arg,
              mode.options.mode!,
            ],
            {
              encoding: 'utf8',
              timeout: 30_000,
            },
          );
        const cleared = run('clear');
        expect(cleared.status).toBe(0);
        expect(cleared.stdout.trim().split('\n')).toEqual(['exit']);
        const held = run('keep');
        expect(held.status).toBe(0);
        expect(held.stdout.trim().split('\n')).toEqual(['still alive', 'exit']);
      });
    },
  );
}

describePrivileged(
  'partial checksums from a kernel peer with offloads on (af_packet)',
  missingNetnsSupport,
  () => {
    it('completes them, so the stack sees valid checksums', async () => {
      const pair = createPair({ offloads: true });
      const device = new RawDevice({ interfaceName: pair.devIf, netns: pair.devNs });
      const sender = pair.spawn('peer', 'sh', [
        '-c',
        `for i in $(seq 1 50); do echo partial-$i; sleep 0.1; done | socat -u STDIN UDP4-SENDTO:${pair.devIp}:7003`,
      ]);
      try {
        const devMac = mac(pair.devMac);
        const datagram = await untilFrame(
          device,
          (f) => {
            const a = parseArp(f);
            if (a?.op === 1 && a.targetIp === pair.devIp) {
              const reply = arpRequest(devMac, ip(pair.devIp), ip(a.senderIp));
              reply.set(mac(a.senderMac), 0);
              reply[21] = 2;
              reply.set(mac(a.senderMac), 32);
              device.send(reply);
              device.flush();
              return undefined;
            }
            const p = parseIpv4(f);
            return p?.protocol === 17 ? p : undefined;
          },
          10_000,
        );
        expect(transportChecksum(datagram)).toBe(0);
        expect(device.stats().rxPartialChecksums).toBeGreaterThan(0);
      } finally {
        sender.kill();
        device.close();
        pair.down();
      }
    });
  },
);
