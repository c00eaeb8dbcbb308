// The same scenarios against the Linux kernel with @demi/inetstack's
// FaultDevice between the stack and the DPDK port, dropping 1% of frames in
// each direction (seeded): TCP must recover and every byte arrive intact.
import { describePrivileged } from '@demi/core/testing';
import { FaultDevice } from '@demi/inetstack';
import { failOnInternalErrors } from '@demi/inetstack/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { type CatnipDevice, CatnipLibOS } from '../src/index.js';
import { missingNetnsDpdk } from './helpers.js';
import { kernelScenarios } from './kernel-scenarios.js';

describePrivileged(
  'catnip stack against the Linux kernel with 1% frame loss',
  missingNetnsDpdk,
  () => {
    const net = useNetnsPair();
    const track = failOnInternalErrors();
    let libos: CatnipLibOS;
    let faults: FaultDevice;
    beforeAll(() => {
      const { pair } = net;
      libos = track(
        new CatnipLibOS({
          config: { demikernel: { local_ipv4_addr: pair.devIp, prefix_length: 24 } },
          device: { vdevs: [`net_af_packet0,iface=${pair.devIf}`], netns: pair.devNs },
          wrap: (port) => {
            faults = new FaultDevice(port, { seed: 4242, dropPct: 1 });
            return faults;
          },
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
      pings: 10,
      minReplies: 7,
      timeoutMs: 60_000,
    });
    it('dropped frames on the way (the faults were real)', () => {
      expect(faults.stats.dropped).toBeGreaterThan(100);
      expect(faults.stats.passed).toBeGreaterThan(100_000);
    });
    it('the port took the data segments in parts, straight into its transmit slots', () => {
      // 100 MiB went up in segments of at most one MSS: all of them in parts.
      expect((faults.inner as CatnipDevice).stats().txFramesInParts).toBeGreaterThan(
        (100 * 2 ** 20) / 1460,
      );
    });
  },
);
