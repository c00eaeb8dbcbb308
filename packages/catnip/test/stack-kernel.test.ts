// catnip's whole stack against the Linux kernel: net_af_packet on one end of a
// veth pair, the kernel (ping, Python sockets) in the other namespace.
import { describePrivileged } from '@demi/core/testing';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import { afterAll, beforeAll } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipLibOS } from '../src/index.js';
import { missingNetnsDpdk } from './helpers.js';
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
  },
);
