// inetstack's FrameDevice contract on a DPDK port (net_af_packet on one end of
// a veth pair), with the kernel on the other end answering ARP.
import { describePrivileged } from '@demi/core/testing';
import { runDeviceConformance } from '@demi/inetstack/testing';
import { afterAll, beforeAll } from 'vitest';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipDevice, retainEal } from '../src/index.js';
import { missingNetnsDpdk } from './helpers.js';

describePrivileged('catnip port: the FrameDevice contract', missingNetnsDpdk, () => {
  const net = useNetnsPair();
  const open = () =>
    new CatnipDevice({
      vdevs: [`net_af_packet0,iface=${net.pair.devIf}`],
      netns: net.pair.devNs,
    });
  let release: (() => void) | undefined;
  beforeAll(() => {
    // Each scenario opens and closes its own port: the EAL starts once per process.
    const first = open();
    release = retainEal();
    first.close();
  });
  afterAll(() => release?.());

  runDeviceConformance({
    name: 'catnip net_af_packet',
    async open() {
      const device = open();
      return {
        device,
        localIp: net.pair.devIp,
        peerIp: net.pair.peerIp,
        async teardown() {
          device.close();
        },
      };
    },
  });
});
