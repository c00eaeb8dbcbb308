// inetstack's FrameDevice contract on the raw device, with the kernel in the
// peer namespace answering ARP.
import { describePrivileged } from '@demi/core/testing';
import { runDeviceConformance } from '@demi/inetstack/testing';
import { missingNetnsSupport } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { RawDevice } from '../src/index.js';
import { MODE_CASES } from './helpers.js';

for (const mode of MODE_CASES) {
  describePrivileged(
    `raw device (${mode.title}): the FrameDevice contract`,
    () => missingNetnsSupport() ?? mode.missing(),
    () => {
      const net = useNetnsPair();
      runDeviceConformance({
        name: `catpowder ${mode.title}`,
        async open() {
          const { pair } = net;
          const device = new RawDevice({
            interfaceName: pair.devIf,
            netns: pair.devNs,
            ...mode.options,
          });
          return {
            device,
            localIp: pair.devIp,
            peerIp: pair.peerIp,
            async teardown() {
              device.close();
            },
          };
        },
      });
    },
  );
}
