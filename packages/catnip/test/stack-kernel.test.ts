// catnip's whole stack against the Linux kernel: net_af_packet on one end of a
// veth pair, the kernel (ping, Python sockets) in the other namespace.
import { execFileSync } from 'node:child_process';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipLibOS } from '../src/index.js';
import { missingNetnsDpdk } from './helpers.js';
import { startPeer } from './kernel-peer.js';
import { kernelScenarios } from './kernel-scenarios.js';

describePrivileged(
  'catnip stack against the Linux kernel over net_af_packet',
  missingNetnsDpdk,
  () => {
    const net = useNetnsPair();
    const track = failOnInternalErrors();
    let libos: CatnipLibOS;
    beforeAll(() => {
      const { pair } = net;
      libos = track(
        new CatnipLibOS({
          config: { demikernel: { local_ipv4_addr: pair.devIp, prefix_length: 24 } },
          device: { vdevs: [`net_af_packet0,iface=${pair.devIf}`], netns: pair.devNs },
        }),
      );
    });
    afterAll(async () => {
      await libos?.shutdown();
    });
    kernelScenarios({
      pair: () => net.pair,
      libos: () => libos,
      bulkBytes: 100 * 2 ** 20,
      pings: 3,
      minReplies: 3,
      timeoutMs: 30_000,
    });

    // Last: it shuts the LibOS down.
    it('shutdown resets what is still open or closing before the port closes: the kernel keeps no half of it', async () => {
      const { pair } = net;
      const port = 41000 + Math.floor(Math.random() * 10000);
      const peer = startPeer(pair, ['hold', pair.peerIp, String(port)]);
      try {
        await peer.ready;
        const hello = { segments: [new TextEncoder().encode('hello')] };
        const open = libos.socket(AF_INET, SOCK_STREAM);
        const closing = libos.socket(AF_INET, SOCK_STREAM);
        for (const qd of [open, closing]) {
          const c = await libos.wait(libos.connect(qd, { address: pair.peerIp, port }), 30_000);
          expect(c.opcode).toBe(Opcode.CONNECT);
          expect((await libos.wait(libos.push(qd, hello), 30_000)).opcode).toBe(Opcode.PUSH);
        }
        // Our FIN goes out; the kernel side keeps its half open (CLOSE-WAIT).
        expect((await libos.wait(libos.asyncClose(closing), 30_000)).opcode).toBe(Opcode.CLOSE);
        const states = () =>
          execFileSync('ip', [
            'netns',
            'exec',
            pair.peerNs,
            'ss',
            '-Htan',
            'state',
            'all',
            `sport = :${port}`,
          ])
            .toString()
            .split('\n')
            .map((line) => line.trim().split(/\s+/)[0])
            .filter((state) => state !== undefined && state !== '' && state !== 'LISTEN');
        expect(states().sort()).toEqual(['CLOSE-WAIT', 'ESTAB']);
        await libos.shutdown();
        let left = states();
        for (let i = 0; i < 50 && left.length > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          left = states();
        }
        expect(left).toEqual([]);
      } finally {
        peer.child.kill();
      }
    });
  },
);
